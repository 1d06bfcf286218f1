import fs from "node:fs";
import readline from "node:readline";
import { EngineEvent, upgradeStoredEvent } from "./engine/events";
import type { LedgerRecord } from "./ledger";

/**
 * The NDJSON form of the event stream, the same the ledger exports and replay reads: one ledger
 * record a line, in the shape of every ledger record of the API (`LedgerRecord`: a ledger page's
 * events, the stream's), `{"seq":…,"recordedAt":<epoch ms>,"event":{"type":"…","at":<epoch ms>,…}}`.
 */
export function toNdjsonLine(record: LedgerRecord): string {
  return JSON.stringify({ seq: record.seq, recordedAt: record.recordedAt, event: record.event });
}

export class EventLineError extends Error {}

const problemOf = (error: { issues: { path: PropertyKey[]; message: string }[] }, prefix: string) => {
  const issue = error.issues[0]!;
  return `${issue.path.length ? [prefix, ...issue.path].filter(Boolean).join(".") : prefix || "event"}: ${issue.message}`;
};

/**
 * Parses one NDJSON line back into a record; the error says what is wrong with it. Lines of
 * exports made before the one record shape (issue 19: `{seq, ts: "<ISO 8601>", type, payload}`,
 * `payload` the event without its type and time) are read too, so older files still replay.
 */
export function fromNdjsonLine(line: string): { seq: number; event: EngineEvent } {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (error) {
    throw new EventLineError(`not JSON: ${(error as Error).message}`);
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw new EventLineError("not a JSON object");
  const fields = raw as Record<string, unknown>;
  const { seq } = fields;
  if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 1) throw new EventLineError("seq: a positive integer is required");
  if (!("payload" in fields) && !("ts" in fields)) {
    const { recordedAt, event } = fields;
    if (typeof recordedAt !== "number" || !Number.isSafeInteger(recordedAt) || recordedAt < 0) throw new EventLineError("recordedAt: epoch milliseconds are required");
    if (!event || typeof event !== "object" || Array.isArray(event)) throw new EventLineError("event: an object is required");
    const parsed = EngineEvent.safeParse(event);
    if (!parsed.success) throw new EventLineError(problemOf(parsed.error, "event"));
    return { seq, event: parsed.data };
  }
  // The earlier line shape.
  const { ts, type, payload } = fields;
  const at = typeof ts === "string" ? Date.parse(ts) : Number.NaN;
  if (!Number.isFinite(at)) throw new EventLineError("ts: an ISO 8601 time is required");
  if (!payload || typeof payload !== "object" || Array.isArray(payload)) throw new EventLineError("payload: an object is required");
  const parsed = EngineEvent.safeParse(upgradeStoredEvent({ ...payload, type, at }));
  if (!parsed.success) throw new EventLineError(problemOf(parsed.error, ""));
  return { seq, event: parsed.data };
}

/**
 * Every record of an NDJSON file, in order; blank lines are skipped. A malformed line, or a seq
 * that does not follow the one before, throws an EventLineError naming the file, line and field.
 */
export async function readNdjsonFile(file: string): Promise<{ seq: number; event: EngineEvent }[]> {
  const records: { seq: number; event: EngineEvent }[] = [];
  const lines = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  let lineNumber = 0;
  let lastSeq = 0;
  for await (const line of lines) {
    lineNumber++;
    if (line.trim() === "") continue;
    try {
      const record = fromNdjsonLine(line);
      if (record.seq <= lastSeq) throw new EventLineError(`seq ${record.seq} does not follow ${lastSeq}`);
      lastSeq = record.seq;
      records.push(record);
    } catch (error) {
      if (error instanceof EventLineError) throw new EventLineError(`${file}:${lineNumber}: ${error.message}`);
      throw error;
    }
  }
  return records;
}
