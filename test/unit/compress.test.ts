import http from "node:http";
import type { AddressInfo } from "node:net";
import zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { textCompression } from "@/server/http/compress";

const BIG_JSON = JSON.stringify({ rows: Array.from({ length: 200 }, (_, n) => ({ accountId: `acct-${n}`, state: "ACTIVE" })) });
let server: http.Server;
let base: string;
/** Resolved when the test lets the NDJSON stream write its second line. */
let releaseSecondLine: () => void = () => undefined;

beforeAll(async () => {
  const compress = textCompression();
  server = http.createServer((request, response) =>
    compress(request, response, () => {
      if (request.url === "/json") {
        // As Next hands a route handler's headers over: an array.
        response.setHeader("content-type", ["application/json"]);
        response.end(BIG_JSON);
      } else if (request.url === "/small") {
        response.setHeader("content-type", "application/json");
        response.setHeader("content-length", "11");
        response.end('{"ok":true}');
      } else {
        response.setHeader("content-type", "application/x-ndjson");
        response.write('{"seq":1}\n');
        new Promise<void>((resolve) => (releaseSecondLine = resolve)).then(() => response.end('{"seq":2}\n'));
      }
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function get(path: string): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => http.get(`${base}${path}`, { headers: { "accept-encoding": "gzip" } }, resolve).on("error", reject));
}

async function body(response: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe("text compression", () => {
  it("api_json_when_the_client_accepts_gzip_then_compressed", async () => {
    const response = await get("/json");
    expect(response.headers["content-encoding"]).toBe("gzip");
    expect(zlib.gunzipSync(await body(response)).toString()).toBe(BIG_JSON);
  });

  it("small_answer_when_under_a_kibibyte_then_sent_as_it_is", async () => {
    const response = await get("/small");
    expect(response.headers["content-encoding"]).toBeUndefined();
    expect((await body(response)).toString()).toBe('{"ok":true}');
  });

  it("ndjson_stream_when_written_line_by_line_then_uncompressed_and_each_line_arrives_at_once", async () => {
    const response = await get("/ndjson");
    expect(response.headers["content-encoding"]).toBeUndefined();
    // The first line arrives while the stream is still open.
    const first = await new Promise<string>((resolve) => response.once("data", (chunk: Buffer) => resolve(chunk.toString())));
    expect(first).toBe('{"seq":1}\n');
    releaseSecondLine();
    expect((await body(response)).toString()).toBe('{"seq":2}\n');
  });
});
