import { z } from "zod";
import { EngineConfig, RulesPatch } from "./config";
import { AccountId, IntentId, OrderId, PresetId, SymbolId } from "./ids";
import { Side } from "./intent";
import type { EngineState } from "./state";
import { indexOf } from "./state";
import { PersistentMap, isMapLike } from "./persistent-map";
import { AccountSpec, BreakerKind, LossRule, ReducingCause, VetoReason } from "./types";

/**
 * The engine state as a JSON value and back, for snapshots (server/snapshots.ts): a start
 * loads the latest snapshot and folds only the ledger's tail. The state is plain data; JSON
 * carries all of it but Maps, -0, NaN, ±Infinity and undefined, which are written as tagged
 * objects (a Map as its entries in insertion order: decisions iterate Maps). Decoding checks
 * the result against the state's shape and throws on anything else, so a corrupt or outdated
 * snapshot is refused rather than folded on. Pure.
 */

/**
 * The version of the encoding and of the state's shape. Bump it whenever either changes: a
 * snapshot of another format is not read (the ledger is folded from the start instead).
 */
export const SNAPSHOT_FORMAT = 9;

/** The state as a JSON value; its index is derived, so it is left out (decoding builds it again). */
export function encodeState(state: EngineState): unknown {
  const { index: _index, ...stored } = state;
  return { format: SNAPSHOT_FORMAT, state: encodeValue(stored) };
}

/**
 * A long JSON array whose items are made only as they are written (server/snapshots.ts writes
 * it a few items at a time into its gzip stream): a snapshot of a large book never holds all its
 * encoded accounts at once, and none of them lives long enough to leave the young generation.
 * A save used to hold everything it encoded for the seconds it took (10,000 accounts: megabytes
 * of objects, all promoted to the old generation).
 */
export class LazyArray {
  constructor(readonly items: () => Iterable<unknown>) {}
}

/**
 * `encodeState` with the accounts as a {@link LazyArray}: each entry is encoded as it is written.
 * The state is immutable, so what is written is the state as it was when the call was made.
 */
export function encodeStateLazily(state: EngineState): unknown {
  const { index: _index, accounts, ...rest } = state;
  const encoded = encodeValue(rest) as Record<string, unknown>;
  return { format: SNAPSHOT_FORMAT, state: { config: encoded.config, firmHalt: encoded.firmHalt, accounts: { [TAG]: "map", entries: new LazyArray(() => accountEntries(accounts)) }, market: encoded.market, pairs: encoded.pairs, orders: encoded.orders } };
}

function* accountEntries(accounts: EngineState["accounts"]): Generator<unknown> {
  let i = 0;
  for (const [accountId, account] of accounts) {
    let entry: unknown;
    try {
      entry = [encodeValue(accountId), encodeValue(account)];
    } catch (error) {
      throw at("accounts", at(`entry ${i}`, error));
    }
    yield entry;
    i++;
  }
}

/**
 * The state `encodeState` encoded; throws when `value` is not one of this format. The
 * configuration and the account specs come back parsed by the engine's own schemas, as the
 * ledger's events are read.
 */
export function decodeState(value: unknown): EngineState {
  const envelope = Envelope.safeParse(value);
  if (!envelope.success) throw new Error(`not a snapshot of format ${SNAPSHOT_FORMAT}: ${summary(envelope.error)}`);
  let decoded: unknown;
  try {
    decoded = decodeValue(envelope.data.state);
  } catch (error) {
    throw new Error(`the snapshot is not an engine state: ${(error as Error).message}`);
  }
  const state = EngineStateShape.safeParse(decoded);
  if (!state.success) throw new Error(`the snapshot is not an engine state: ${summary(state.error)}`);
  return { ...state.data, index: indexOf(state.data) };
}

// ----- values --------------------------------------------------------------------------------

/** A value JSON cannot carry is an object with a `$` key naming it; so is a plain object that has a `$` key itself. */
const TAG = "$";
const numberTags: Readonly<Record<string, number>> = { "-0": -0, NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, "-Infinity": Number.NEGATIVE_INFINITY };

/**
 * `value` as a JSON value (`JSON.stringify` keeps it whole): plain objects, arrays, Maps,
 * strings, booleans, null, undefined and any number. Throws on anything else (a class
 * instance, a Set, a function, a bigint), naming where it is.
 */
