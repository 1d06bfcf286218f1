import fs from "node:fs";
import readline from "node:readline";
import { EngineEvent, upgradeStoredEvent } from "./engine/events";
import type { LedgerRecord } from "./ledger";

/**
 * The NDJSON form of the event stream, the same the ledger exports and replay reads: one event
 * a line, `{"seq":…,"ts":"<ISO 8601 event time>","type":"…","payload":{…}}`, where `payload` is
 * the event without its `type` and time.
 */
export function toNdjsonLine(record: Pick<LedgerRecord, "seq" | "event">): string {
  const { type, at, ...payload } = record.event;
  return JSON.stringify({ seq: record.seq, ts: new Date(at).toISOString(), type, payload });
}

export class EventLineError extends Error {}

/** Parses one NDJSON line back into a record; the error says what is wrong with it. */
export function fromNdjsonLine(line: string): { seq: number; event: EngineEvent } {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (error) {
    throw new EventLineError(`not JSON: ${(error as Error).message}`);
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw new EventLineError("not a JSON object");
  const { seq, ts, type, payload } = raw as Record<string, unknown>;
  if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 1) throw new EventLineError("seq: a positive integer is required");
  const at = typeof ts === "string" ? Date.parse(ts) : Number.NaN;
  if (!Number.isFinite(at)) throw new EventLineError("ts: an ISO 8601 time is required");
  if (!payload || typeof payload !== "object" || Array.isArray(payload)) throw new EventLineError("payload: an object is required");
  const parsed = EngineEvent.safeParse(upgradeStoredEvent({ ...payload, type, at }));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new EventLineError(`${issue.path.length ? issue.path.join(".") : "event"}: ${issue.message}`);
  }
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
