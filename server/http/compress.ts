import type { IncomingMessage, ServerResponse } from "node:http";
import compression from "compression";

/**
 * Streams that must reach the client as they are written, whole lines at once: the NDJSON
 * exports (a ledger, a backtest's) and server-sent events. They go out uncompressed.
 */
const STREAMED = /^(application\/(x-)?ndjson|text\/event-stream)\b/i;

/**
 * Text compression (gzip, or Brotli when the browser prefers it) of what Next serves: pages,
 * React Server Component payloads, scripts, styles and the API's JSON answers of 1 KiB or more. Next
 * flushes the compressor after each chunk of a streamed page, so a page still arrives as it
 * renders. Socket.IO never comes here (its engine answers its own paths, and WebSockets are
 * upgrades), nor do the fast ingestion endpoints (small answers, on the hot path).
 */
export function textCompression(): (request: IncomingMessage, response: ServerResponse, next: () => void) => void {
  const compress = compression({
    filter: (request, response) => {
      const type = response.getHeader("content-type");
      // Next hands a route handler's headers over as arrays, which the default filter takes for
      // "not compressible" (why Next's own compression left the API's JSON as it was): one value.
      if (Array.isArray(type)) response.setHeader("content-type", type.join(", "));
      return !STREAMED.test(String(response.getHeader("content-type") ?? "")) && compression.filter(request, response);
    },
  });
  // The middleware is typed for Express's request and response; it uses only Node's.
  return (request, response, next) => compress(request as Parameters<typeof compress>[0], response as Parameters<typeof compress>[1], next);
}