export function encodeValue(value: unknown): unknown {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0) ? value : { [TAG]: Object.is(value, -0) ? "-0" : String(value) };
    case "undefined":
      return { [TAG]: "undefined" };
    case "object": {
      if (value === null) return null;
      if (Array.isArray(value)) {
        const items = new Array<unknown>(value.length);
        for (let i = 0; i < value.length; i++) {
          try {
            items[i] = encodeValue(value[i]);
          } catch (error) {
            throw at(i, error);
          }
        }
        return items;
      }
      if (isMapLike(value)) {
        let i = 0;
        const entries: unknown[] = [];
        for (const [key, item] of value) {
          try {
            entries.push([encodeValue(key), encodeValue(item)]);
          } catch (error) {
            throw at(`entry ${i}`, error);
          }
          i++;
        }
        return { [TAG]: "map", entries };
      }
      if (Object.getPrototypeOf(value) !== Object.prototype) throw new EncodeError(`a ${value.constructor?.name ?? "null-prototype object"}`);
      const fields: Record<string, unknown> = {};
      for (const key of Object.keys(value)) {
        try {
          setField(fields, key, encodeValue((value as Record<string, unknown>)[key]));
        } catch (error) {
          throw at(key, error);
        }
      }
      return Object.hasOwn(value, TAG) ? { [TAG]: "object", fields } : fields;
    }
    default:
      throw new EncodeError(`a ${typeof value}`);
  }
}

/** The value `encodeValue` encoded; throws on what it cannot have written. */
export function decodeValue(json: unknown): unknown {
  switch (typeof json) {
    case "string":
    case "boolean":
      return json;
    case "number":
      if (!Number.isFinite(json)) throw new Error(`a bare ${json}`);
      return json;
    case "object": {
      if (json === null) return null;
      if (Array.isArray(json)) return json.map(decodeValue);
      if (Object.getPrototypeOf(json) !== Object.prototype) throw new Error("not a JSON value");
      if (!Object.hasOwn(json, TAG)) return decodeFields(json as Record<string, unknown>);
      return decodeTagged(json as Record<string, unknown>);
    }
    default:
      throw new Error(`not a JSON value: a ${typeof json}`);
  }
}

function decodeTagged(json: Record<string, unknown>): unknown {
  const tag = json[TAG];
  const keys = Object.keys(json).length;
  if (typeof tag === "string" && Object.hasOwn(numberTags, tag) && keys === 1) return numberTags[tag];
  if (tag === "undefined" && keys === 1) return undefined;
  if (tag === "map" && keys === 2 && Array.isArray(json.entries)) {
    return new Map(
      json.entries.map((entry: unknown) => {
        if (!Array.isArray(entry) || entry.length !== 2) throw new Error("a map entry that is not a [key, value] pair");
        return [decodeValue(entry[0]), decodeValue(entry[1])];
      }),
    );
  }
  const fields = json.fields;
  if (tag === "object" && keys === 2 && typeof fields === "object" && fields !== null && !Array.isArray(fields)) {
    return decodeFields(fields as Record<string, unknown>);
  }
  throw new Error(`a malformed or unknown tag ${JSON.stringify(tag)}`);
}

function decodeFields(json: Record<string, unknown>): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(json)) setField(fields, key, decodeValue(json[key]));
  return fields;
}

/** Sets an own property, `__proto__` included (an assignment would set the prototype instead). */
function setField(fields: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(fields, key, { value, enumerable: true, writable: true, configurable: true });
  else fields[key] = value;
}

class EncodeError extends Error {
  constructor(
    readonly what: string,
    readonly path: readonly (string | number)[] = [],
  ) {
    super(`cannot encode ${what}${path.length > 0 ? ` at ${path.join(".")}` : ""}`);
  }
}

/** An error of encoding the item at `key`, with the key added to its path. */
function at(key: string | number, error: unknown): unknown {
  return error instanceof EncodeError ? new EncodeError(error.what, [key, ...error.path]) : error;
}

// ----- the state's shape ---------------------------------------------------------------------

/**
 * What a decoded state must look like: the engine's own schemas for what came from events
 * (the configuration, account specs, identifiers, closed sets), and any number where the fold
 * computes one. It must produce an `EngineState`, so a new field of the state fails to compile
 * until it is added here (and SNAPSHOT_FORMAT bumped).
 */
const anyNumber = z.custom<number>((value) => typeof value === "number", "a number");
const actor = z.string();

const Envelope = z.strictObject({ format: z.literal(SNAPSHOT_FORMAT), state: z.unknown() });

const BreakerStateShape = z.union([
  z.strictObject({ tripped: z.literal(false), lastResetAt: anyNumber.nullable(), lastResetBy: actor.nullable() }),
  z.strictObject({ tripped: z.literal(true), reason: z.string(), trippedAt: anyNumber, trippedBy: actor }),
]);

const VetoEntryShape = z.strictObject({
  reason: VetoReason,
  note: z.string(),
  since: anyNumber,
  expiresAt: anyNumber.nullable(),
  valueAtTrigger: anyNumber.nullable(),
  by: actor,
});

