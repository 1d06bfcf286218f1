import type { IncomingMessage, ServerResponse } from "node:http";
import { POST as recordFills } from "../../app/api/v1/executions/route";
import { POST as submitIntent } from "../../app/api/v1/intents/route";
import { POST as recordMarket } from "../../app/api/v1/market/route";
import { MAX_BODY_BYTES, RAW_JSON } from "./route";

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
 * Node request and its body as read: a web `Request` (header copies, a body stream) costs more
 * than the rest of an intent's HTTP path.
 */
class NodeRequest {
  readonly headers: { get(name: string): string | null };
  readonly url: string;
  readonly method: string;

  constructor(request: IncomingMessage, private readonly body: Buffer) {
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

  async text(): Promise<string> {
    return this.body.toString("utf8");
  }
}

/** Serves `request` if it is one of the hot routes; false to let Next have it. */
export function serveFast(request: IncomingMessage, response: ServerResponse): boolean {
  const path = request.url?.split("?")[0];
  const handler = routes.get(`${request.method} ${path}`);
  if (!handler) return false;
  // A body over the limit is never held: what comes past it is read and dropped, and the answer
  // is 413 (at once when the length was announced; once the client has sent it otherwise).
  const tooLarge = () => {
    response.writeHead(413, { "content-type": "application/problem+json" });
    response.end(TOO_LARGE);
  };
  if (Number(request.headers["content-length"] ?? 0) > MAX_BODY_BYTES) {
    request.resume();
    tooLarge();
    return true;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  request.on("data", (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    else chunks.length = 0;
  });
  request.on("error", () => response.destroy());
  request.on("end", () => {
    if (size > MAX_BODY_BYTES) return tooLarge();
    const webRequest = new NodeRequest(request, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)) as unknown as Request;
    void handler(webRequest, noParams).then(
      async (answer) => {
        const raw = (answer as Response & { [RAW_JSON]?: string })[RAW_JSON];
        const body = raw ?? Buffer.from(await answer.arrayBuffer());
        response.writeHead(answer.status, Object.fromEntries(answer.headers));
        response.end(body);
      },
      () => {
        response.writeHead(500, { "content-type": "application/problem+json" });
        response.end(INTERNAL);
      },
    );
  });
  return true;
}
