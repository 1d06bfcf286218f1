import type { IncomingMessage, ServerResponse } from "node:http";
import { POST as recordFills } from "../../app/api/v1/executions/route";
import { POST as submitIntent } from "../../app/api/v1/intents/route";
import { POST as recordMarket } from "../../app/api/v1/market/route";
import { AppError } from "../errors";
import { FAST_REQUEST, MAX_BODY_BYTES, RAW_JSON } from "./route";

type RouteHandler = (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>;

/**
 * The hot ingestion endpoints (intents, fills, market data), served by the very same route
 * handlers but without Next's router, whose per-request cost (about 0.7 ms here) would cap the
 * API at about 1,300 calls a second. Everything else goes through Next.
 */
const routes = new Map<string, RouteHandler>([
  ["POST /api/v1/intents", submitIntent],
  ["POST /api/v1/executions", recordFills],
  ["POST /api/v1/market", recordMarket],
]);

const noParams = { params: Promise.resolve({}) };

const INTERNAL = JSON.stringify({ type: "/problems/internal", title: "Internal server error", status: 500, code: "internal", detail: "An unexpected error occurred." });
const TOO_LARGE = JSON.stringify({ type: "/problems/payload-too-large", title: "Payload too large", status: 413, code: "payload_too_large", detail: `the body may be at most ${MAX_BODY_BYTES} bytes` });

/**
 * What the route wrapper reads of a request (`headers.get`, `url`, `method`, `text()`), over the
 * Node request: a web `Request` (header copies, a body stream) costs more than the rest of an
 * intent's HTTP path. The body is read only when the wrapper asks for it — after it has
 * authenticated and authorized the caller from the headers — and at most MAX_BODY_BYTES of it:
 * past the limit reading stops and the answer is 413.
 */
class NodeRequest {
  readonly [FAST_REQUEST] = true;
  readonly headers: { get(name: string): string | null };
  readonly url: string;
  readonly method: string;
  private body: Promise<string> | null = null;

  constructor(private readonly request: IncomingMessage) {
    const raw = request.headers;
    this.headers = {
      get(name: string): string | null {
        const value = raw[name.toLowerCase()];
        return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
      },
    };
    this.url = `http://${raw.host ?? "localhost"}${request.url}`;
    this.method = request.method ?? "POST";
  }

  /** Whether the whole body was read (else the connection is closed after the answer). */
  get complete(): boolean {
    return this.request.complete;
  }

  text(): Promise<string> {
    return (this.body ??= readLimited(this.request));
  }
}

function readLimited(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      request.off("data", onData);
      request.off("end", onEnd);
      request.off("error", onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) return void chunks.push(chunk);
      done();
      request.pause();
      reject(new AppError("payload_too_large", `the body may be at most ${MAX_BODY_BYTES} bytes`));
    };
    const onEnd = () => {
      done();
      resolve((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString("utf8"));
    };
    const onError = (error: Error) => {
      done();
      reject(error);
    };
    request.on("data", onData);
    request.on("end", onEnd);
    request.on("error", onError);
  });
}

/** Serves `request` if it is one of the hot routes; false to let Next have it. */
export function serveFast(request: IncomingMessage, response: ServerResponse): boolean {
  const path = request.url?.split("?")[0];
  const handler = routes.get(`${request.method} ${path}`);
  if (!handler) return false;
  if (Number(request.headers["content-length"] ?? 0) > MAX_BODY_BYTES) {
    // Refused from its announced length, unread.
    answer(request, response, 413, { "content-type": "application/problem+json" }, TOO_LARGE);
    return true;
  }
  const webRequest = new NodeRequest(request);
  request.on("error", () => response.destroy());
  void handler(webRequest as unknown as Request, noParams).then(
    async (result) => {
      const raw = (result as Response & { [RAW_JSON]?: string })[RAW_JSON];
      answer(request, response, result.status, Object.fromEntries(result.headers), raw ?? Buffer.from(await result.arrayBuffer()));
    },
    () => answer(request, response, 500, { "content-type": "application/problem+json" }, INTERNAL),
  );
  return true;
}

/** How long a body refused before it was read (401, 403, 413) may go on arriving after the answer. */
const LINGER_MS = 2_000;

/**
 * Writes the answer. When the body was left unread (refused from the headers, or cut off at the
 * limit), the rest is discarded as it arrives, never held, and the answer is sent whole (its
 * length stated) but the exchange ends only once the client has stopped sending, or LINGER_MS
 * later, closing the connection: ending it at once would close the socket under a client still
 * writing, and the reset could lose the answer before the client reads it.
 */
function answer(request: IncomingMessage, response: ServerResponse, status: number, headers: Record<string, string>, body: string | Buffer): void {
  if (request.complete) {
    response.writeHead(status, headers);
    response.end(body);
    return;
  }
  response.writeHead(status, { ...headers, "content-length": String(Buffer.byteLength(body)), connection: "close" });
  response.write(body);
  const finish = () => {
    clearTimeout(timer);
    if (!response.writableEnded) response.end();
  };
  const timer = setTimeout(finish, LINGER_MS);
  timer.unref();
  request.once("end", finish);
  request.once("close", finish);
  request.resume();
}
