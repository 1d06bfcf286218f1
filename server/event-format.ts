import { EngineEvent } from "./engine/events";
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
  const parsed = EngineEvent.safeParse({ ...payload, type, at });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new EventLineError(`${issue.path.length ? issue.path.join(".") : "event"}: ${issue.message}`);
  }
  return { seq, event: parsed.data };
}
