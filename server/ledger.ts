import type { Database } from "./db/database";
import { EngineEvent, streamOf } from "./engine/events";
import { AppError } from "./errors";

/** An event to append; the key makes a retried append detectable (unique in the ledger). */
export type AppendEntry = { event: EngineEvent; idempotencyKey?: string };

/** An event as committed: its processing order and when the ledger recorded it. */
export type LedgerRecord = { seq: number; recordedAt: string; event: EngineEvent };

type Row = { seq: bigint; type: string; payload: unknown; recordedAt: Date };

function toRecord(row: Row): LedgerRecord {
  const parsed = EngineEvent.safeParse(row.payload);
  // A stored event that no longer parses is the server's fault, never the caller's (500, not 422).
  if (!parsed.success) throw new Error(`ledger row ${row.seq} does not parse as an event: ${parsed.error.message}`);
  const event = parsed.data;
  if (event.type !== row.type) throw new Error(`ledger row ${row.seq} has type ${row.type} but holds ${event.type}`);
  return { seq: Number(row.seq), recordedAt: row.recordedAt.toISOString(), event };
}

const columns = { seq: true, type: true, payload: true, recordedAt: true } as const;

/** Any failure to reach storage surfaces as `storage_unavailable` (503): callers fail closed. */
async function storage<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw new AppError("storage_unavailable", `the ledger is unavailable (${what}); nothing was recorded`, [], {
      cause: error,
    });
  }
}

/**
 * The append-only ledger. `append` commits all of its events atomically, in order, or none;
 * an idempotency key (on the first event of the batch) makes a retried append a no-op.
 */
export class Ledger {
  constructor(private readonly db: Database) {}

  /**
   * Appends `entries` in order, atomically (one statement: all or none), and returns them as
   * committed. The runtime hands over a whole batch of commands' events at once (group commit),
   * so one round trip carries many events.
   */
  async append(entries: readonly AppendEntry[]): Promise<LedgerRecord[]> {
    if (entries.length === 0) return [];
    const rows = entries.map(({ event, idempotencyKey }) => ({
      stream_id: streamOf(event),
      type: event.type,
      payload: event,
      idempotency_key: idempotencyKey ?? null,
    }));
    const inserted = await storage("append", () =>
      this.db.prisma.$queryRawUnsafe<{ seq: bigint; recorded_at: Date }[]>(
        `INSERT INTO "ledger_events" ("stream_id", "type", "payload", "idempotency_key")
         SELECT x.item->>'stream_id', x.item->>'type', x.item->'payload', x.item->>'idempotency_key'
         FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(item, ord)
         ORDER BY x.ord
         RETURNING "seq", "recorded_at"`,
        JSON.stringify(rows),
      ),
    );
    if (inserted.length !== entries.length) throw new Error(`appended ${entries.length} events but ${inserted.length} rows came back`);
    // Sequence values are drawn in the SELECT's order, so the i-th smallest seq is the i-th entry.
    inserted.sort((a, b) => (a.seq < b.seq ? -1 : 1));
    return inserted.map((row, index) => ({
      seq: Number(row.seq),
      recordedAt: new Date(row.recorded_at).toISOString(),
      event: entries[index]!.event,
    }));
  }

  /** Events with seq greater than `afterSeq`, in order, at most `limit`. */
  async readAfter(afterSeq: number, limit: number, streamId?: string): Promise<LedgerRecord[]> {
    const rows = await storage("read", () => this.db.prisma.ledgerEvent.findMany({
      where: { seq: { gt: BigInt(afterSeq) }, ...(streamId ? { streamId } : {}) },
      orderBy: { seq: "asc" },
      take: limit,
      select: columns,
    }));
    return rows.map(toRecord);
  }

  /** Every event after `afterSeq` (default: all) in order, page by page. */
  async *readAll(pageSize = 5000, afterSeq = 0): AsyncGenerator<LedgerRecord> {
    let after = afterSeq;
    for (;;) {
      const page = await this.readAfter(after, pageSize);
      yield* page;
      if (page.length < pageSize) return;
      after = page[page.length - 1]!.seq;
    }
  }

  /** The seq of the event carrying each of `keys` that the ledger holds. */
  async seqsOfKeys(keys: string[]): Promise<Map<string, number>> {
    const rows = await storage("lookup", () =>
      this.db.prisma.ledgerEvent.findMany({ where: { idempotencyKey: { in: keys } }, select: { seq: true, idempotencyKey: true } }),
    );
    return new Map(rows.map((row) => [row.idempotencyKey!, Number(row.seq)]));
  }

  /** The seq of the earliest of the last `n` events of `type` in a stream; null when it has none. */
  async firstOfLast(streamId: string, type: string, n: number): Promise<number | null> {
    const rows = await storage("read", () =>
      this.db.prisma.$queryRawUnsafe<{ seq: bigint | null }[]>(
        `SELECT min("seq") AS "seq" FROM (SELECT "seq" FROM "ledger_events" WHERE "stream_id" = $1 AND "type" = $2 ORDER BY "seq" DESC LIMIT $3) AS recent`,
        streamId,
        type,
        n,
      ),
    );
    return rows[0]?.seq == null ? null : Number(rows[0].seq);
  }

  /** The last `limit` events of a stream before `beforeSeq`, newest first. */
  async streamBefore(streamId: string, beforeSeq: number, limit: number): Promise<LedgerRecord[]> {
    const rows = await storage("read", () => this.db.prisma.ledgerEvent.findMany({
      where: { streamId, seq: { lt: BigInt(beforeSeq) } },
      orderBy: { seq: "desc" },
      take: limit,
      select: columns,
    }));
    return rows.map(toRecord);
  }

  /** The deal memo recorded for an intent after `afterSeq` (its decision), if any. */
  async memoAfter(accountId: string, intentId: string, afterSeq: number): Promise<LedgerRecord | null> {
    const rows = await storage("read", () =>
      this.db.prisma.$queryRawUnsafe<Row[]>(
        `SELECT "seq", "stream_id" AS "streamId", "type", "payload", "recorded_at" AS "recordedAt" FROM "ledger_events"
         WHERE "stream_id" = $1 AND "type" = 'advisory.memo' AND "seq" > $2 AND "payload"->>'intentId' = $3 ORDER BY "seq" LIMIT 1`,
        accountId,
        BigInt(afterSeq),
        intentId,
      ),
    );
    // Raw rows carry the time as the driver gives it (a Date or a string).
    return rows[0] ? toRecord({ ...rows[0], recordedAt: new Date(rows[0].recordedAt) }) : null;
  }

  /** The seq of the last committed event; 0 for an empty ledger. */
  async lastSeq(): Promise<number> {
    const rows = await storage("read", () => this.db.prisma.$queryRawUnsafe<{ seq: bigint | null }[]>(`SELECT max("seq") AS "seq" FROM "ledger_events"`));
    return Number(rows[0]?.seq ?? 0);
  }

  async ping(): Promise<void> {
    await this.db.prisma.$queryRawUnsafe("SELECT 1");
  }
}
