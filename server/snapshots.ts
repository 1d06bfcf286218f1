import { promisify } from "node:util";
import { gunzip as gunzipCallback, gzip as gzipCallback } from "node:zlib";
import type { Database } from "./db/database";
import { SNAPSHOT_FORMAT, decodeState, decodeValue, encodeStateInSteps, encodeValue } from "./engine/snapshot";
import type { EngineState } from "./engine/state";

const gzip = promisify(gzipCallback);
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

  /** Stores the state at `seq` (replacing one stored at the same seq) and keeps only the newest few. */
  async save(seq: number, state: EngineState, extras: Record<string, unknown>, pause: () => Promise<void> = yieldNow): Promise<void> {
    if (!Number.isSafeInteger(seq) || seq < 0) throw new Error(`a snapshot's seq must be a non-negative integer, not ${seq}`);
    // A large book is encoded and written out a slice at a time: the event loop keeps deciding meanwhile.
    const encoded = { state: await encodeStateInSteps(state, pause), extras: await encodeInSteps(extras, pause) };
    const bytes = await gzip(await stringifyInSteps(encoded, pause));
    const snapshots = this.db.prisma.stateSnapshot;
    const data = { format: SNAPSHOT_FORMAT, state: bytes };
    // Not `upsert`: it sends the bytes twice, and on PGlite every megabyte costs ~0.3 s of the event loop.
    const exists = (await snapshots.count({ where: { seq: BigInt(seq) } })) > 0;
    if (exists) await snapshots.update({ where: { seq: BigInt(seq) }, data });
    else await snapshots.create({ data: { seq: BigInt(seq), ...data } });
    const kept = await snapshots.findMany({ select: { seq: true }, orderBy: { seq: "desc" }, take: KEPT });
    if (kept.length === KEPT) await snapshots.deleteMany({ where: { seq: { lt: kept[KEPT - 1]!.seq } } });
  }

  /** The newest snapshot of this format that decodes (at or before `atOrBefore`), or null when there is none. */
  async latest(atOrBefore?: number): Promise<StoredSnapshot | null> {
    const snapshots = this.db.prisma.stateSnapshot;
    const where = { format: SNAPSHOT_FORMAT, ...(atOrBefore === undefined ? {} : { seq: { lte: BigInt(atOrBefore) } }) };
    const candidates = await snapshots.findMany({ where, select: { seq: true }, orderBy: { seq: "desc" } });
    for (const { seq } of candidates) {
      const row = await snapshots.findUnique({ where: { seq }, select: { state: true } });
      if (!row) continue; // deleted by a save in between
      try {
        return { seq: Number(seq), ...(await decodeSnapshot(row.state)) };
      } catch (error) {
        this.warn(`state snapshot at seq ${seq} cannot be read, trying an older one: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    return null;
  }
}

const yieldNow = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * `encodeValue(value)`, with a pause every `chunk` items of a long array inside plain objects (the
 * extras hold the equity history: an entry per account): the same encoding, not all at once.
 */
async function encodeInSteps(value: unknown, pause: () => Promise<void>, chunk = 200): Promise<unknown> {
  if (Array.isArray(value) && value.length > chunk) {
    const items = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) {
      items[i] = encodeValue(value[i]);
      if (i % chunk === chunk - 1) await pause();
    }
    return items;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value) || Object.getPrototypeOf(value) !== Object.prototype || Object.hasOwn(value, "$") || Object.hasOwn(value, "__proto__")) {
    return encodeValue(value); // anything encodeValue writes in a form of its own (a map, a tagged object) goes to it whole
  }
  const fields: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) fields[key] = await encodeInSteps(item, pause, chunk);
  return fields;
}

/** `JSON.stringify(value)` for a JSON value, long arrays written a chunk at a time with pauses in between. */
async function stringifyInSteps(value: unknown, pause: () => Promise<void>, chunk = 200): Promise<string> {
  if (Array.isArray(value)) {
    if (value.length <= chunk) return JSON.stringify(value);
    const parts: string[] = [];
    for (let i = 0; i < value.length; i += chunk) {
      parts.push(value.slice(i, i + chunk).map((item) => JSON.stringify(item)).join(","));
      await pause();
    }
    return `[${parts.join(",")}]`;
  }
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  const fields: string[] = [];
  for (const [key, item] of Object.entries(value)) fields.push(`${JSON.stringify(key)}:${await stringifyInSteps(item, pause, chunk)}`);
  return `{${fields.join(",")}}`;
}

async function decodeSnapshot(bytes: Uint8Array): Promise<Pick<StoredSnapshot, "state" | "extras">> {
  const json: unknown = JSON.parse((await gunzip(bytes)).toString("utf8"));
  if (typeof json !== "object" || json === null || !("state" in json) || !("extras" in json)) throw new Error("not a snapshot record");
  const extras = decodeValue(json.extras);
  if (typeof extras !== "object" || extras === null || Array.isArray(extras) || extras instanceof Map) throw new Error("extras that are not an object");
  return { state: decodeState(json.state), extras: extras as Record<string, unknown> };
}
