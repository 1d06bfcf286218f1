// A lean HTTP/1.1 client for the benchmarks' load: keep-alive connections over node:net, one
// request in flight per connection, the request written in one piece, the answer parsed by
// hand (Content-Length or chunked). The client shares the machine's CPUs with the server it
// measures: http.request costs several times more CPU per call (ClientRequest, the agent,
// llhttp, IncomingMessage and their streams), time that the server under test then lacks.
import net from "node:net";
import type { Answer as ApiAnswer } from "../../components/api-contract";
import type { operations } from "../../components/api-schema";

export type Answer = { status: number; body: string };

/** A success answer's body, typed as the OpenAPI document types the operation (components/api-schema.d.ts). */
export function bodyOf<Id extends keyof operations>(_operation: Id, answer: Answer): ApiAnswer<Id> {
  return JSON.parse(answer.body) as ApiAnswer<Id>;
}

type Pending = { resolve: (answer: Answer) => void; reject: (error: Error) => void };

const HEADERS_END = Buffer.from("\r\n\r\n");

/** One keep-alive connection; `request` must not be called again before its answer. */
class Connection {
  private readonly socket: net.Socket;
  private buffer: Buffer = Buffer.alloc(0);
  private pending: Pending | null = null;
  private failed: Error | null = null;
  closed = false;
  /** When it was last put back idle (performance.now()). */
  idleSince = 0;

  constructor(port: number) {
    this.socket = net.connect({ host: "127.0.0.1", port, noDelay: true });
    this.socket.on("data", (chunk: Buffer) => this.receive(chunk));
    this.socket.on("error", (error) => this.fail(error));
    this.socket.on("close", () => this.fail(new Error("the server closed the connection")));
  }

  request(head: string, body: string | undefined): Promise<Answer> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.socket.write(body === undefined ? head : head + body);
    });
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private fail(error: Error): void {
    this.closed = true;
    this.failed ??= error;
    const pending = this.pending;
    this.pending = null;
    pending?.reject(error);
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const end = this.buffer.indexOf(HEADERS_END);
    if (end < 0) return;
    const head = this.buffer.toString("latin1", 0, end);
    const status = Number(head.slice(9, 12));
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    const bodyStart = end + HEADERS_END.length;
    let body: string;
    let consumed: number;
    if (length) {
      consumed = bodyStart + Number(length[1]);
      if (this.buffer.length < consumed) return;
      body = this.buffer.toString("utf8", bodyStart, consumed);
    } else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
      const decoded = dechunk(this.buffer, bodyStart);
      if (!decoded) return;
      ({ body, consumed } = decoded);
    } else {
      this.fail(new Error(`an answer without Content-Length or chunked encoding: ${head.split("\r\n")[0]}`));
      return;
    }
    this.buffer = this.buffer.subarray(consumed);
    const pending = this.pending;
    this.pending = null;
    if (/\r\nconnection: *close/i.test(head)) this.close();
    pending?.resolve({ status, body });
  }
}

/** A chunked body that has fully arrived, and where it ends; null while it has not. */
function dechunk(buffer: Buffer, from: number): { body: string; consumed: number } | null {
  const parts: Buffer[] = [];
  let at = from;
  for (;;) {
    const lineEnd = buffer.indexOf("\r\n", at);
    if (lineEnd < 0) return null;
    const size = parseInt(buffer.toString("latin1", at, lineEnd), 16);
    if (size === 0) {
      const trailerEnd = buffer.indexOf("\r\n", lineEnd + 2);
      if (trailerEnd < 0) return null;
      return { body: Buffer.concat(parts).toString("utf8"), consumed: trailerEnd + 2 };
    }
    if (buffer.length < lineEnd + 2 + size + 2) return null;
    parts.push(buffer.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}

/** How long a connection may sit idle and still be reused: under the server's keep-alive timeout (5 s). */
const MAX_IDLE_MS = 4_000;

/** Keep-alive connections to a server on 127.0.0.1, opened as needed and reused. */
export class HttpClient {
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();

  constructor(
    private readonly port: number,
    private readonly token: string,
  ) {}

  async request(method: string, route: string, body?: unknown): Promise<Answer> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const head =
      `${method} ${route} HTTP/1.1\r\nhost: 127.0.0.1:${this.port}\r\nauthorization: Bearer ${this.token}\r\n` +
      (payload === undefined ? "\r\n" : `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(payload)}\r\n\r\n`);
    let connection = this.idle.pop();
    // One idle for longer than the server keeps it (Node's keepAliveTimeout, 5 s) may be closing
    // under the request: closed here instead, and a fresh one opened.
    while (connection && (connection.closed || performance.now() - connection.idleSince > MAX_IDLE_MS)) {
      this.all.delete(connection);
      connection.close();
      connection = this.idle.pop();
    }
    if (!connection) {
      connection = new Connection(this.port);
      this.all.add(connection);
    }
    try {
      const answer = await connection.request(head, payload);
      if (!connection.closed) {
        connection.idleSince = performance.now();
        this.idle.push(connection);
      }
      return answer;
    } catch (error) {
      this.all.delete(connection);
      connection.close();
      throw error;
    }
  }

  close(): void {
    for (const connection of this.all) connection.close();
    this.all.clear();
    this.idle.length = 0;
  }
}
