import type { Database } from "../db/database";
import { streamOf } from "../engine/events";
import type { AppendEntry, LedgerRecord } from "../ledger";
import { Ledger } from "../ledger";

/**
 * Events after which the engine's next deadline (a daily reset, an automatic breaker reset) may
 * differ: everything else leaves it where it was until the clock reaches it.
 */
const CLOCK_EVENTS = new Set<string>([
  "config.applied",
  "account.opened",
  "preset.activated",
  "day.started",
  "breaker.tripped",
  "breaker.reset",
  "latency.observed",
  "execution.failed",
]);

/**
 * The ledger of a backtest: append-only, in memory, no database. It is a `Ledger` (every method
 * the runtime calls is overridden, the database is never touched), so the runtime takes it as it
 * is. Seqs run from 1 without gaps; `recordedAt` is the event's own time, so that two runs with
 * one seed hold identical records.
 */
export class MemoryLedger extends Ledger {
  private readonly records: LedgerRecord[] = [];
  private readonly keys = new Map<string, number>();
  /** How many events that move the engine's next clock deadline were appended (see `CLOCK_EVENTS`). */
  clockEvents = 0;

  constructor() {
    super(null as unknown as Database);
  }

  /** Every record, in order (the caller must not change them). */
  all(): readonly LedgerRecord[] {
    return this.records;
  }

  /** A backtest's ledger is its own: always writable, no lock to hold. */
  override get writable(): boolean {
    return true;
  }

  override async append(entries: readonly AppendEntry[]): Promise<LedgerRecord[]> {
    for (const entry of entries) {
      if (entry.idempotencyKey !== undefined && this.keys.has(entry.idempotencyKey)) {
        // As PostgreSQL's unique index says it: the runtime answers such an intent from the ledger.
        throw new Error(`the ledger already holds an event with key ${entry.idempotencyKey}`, {
          cause: { code: "23505", constraint: "ledger_events_idempotency_key_key" },
        });
      }
    }
    const appended = entries.map(({ event, idempotencyKey }) => {
      const seq = this.records.length + 1;
      const record: LedgerRecord = { seq, recordedAt: event.at, event };
      this.records.push(record);
      if (CLOCK_EVENTS.has(event.type)) this.clockEvents++;
      if (idempotencyKey !== undefined) this.keys.set(idempotencyKey, seq);
      return record;
    });
    return appended;
  }

  override async readAfter(afterSeq: number, limit: number, streamId?: string): Promise<LedgerRecord[]> {
    const out: LedgerRecord[] = [];
    for (let index = Math.max(0, afterSeq); index < this.records.length && out.length < limit; index++) {
      const record = this.records[index]!;
      if (streamId === undefined || streamOf(record.event) === streamId) out.push(record);
    }
    return out;
  }

  override async seqsOfKeys(keys: string[]): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    for (const key of keys) {
      const seq = this.keys.get(key);
      if (seq !== undefined) found.set(key, seq);
    }
    return found;
  }

  override async firstOfLast(streamId: string, type: string, n: number): Promise<number | null> {
    let first: number | null = null;
    let count = 0;
    for (let index = this.records.length - 1; index >= 0 && count < n; index--) {
      const record = this.records[index]!;
      if (record.event.type !== type || streamOf(record.event) !== streamId) continue;
      first = record.seq;
      count++;
    }
    return first;
  }

  override async lastSeq(): Promise<number> {
    return this.records.length;
  }

  override async ping(): Promise<void> {}
}
