// The floor of `npm run bench:api` (started by it as a child process, not meant to be run by
// hand): the least a durable intent gateway must do, to compare Riskgate with on the same machine
// and the same database. Plain node:http; POST /api/v1/intents with the bench's bearer token;
// the body through JSON.parse and the same zod `Intent` schema; then the intent is appended to
// the same ledger table, the same way Riskgate appends (`Ledger.append` through the writer's
// connection: one INSERT per batch, synchronous_commit on), as one `intent.received` event with
// its idempotency key, and answered after the commit. Group commit as in the runtime: the
// requests that arrive while a batch commits form the next batch (started on the next turn of
// the event loop, at most MAX_BATCH per append). No engine, no second event, no key lookup, no
// Next, no Socket.IO.
// Environment: FLOOR_TOKEN (the bearer token), FLOOR_DATA_DIR (a fresh embedded PostgreSQL) or
// FLOOR_DATABASE_URL (an external one), PORT (0: any free port). Prints
// "floor listening on http://127.0.0.1:<port>"; SIGTERM stops it (and its embedded PostgreSQL).
import http from "node:http";
import { openDatabase } from "../db/database";
import { migrate } from "../db/migrate";
import { Intent } from "../engine/intent";
import type { AppendEntry } from "../ledger";
import { Ledger, LedgerWriter } from "../ledger";

const MAX_BATCH = 512;
const MAX_BODY_BYTES = 64 * 1024;

type Waiting = { entry: AppendEntry; response: http.ServerResponse };

function answer(response: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  response.end(text);
}

async function main(): Promise<void> {
  const token = process.env.FLOOR_TOKEN;
  if (!token) throw new Error("FLOOR_TOKEN is required");
  const url = process.env.FLOOR_DATABASE_URL;
  const dataDir = process.env.FLOOR_DATA_DIR;
  if (!url && !dataDir) throw new Error("FLOOR_DATA_DIR or FLOOR_DATABASE_URL is required");
  const db = await openDatabase(url ? { kind: "postgresql", url } : { kind: "embedded", dataDir: dataDir! }, () => undefined);
  const writer = await LedgerWriter.acquire(db);
  await migrate(db);
  const ledger = new Ledger(db, writer);
  const authorization = `Bearer ${token}`;

  let queue: Waiting[] = [];
  let draining = false;
  const drain = async () => {
    try {
      while (queue.length > 0) {
        const batch = queue.length <= MAX_BATCH ? queue : queue.slice(0, MAX_BATCH);
        queue = queue.length <= MAX_BATCH ? [] : queue.slice(MAX_BATCH);
        try {
          const records = await ledger.append(batch.map((waiting) => waiting.entry));
          batch.forEach((waiting, index) => answer(waiting.response, 200, { seq: records[index]!.seq, recordedAt: records[index]!.recordedAt }));
        } catch {
          for (const waiting of batch) answer(waiting.response, 503, { code: "storage_unavailable" });
        }
      }
    } finally {
      draining = false;
    }
  };
  const enqueue = (waiting: Waiting) => {
    queue.push(waiting);
    if (draining) return;
    draining = true;
    // As the runtime does: the batch starts on the next turn, so that requests arriving together share one commit.
    setImmediate(() => void drain());
  };

  const server = http.createServer((request, response) => {
    if (request.method !== "POST" || request.url !== "/api/v1/intents") return answer(response, 404, { code: "not_found" });
    if (request.headers.authorization !== authorization) return answer(response, 401, { code: "unauthenticated" });
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    request.on("error", () => response.destroy());
    request.on("end", () => {
      if (size > MAX_BODY_BYTES) return answer(response, 413, { code: "payload_too_large" });
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        return answer(response, 400, { code: "invalid_json" });
      }
      const parsed = Intent.safeParse(body);
      if (!parsed.success) return answer(response, 422, { code: "validation_failed", issues: parsed.error.issues });
      const intent = parsed.data;
      enqueue({
        entry: { event: { type: "intent.received", at: Date.now(), intent }, idempotencyKey: `intent:${intent.accountId}:${intent.intentId}` },
        response,
      });
    });
  });
  server.keepAliveTimeout = 60_000;

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await writer.close();
    await db.close();
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop());
  process.once("SIGINT", () => void stop());

  await new Promise<void>((resolve) => server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", resolve));
  const address = server.address();
  console.log(`floor listening on http://127.0.0.1:${typeof address === "object" && address ? address.port : 0} (${db.kind})`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
