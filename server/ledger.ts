import type { Database } from "./db/database";
import { Prisma } from "./db/generated/client";
import { EngineEvent, streamOf } from "./engine/events";
import { AppError } from "./errors";

/** An event as committed: its processing order and when the ledger recorded it. */
export type LedgerRecord = { seq: number; recordedAt: string; event: EngineEvent };

type Row = { seq: bigint; type: string; payload: unknown; recordedAt: Date };

function toRecord(row: Row): LedgerRecord {
  const event = EngineEvent.parse(row.payload);
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

  async append(events: EngineEvent[], idempotencyKey?: string): Promise<LedgerRecord[]> {
    const rows = await storage("append", () => this.db.prisma.ledgerEvent.createManyAndReturn({
      data: events.map((event, index) => ({
        streamId: streamOf(event),
        type: event.type,
        payload: event as Prisma.InputJsonObject,
        idempotencyKey: index === 0 ? idempotencyKey : undefined,
      })),
      select: columns,
    }));
    return rows.sort((a, b) => (a.seq < b.seq ? -1 : 1)).map(toRecord);
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

  /** Every event in order, page by page. */
  async *readAll(pageSize = 5000): AsyncGenerator<LedgerRecord> {
    let after = 0;
    for (;;) {
      const page = await this.readAfter(after, pageSize);
      yield* page;
      if (page.length < pageSize) return;
      after = page[page.length - 1]!.seq;
    }
  }

  async findByIdempotencyKey(key: string): Promise<LedgerRecord | null> {
    const row = await storage("lookup", () =>
      this.db.prisma.ledgerEvent.findUnique({ where: { idempotencyKey: key }, select: columns }),
    );
    return row ? toRecord(row) : null;
  }

  async ping(): Promise<void> {
    await this.db.prisma.$queryRawUnsafe("SELECT 1");
  }
}