const GroupExposureShape = z.strictObject({ gross: anyNumber, unpriced: anyNumber });

const AccountStateShape = z.strictObject({
  spec: AccountSpec,
  preset: z.strictObject({ presetId: PresetId, version: anyNumber, at: anyNumber, reason: z.string(), by: actor }).nullable(),
  rules: RulesPatch.nullable(),
  day: z.strictObject({ tradingDay: z.string(), resetAt: anyNumber }),
  breakers: z.record(BreakerKind, BreakerStateShape),
  vetoes: z.map(SymbolId, VetoEntryShape),
  sideLocks: z.map(Side, VetoEntryShape),
  stopLosses: z.array(z.strictObject({ at: anyNumber, side: Side, losing: z.boolean() })),
  reducing: z
    .strictObject({ cause: ReducingCause, untilReset: z.boolean(), at: anyNumber, reason: z.string(), by: actor })
    .nullable(),
  recentIntentTimes: z.array(anyNumber),
  executionFailureTimes: z.array(anyNumber),
  lastSlowAt: anyNumber.nullable(),
  positions: z.map(SymbolId, z.strictObject({ quantity: anyNumber, avgPrice: anyNumber })),
  balance: anyNumber,
  baseline: anyNumber,
  baselineShadow: z.boolean(),
  highWater: anyNumber,
  riskUsedToday: anyNumber,
  lockedOut: z.strictObject({ at: anyNumber, equity: anyNumber, floor: anyNumber, rule: LossRule }).nullable(),
  allowedCount: anyNumber,
  deniedCount: anyNumber,
  allowances: z.map(IntentId, z.strictObject({ symbol: SymbolId, side: Side, quantity: anyNumber.nullable(), filled: anyNumber, at: anyNumber })),
  execIds: z.map(z.string(), anyNumber),
});

const BookLevelShape = z.strictObject({ price: anyNumber, size: anyNumber });

const MarketStateShape = z.strictObject({
  lastPrice: anyNumber.nullable(),
  lastPriceAt: anyNumber.nullable(),
  book: z.strictObject({ at: anyNumber, bids: z.array(BookLevelShape), asks: z.array(BookLevelShape) }).nullable(),
  stats: z.strictObject({
    bars: anyNumber,
    lastBarAt: anyNumber.nullable(),
    lastClose: anyNumber.nullable(),
    returns: z.array(z.strictObject({ at: anyNumber, value: anyNumber })),
    sortedSimpleReturns: z.array(anyNumber),
    ewmaVariance: anyNumber.nullable(),
    atr: anyNumber.nullable(),
    seedRanges: z.array(anyNumber),
  }),
});

const PairMomentsShape = z.strictObject({
  lastAt: anyNumber,
  n: anyNumber,
  sw: anyNumber,
  sa: anyNumber,
  sb: anyNumber,
  saa: anyNumber,
  sbb: anyNumber,
  sab: anyNumber,
  correlation: anyNumber.nullable(),
});

const OpenOrderShape = z.strictObject({
  accountId: AccountId,
  intentId: IntentId.nullable(),
  symbol: SymbolId,
  side: Side,
  quantity: anyNumber,
  filledQuantity: anyNumber,
  kind: z.enum(["entry", "exit", "flatten"]),
  status: z.enum(["queued", "sent", "acknowledged"]),
  queuedAt: anyNumber,
  sentAt: anyNumber.nullable(),
  limitPrice: anyNumber.nullable(),
  slPrice: anyNumber.nullable(),
  tpPrice: anyNumber.nullable(),
});

const EngineStateShape = z.strictObject({
  config: EngineConfig,
  firmHalt: z.strictObject({ reason: z.string(), at: anyNumber, by: actor }).nullable(),
  accounts: z.map(AccountId, AccountStateShape).transform((accounts) => PersistentMap.of(accounts)),
  market: z.map(SymbolId, MarketStateShape),
  pairs: z.map(SymbolId, z.map(SymbolId, PairMomentsShape)),
  orders: z.map(OrderId, OpenOrderShape).transform((orders) => PersistentMap.of(orders)),
}) satisfies z.ZodType<Omit<EngineState, "index">>;

/** The first few issues, with their paths: enough to say what is wrong without the whole state. */
function summary(error: z.ZodError): string {
  const shown = error.issues.slice(0, 3).map((issue) => `${issue.path.map(String).join(".") || "(root)"}: ${issue.message}`);
  const more = error.issues.length - shown.length;
  return shown.join("; ") + (more > 0 ? `; and ${more} more` : "");
}
