/**
 * An immutable map with string keys whose `set` and `delete` return a new map sharing all but
 * one shard of the old one: the keys are spread over a power-of-two number of shards (plain
 * `Map`s, about 32 keys each, more shards as the map grows), held in blocks of up to 32 shards;
 * a change copies one shard, its block and the array of blocks (at 10,000 keys: a shard of about
 * 20 keys, 32 entries and 16, rather than an array of all 512 shards, which made a sixth of what
 * a 10,000-account server promoted to V8's old generation). A read is a string hash and a native
 * `Map` lookup. The engine state holds its accounts, orders and index sets in these, so that an
 * event touching one account costs O(√n)-ish small copies, not a copy of the whole book, while
 * the fold stays pure.
 *
 * It reads like a `ReadonlyMap`, in insertion order (the order the entries were first set).
 * `unorderedKeys` is for hot loops that do not need an order (the holders of a ticked symbol).
 * The shards are kept in private fields: structural comparisons that look at own properties see
 * none, so compare with `canonicalJson` (replay.ts) or `toPlainMaps`, never `isDeepStrictEqual`.
 *
 * (A hash array mapped trie, as in immutable.js, was measured first: its reads cost several
 * times a native lookup, and a tick reads thousands of accounts.)
 */
export class PersistentMap<K extends string, V> implements ReadonlyMap<K, V> {
  /** Entries by shard (`hashOf(key) & (count - 1)`), in blocks of BLOCK shards. */
  readonly #shards: Blocks<ReadonlyMap<K, V>>;
  /** When each key was first set (insertion order), sharded alike. */
  readonly #stamps: Blocks<ReadonlyMap<K, number>>;
  /** How many shards (a power of two). */
  readonly #count: number;
  readonly #size: number;
  readonly #nextStamp: number;

  private constructor(shards: Blocks<ReadonlyMap<K, V>>, stamps: Blocks<ReadonlyMap<K, number>>, count: number, size: number, nextStamp: number) {
    this.#shards = shards;
    this.#stamps = stamps;
    this.#count = count;
    this.#size = size;
    this.#nextStamp = nextStamp;
  }

  static empty<K extends string, V>(): PersistentMap<K, V> {
    return new PersistentMap<K, V>([[new Map()]], [[new Map()]], 1, 0, 0);
  }

  /** A map of `entries`, in their order (a later duplicate key wins, at the first one's place). */
  static of<K extends string, V>(entries: Iterable<readonly [K, V]>): PersistentMap<K, V> {
    return PersistentMap.empty<K, V>().setAll(entries);
  }

  get size(): number {
    return this.#size;
  }

