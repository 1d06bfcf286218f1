import pg from "pg";
import type { Database } from "./db/database";
import { EngineEvent, streamOf, upgradeStoredEvent } from "./engine/events";
import { AppError } from "./errors";

/** An event to append; the key makes a retried append detectable (unique in the ledger). */
export type AppendEntry = { event: EngineEvent; idempotencyKey?: string };

/**
 * An event as committed: its processing order, when the ledger recorded it (epoch milliseconds,
 * UTC, as every time of the API) and the event. The one shape of a ledger record everywhere: the
 * paged ledger, its NDJSON export (a line each), the backtests' ledgers and the stream.
 */
export type LedgerRecord = { seq: number; recordedAt: number; event: EngineEvent };

type Row = { seq: bigint; type: string; payload: unknown; recordedAt: Date };

function toRecord(row: Row): LedgerRecord {
  const parsed = EngineEvent.safeParse(upgradeStoredEvent(row.payload));
  // A stored event that no longer parses is the server's fault, never the caller's (500, not 422).
  if (!parsed.success) throw new Error(`ledger row ${row.seq} does not parse as an event: ${parsed.error.message}`);
  const event = parsed.data;
  if (event.type !== row.type) throw new Error(`ledger row ${row.seq} has type ${row.type} but holds ${event.type}`);
  return { seq: Number(row.seq), recordedAt: row.recordedAt.getTime(), event };
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

/** The advisory lock (key pair) the deciding process holds for as long as it runs. */
const WRITER_LOCK = [72_183_300, 1] as const;
/** How long a start waits for the lock of a server that just died (its session ends). */
const WRITER_LOCK_WAIT_MS = 5_000;

const APPEND_SQL = `INSERT INTO "ledger_events" ("stream_id", "type", "payload", "idempotency_key")
  SELECT x.item->>'stream_id', x.item->>'type', x.item->'payload', x.item->>'idempotency_key'
  FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(item, ord)
  ORDER BY x.ord
  RETURNING "seq", "recorded_at"`;

/** Another process holds the database's writer lock. */
export class WriterLockHeld extends Error {}

/**
 * One writer per database: the deciding process holds a PostgreSQL advisory lock on a connection
 * of its own, and every append goes through that very connection. If the connection drops, the
 * lock goes with it; the next append reconnects and takes the lock again before it writes, so an
 * append never lands unless this process holds the lock at that moment (fencing). A second
 * server on the same database cannot start (see `acquire`).
 */
export class LedgerWriter {
  private client: pg.Client | null = null;
  private connecting: Promise<pg.Client> | null = null;

  private constructor(private readonly db: Database) {}

  /** Takes the writer lock, waiting briefly for a holder that just died; throws `WriterLockHeld` naming the holder. */
  static async acquire(db: Database, waitMs = WRITER_LOCK_WAIT_MS): Promise<LedgerWriter> {
    const writer = new LedgerWriter(db);
    const until = Date.now() + waitMs;
    for (;;) {
      try {
        writer.client = await writer.connect();
        return writer;
      } catch (error) {
        if (!(error instanceof WriterLockHeld) || Date.now() >= until) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client(this.db.connection);
    client.on("error", (error) => {
      console.error(`the ledger writer's connection was lost: ${error.message}`);
      if (this.client === client) this.client = null;
    });
    try {
      await client.connect();
      const [classId, objId] = WRITER_LOCK;
      const taken = await client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock($1, $2) AS locked", [classId, objId]);
      if (!taken.rows[0]?.locked) throw new WriterLockHeld(`another Riskgate server is deciding on this database (${await holder(client)}); one writer per database: stop it first`);
      // Durable acknowledgement: a commit returns once its WAL is flushed to disk, whatever the server's default.
      await client.query("SET synchronous_commit = on");
      return client;
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
  }

  private async writer(): Promise<pg.Client> {
    if (this.client) return this.client;
    this.connecting ??= this.connect().finally(() => (this.connecting = null));
    this.client = await this.connecting;
    return this.client;
  }

  /** Inserts the rows in one statement (one transaction, committed and flushed before it returns). */
  async insert(rowsJson: string): Promise<{ seq: string; recorded_at: Date }[]> {
    const client = await this.writer();
    const result = await client.query<{ seq: string; recorded_at: Date }>({ name: "ledger-append", text: APPEND_SQL, values: [rowsJson] });
    return result.rows;
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }
}

/** Who holds the writer lock, from pg_stat_activity (the holder's application_name names its process and host). */
async function holder(client: pg.Client): Promise<string> {
  const [classId, objId] = WRITER_LOCK;
  const result = await client.query<{ pid: number; application_name: string; client_addr: string | null; backend_start: Date }>(
    `SELECT a.pid, a.application_name, a.client_addr::text, a.backend_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
     WHERE l.locktype = 'advisory' AND l.classid = $1 AND l.objid = $2 AND l.objsubid = 2 AND l.granted LIMIT 1`,
    [classId, objId],
  );
  const row = result.rows[0];
  if (!row) return "the holder has just gone";
  return `held by ${row.application_name || "an unnamed client"}${row.client_addr ? ` from ${row.client_addr}` : ""}, connected since ${row.backend_start.toISOString()}, backend pid ${row.pid}`;
}

/**
 * The append-only ledger. `append` commits all of its events atomically, in order, or none;
 * reads go through the pool. Only a ledger given the writer appends.
 */
export class Ledger {
  constructor(
    private readonly db: Database,
    private readonly writer: LedgerWriter | null = null,
  ) {}

  /** Whether this ledger may append (it holds the database's writer lock). */
  get writable(): boolean {
    return this.writer !== null;
  }

  /**
   * Appends `entries` in order, atomically (one statement: all or none), and returns them as
   * committed: on disk (the writer's commits are synchronous). The runtime hands over a whole
   * batch of commands' events at once (group commit), so one round trip carries many events.
   */
  async append(entries: readonly AppendEntry[]): Promise<LedgerRecord[]> {
    if (entries.length === 0) return [];
    const writer = this.writer;
    if (!writer) throw new Error("this ledger is read-only: it was opened without the writer lock");
    const rows = entries.map(({ event, idempotencyKey }) => ({
      stream_id: streamOf(event),
      type: event.type,
      payload: event,
      idempotency_key: idempotencyKey ?? null,
    }));
    const inserted = await storage("append", () => writer.insert(JSON.stringify(rows)));
    if (inserted.length !== entries.length) throw new Error(`appended ${entries.length} events but ${inserted.length} rows came back`);
    // Sequence values are drawn in the SELECT's order, so the i-th smallest seq is the i-th entry.
    const seqs = inserted.map((row) => ({ seq: Number(row.seq), recordedAt: new Date(row.recorded_at).getTime() })).sort((a, b) => a.seq - b.seq);
    return seqs.map((row, index) => ({ seq: row.seq, recordedAt: row.recordedAt, event: entries[index]!.event }));
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
    const result = await storage("lookup", () =>
      this.db.pool.query<{ seq: string; idempotency_key: string }>({
        name: "ledger-keys",
        text: `SELECT "seq", "idempotency_key" FROM "ledger_events" WHERE "idempotency_key" = ANY($1::text[])`,
        values: [keys],
      }),
    );
    return new Map(result.rows.map((row) => [row.idempotency_key, Number(row.seq)]));
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
