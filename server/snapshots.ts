import { promisify } from "node:util";
import { createGzip, gunzip as gunzipCallback } from "node:zlib";
import type { Database } from "./db/database";
import { LazyArray, SNAPSHOT_FORMAT, decodeState, decodeValue, encodeStateLazily, encodeValue } from "./engine/snapshot";
import type { EngineState } from "./engine/state";
import { yieldToLoop } from "./slices";

const gunzip = promisify(gunzipCallback);

/** Snapshots kept: the newest few, so that one unreadable snapshot still leaves an older one. */
const KEPT = 3;

export type StoredSnapshot = {
  /** The ledger seq of the last event folded into `state`. */
  readonly seq: number;
  readonly state: EngineState;
  /** What the shell keeps beside the state at that seq (plain data, Maps and any numbers included). */
  readonly extras: Record<string, unknown>;
};

/**
 * The engine state folded up to a ledger seq, stored as gzip'd JSON in `state_snapshots`, so a
 * start folds only the ledger's tail. A snapshot is a cache of the ledger: one that cannot be
 * read is skipped (with a warning) for an older one, or for none (fold from the start).
 */
export class SnapshotStore {
  constructor(
    private readonly db: Database,
    private readonly warn: (message: string) => void = console.warn,
  ) {}

  /**
   * Stores the state at `seq` (replacing one stored at the same seq) and keeps only the newest few.
   * A large book is encoded, written out as JSON and gzip'd a slice at a time, `pause()` awaited
   * between slices (the event loop keeps deciding meanwhile; the gzip runs off the loop), and
   * stored as parts of at most `PART_BYTES` in one transaction, `partGap()` awaited after each:
   * no step handles the whole snapshot at once but the final concatenation of its compressed bytes.
   */
  async save(seq: number, state: EngineState, extras: Record<string, unknown>, pause: () => Promise<void> = yieldNow, partGap: () => Promise<void> = yieldNow): Promise<{ bytes: number; parts: number }> {
    if (!Number.isSafeInteger(seq) || seq < 0) throw new Error(`a snapshot's seq must be a non-negative integer, not ${seq}`);
    // Encoded as it is written: the long lists' items one slice at a time, none kept past its slice.
    // The extras first: the equity history is written as it is then, nearest the state's seq.
    const encoded = { extras: encodeLazily(extras), state: encodeStateLazily(state) };
    const bytes = await gzipJsonInSteps(encoded, pause);
    const parts: Buffer[] = [];
    for (let at = 0; at < bytes.length; at += PART_BYTES) parts.push(bytes.subarray(at, at + PART_BYTES));
    const client = await this.db.pool.connect();
    try {
      await client.query("BEGIN");
      await client.query(`DELETE FROM "state_snapshot_parts" WHERE "seq" = $1`, [seq]);
      await client.query(`DELETE FROM "state_snapshots" WHERE "seq" = $1`, [seq]);
      for (const [part, slice] of parts.entries()) {
        await client.query(`INSERT INTO "state_snapshot_parts" ("seq", "part", "bytes") VALUES ($1, $2, $3)`, [seq, part, slice]);
        // The ledger's commits share the write-ahead log: each fsync of theirs writes out what
        // was logged before it. With a gap after each part, a commit carries at most a part of
        // the snapshot's bytes, never megabytes of them.
        if (part < parts.length - 1) await partGap();
      }
      // The row that makes the snapshot readable comes last: parts without it are never read.
      await client.query(`INSERT INTO "state_snapshots" ("seq", "format", "state", "parts") VALUES ($1, $2, $3, $4)`, [seq, SNAPSHOT_FORMAT, Buffer.alloc(0), parts.length]);
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    const snapshots = this.db.prisma.stateSnapshot;
    const kept = await snapshots.findMany({ select: { seq: true }, orderBy: { seq: "desc" }, take: KEPT });
    if (kept.length === KEPT) await snapshots.deleteMany({ where: { seq: { lt: kept[KEPT - 1]!.seq } } });
    // Parts whose snapshot row is gone (pruned, or a save that never committed its row).
    await this.db.pool.query(`DELETE FROM "state_snapshot_parts" p WHERE NOT EXISTS (SELECT 1 FROM "state_snapshots" s WHERE s."seq" = p."seq")`);
    return { bytes: bytes.length, parts: parts.length };
  }

  /** The newest snapshot of this format that decodes (at or before `atOrBefore`), or null when there is none. */
  async latest(atOrBefore?: number): Promise<StoredSnapshot | null> {
    const snapshots = this.db.prisma.stateSnapshot;
    const where = { format: SNAPSHOT_FORMAT, ...(atOrBefore === undefined ? {} : { seq: { lte: BigInt(atOrBefore) } }) };
    const candidates = await snapshots.findMany({ where, select: { seq: true }, orderBy: { seq: "desc" } });
    for (const { seq } of candidates) {
      const row = await snapshots.findUnique({ where: { seq }, select: { state: true, parts: true } });
      if (!row) continue; // deleted by a save in between
      try {
        return { seq: Number(seq), ...(await decodeSnapshot(await this.bytesOf(seq, row))) };
      } catch (error) {
        this.warn(`state snapshot at seq ${seq} cannot be read, trying an older one: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    return null;
  }

  /** A snapshot's gzip'd bytes: its own, or its parts in order (all of them, or it cannot be read). */
  private async bytesOf(seq: bigint, row: { state: Uint8Array; parts: number }): Promise<Uint8Array> {
    if (row.parts === 0) return row.state;
    const parts = await this.db.prisma.stateSnapshotPart.findMany({ where: { seq }, orderBy: { part: "asc" } });
    if (parts.length !== row.parts || parts.some((part, index) => part.part !== index)) {
      throw new Error(`${row.parts} parts were written and ${parts.length} are there`);
    }
    return Buffer.concat(parts.map((part) => part.bytes));
  }
}

/**
 * Items (accounts, history entries) between two calls of a save's `pause`: a pause that yields
 * only when its slice has had its time (a `Slicer`'s `step`) then slices by time.
 */
const STEP = 20;

/** The largest part of a snapshot's bytes stored in one row. */
const PART_BYTES = 256 * 1024;

const yieldNow = yieldToLoop;

/**
 * `encodeValue(value)`, with the long lists inside plain objects (the extras hold the equity
 * history: an entry per account) left as {@link LazyArray}s whose items are encoded as they are
 * written: the same encoding, never all of it at once.
 */
function encodeLazily(value: unknown): unknown {
  if (value instanceof LazyArray) return new LazyArray(() => encodedItems(value.items()));
  if (Array.isArray(value) && value.length > STEP) return new LazyArray(() => encodedItems(value));
  if (value === null || typeof value !== "object" || Array.isArray(value) || Object.getPrototypeOf(value) !== Object.prototype || Object.hasOwn(value, "$") || Object.hasOwn(value, "__proto__")) {
    return encodeValue(value); // anything encodeValue writes in a form of its own (a map, a tagged object) goes to it whole
  }
  const fields: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) fields[key] = encodeLazily(item);
  return fields;
}

function* encodedItems(items: Iterable<unknown>): Generator<unknown> {
  for (const item of items) yield encodeValue(item);
}

/**
 * `gzip(JSON.stringify(value))` for a JSON value, made a piece at a time: long arrays (and
 * {@link LazyArray}s, their items made as they go) are written `chunk` items at a time, each slice handed to a gzip stream (which compresses off the
 * event loop) with `pause()` awaited in between, and the compressed pieces joined at the end.
 */
async function gzipJsonInSteps(value: unknown, pause: () => Promise<void>, chunk = STEP): Promise<Buffer> {
  const zip = createGzip();
  const out: Buffer[] = [];
  zip.on("data", (piece: Buffer) => out.push(piece));
  const ended = new Promise<void>((resolve, reject) => {
    zip.once("end", resolve);
    zip.once("error", reject);
  });
  let text: string[] = [];
  let length = 0;
  const write = (piece: string) => {
    text.push(piece);
    length += piece.length;
  };
  // The text goes to the gzip stream 64 K characters at a time, then waits for it if it lags.
  const slice = async () => {
    if (length >= 65_536) {
      const drained = zip.write(text.join("")) ? null : new Promise<void>((resolve) => zip.once("drain", resolve));
      text = [];
      length = 0;
      if (drained) await drained;
    }
    await pause();
  };
  const writeValue = async (item: unknown): Promise<void> => {
    if (item instanceof LazyArray) {
      write("[");
      let written = 0;
      let since = performance.now();
      for (const entry of item.items()) {
        write((written > 0 ? "," : "") + JSON.stringify(entry));
        // Every `chunk` items, or sooner when making them took a while (an item may be costly:
        // an account's history cut to a book that has grown is cut as it is written).
        if (++written % chunk === 0 || performance.now() - since >= 2) {
          await slice();
          since = performance.now();
        }
      }
      return void write("]");
    }
    if (Array.isArray(item)) {
      if (item.length <= chunk) return void write(JSON.stringify(item));
      write("[");
      for (let i = 0; i < item.length; i += chunk) {
        write((i > 0 ? "," : "") + item.slice(i, i + chunk).map((entry) => JSON.stringify(entry)).join(","));
        await slice();
      }
      return void write("]");
    }
    if (item === null || typeof item !== "object") return void write(JSON.stringify(item));
    write("{");
    let first = true;
    for (const [key, field] of Object.entries(item)) {
      if (field === undefined) continue; // as JSON.stringify: encodeValue never leaves one, but a field may be absent
      write(`${first ? "" : ","}${JSON.stringify(key)}:`);
      first = false;
      await writeValue(field);
    }
    write("}");
  };
  try {
    await writeValue(value);
    zip.end(text.join(""));
    await ended;
  } finally {
    zip.destroy();
  }
  return Buffer.concat(out);
}

async function decodeSnapshot(bytes: Uint8Array): Promise<Pick<StoredSnapshot, "state" | "extras">> {
  const json: unknown = JSON.parse((await gunzip(bytes)).toString("utf8"));
  if (typeof json !== "object" || json === null || !("state" in json) || !("extras" in json)) throw new Error("not a snapshot record");
  const extras = decodeValue(json.extras);
  if (typeof extras !== "object" || extras === null || Array.isArray(extras) || extras instanceof Map) throw new Error("extras that are not an object");
  return { state: decodeState(json.state), extras: extras as Record<string, unknown> };
}