  get(key: K): V | undefined {
    const index = hashOf(key) & (this.#count - 1);
    return this.#shards[index >>> BLOCK_BITS]![index & BLOCK_MASK]!.get(key);
  }

  has(key: K): boolean {
    const index = hashOf(key) & (this.#count - 1);
    return this.#shards[index >>> BLOCK_BITS]![index & BLOCK_MASK]!.has(key);
  }

  /** This map with `key` set to `value` (a new key goes last; an existing one keeps its place). */
  set(key: K, value: V): PersistentMap<K, V> {
    return this.setAll([[key, value]]);
  }

  delete(key: K): PersistentMap<K, V> {
    const index = hashOf(key) & (this.#count - 1);
    const [block, slot] = [index >>> BLOCK_BITS, index & BLOCK_MASK];
    if (!this.#shards[block]![slot]!.has(key)) return this;
    const shards = this.#shards.slice();
    const stamps = this.#stamps.slice();
    const shardBlock = shards[block]!.slice();
    const stampBlock = stamps[block]!.slice();
    const shard = new Map(shardBlock[slot]!);
    const stamp = new Map(stampBlock[slot]!);
    shard.delete(key);
    stamp.delete(key);
    shardBlock[slot] = shard;
    stampBlock[slot] = stamp;
    shards[block] = shardBlock;
    stamps[block] = stampBlock;
    return new PersistentMap(shards, stamps, this.#count, this.#size - 1, this.#nextStamp);
  }

  /** This map with every entry of `entries` set, each touched shard (and block) copied once (events touching many accounts). */
  setAll(entries: Iterable<readonly [K, V]>): PersistentMap<K, V> {
    const shards = new Copies(this.#shards);
    const stamps = new Copies(this.#stamps);
    let size = this.#size;
    let nextStamp = this.#nextStamp;
    let count = this.#count;
    for (const [key, value] of entries) {
      const index = hashOf(key) & (count - 1);
      const current = shards.at(index);
      const isNew = !current.has(key);
      if (!isNew && current.get(key) === value) continue;
      (shards.own(index) as Map<K, V>).set(key, value);
      if (!isNew) continue;
      (stamps.own(index) as Map<K, number>).set(key, nextStamp++);
      size++;
      // Grown past ~32 keys a shard: twice the shards (every shard is new, so all count as copied).
      if (size > count * SHARD_KEYS && count < MAX_SHARDS) {
        count *= 2;
        const [nextShards, nextStamps] = resharded(shards.flat(), stamps.flat(), count);
        shards.replace(nextShards);
        stamps.replace(nextStamps);
      }
    }
    return shards.changed ? new PersistentMap(shards.blocks(), stamps.blocks(), count, size, nextStamp) : this;
  }

  /**
   * The keys whose value differs between `other` and this map (set, changed or deleted), found by
   * comparing blocks and shards by identity: the cost is the blocks and shards that differ and
   * their entries, not the map. Null when the two are not sharded alike (one grew past the
   * other's shard count): the caller then compares in full.
   */
  changedSince(other: PersistentMap<K, V>): K[] | null {
    if (this.#count !== other.#count) return null;
    const changed: K[] = [];
    for (let b = 0; b < this.#shards.length; b++) {
      const mine = this.#shards[b]!;
      const theirs = other.#shards[b]!;
      if (mine === theirs) continue;
      for (let i = 0; i < mine.length; i++) {
        const now = mine[i]!;
        const before = theirs[i]!;
        if (now === before) continue;
        for (const [key, value] of now) if (before.get(key) !== value) changed.push(key);
        for (const key of before.keys()) if (!now.has(key)) changed.push(key);
      }
    }
    return changed;
  }

  /** The keys in no particular order (but the same for the same map), without sorting: for hot loops. */
  *unorderedKeys(): Generator<K, undefined, undefined> {
    for (const block of this.#shards) for (const shard of block) yield* shard.keys();
  }

  keys(): MapIterator<K> {
    return this.ordered().map(([key]) => key)[Symbol.iterator]() as MapIterator<K>;
  }

  values(): MapIterator<V> {
    return this.ordered().map(([, value]) => value)[Symbol.iterator]() as MapIterator<V>;
  }

  entries(): MapIterator<[K, V]> {
    return this.ordered()[Symbol.iterator]() as MapIterator<[K, V]>;
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  forEach(callback: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.ordered()) callback.call(thisArg, value, key, this);
  }

  get [Symbol.toStringTag](): string {
    return "PersistentMap";
  }

  /** The entries in insertion order. */
  private ordered(): [K, V][] {
    if (this.#count === 1) return [...this.#shards[0]![0]!];
    const stamped: { stamp: number; key: K; value: V }[] = [];
    for (let b = 0; b < this.#shards.length; b++) {
      const shards = this.#shards[b]!;
      for (let i = 0; i < shards.length; i++) {
        const stamps = this.#stamps[b]![i]!;
        for (const [key, value] of shards[i]!) stamped.push({ stamp: stamps.get(key)!, key, value });
      }
    }
    stamped.sort((a, b) => a.stamp - b.stamp);
    return stamped.map(({ key, value }) => [key, value]);
  }
}

const SHARD_KEYS = 32;
const MAX_SHARDS = 4_096;
/** Shards per block: 2^BLOCK_BITS. */
const BLOCK_BITS = 5;
const BLOCK = 1 << BLOCK_BITS;
const BLOCK_MASK = BLOCK - 1;

/** Shards in blocks of BLOCK (the last, or only, block may be shorter: a map of fewer shards). */
type Blocks<T> = readonly (readonly T[])[];

/**
 * A new map's blocks while `setAll` makes it: the array of blocks, each block and each shard is
 * copied the first time it is written, and only then.
 */
class Copies<T extends ReadonlyMap<string, unknown>> {
  private outer: T[][] | null = null;
  /** The blocks and shards copied so far (made when first needed: most changes set one key). */
  private ownBlocks: Set<number> | null = null;
  private ownShards: Set<number> | null = null;
  /** After a reshard every block and shard is this map's own. */
  private allOwn = false;

  constructor(private readonly source: Blocks<T>) {}

  /** Whether anything was written (else the map is the one it started from). */
  get changed(): boolean {
    return this.outer !== null;
  }

  at(index: number): T {
    return (this.outer ?? this.source)[index >>> BLOCK_BITS]![index & BLOCK_MASK]!;
  }

  /** The shard at `index`, copied into this map if it was not yet. */
  own(index: number): T {
    const outer = (this.outer ??= this.source.slice() as T[][]);
    const block = index >>> BLOCK_BITS;
    const slot = index & BLOCK_MASK;
    if (!this.allOwn) {
      const ownBlocks = (this.ownBlocks ??= new Set());
      if (!ownBlocks.has(block)) {
        outer[block] = outer[block]!.slice();
        ownBlocks.add(block);
      }
      const ownShards = (this.ownShards ??= new Set());
      if (!ownShards.has(index)) {
        outer[block]![slot] = new Map(outer[block]![slot]!) as unknown as T;
        ownShards.add(index);
      }
    }
    return outer[block]![slot]!;
  }

  flat(): T[] {
    return (this.outer ?? this.source).flat() as T[];
  }

  /** Every shard new (a reshard): all of them this map's own. */
  replace(shards: T[]): void {
    this.outer = [];
    for (let i = 0; i < shards.length; i += BLOCK) this.outer.push(shards.slice(i, i + BLOCK));
    this.allOwn = true;
  }

  blocks(): Blocks<T> {
    return this.outer ?? this.source;
  }
}

function resharded<K extends string, V>(shards: readonly ReadonlyMap<K, V>[], stamps: readonly ReadonlyMap<K, number>[], count: number): [Map<K, V>[], Map<K, number>[]] {
  const nextShards = Array.from({ length: count }, () => new Map<K, V>());
  const nextStamps = Array.from({ length: count }, () => new Map<K, number>());
  // Shard by shard in stamp order, so that each new shard keeps its keys in insertion order.
  const all: { key: K; value: V; stamp: number }[] = [];
  for (let i = 0; i < shards.length; i++) for (const [key, value] of shards[i]!) all.push({ key, value, stamp: stamps[i]!.get(key)! });
  all.sort((a, b) => a.stamp - b.stamp);
  for (const { key, value, stamp } of all) {
    const index = hashOf(key) & (count - 1);
    nextShards[index]!.set(key, value);
    nextStamps[index]!.set(key, stamp);
  }
  return [nextShards, nextStamps];
}

/** FNV-1a over the key's UTF-16 code units: the same shard for the same key, in every process. */
function hashOf(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Whether `value` is a map of either kind (a `Map` or a `PersistentMap`): serializers treat both alike. */
export function isMapLike(value: unknown): value is ReadonlyMap<unknown, unknown> {
  return value instanceof Map || value instanceof PersistentMap;
}

/**
 * `value` with every `PersistentMap` in it turned into a `Map` of the same entries (deeply), so
 * that `isDeepStrictEqual` compares states entry by entry (-0, NaN and order included).
 */
export function toPlainMaps(value: unknown): unknown {
  if (isMapLike(value)) return new Map([...value].map(([key, item]) => [key, toPlainMaps(item)]));
  if (Array.isArray(value)) return value.map(toPlainMaps);
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, toPlainMaps(item)]));
  }
  return value;
}
