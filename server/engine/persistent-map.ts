/**
 * An immutable map with string keys whose `set` and `delete` return a new map sharing all but
 * one shard of the old one: the keys are spread over a power-of-two number of shards (plain
 * `Map`s, about 32 keys each, more shards as the map grows), and a change copies one shard and
 * the array of shards. A read is a string hash and a native `Map` lookup. The engine state holds
 * its accounts, orders and index sets in these, so that an event touching one account costs
 * O(√n)-ish small copies, not a copy of the whole book, while the fold stays pure.
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
  /** Entries by shard (`hashOf(key) & (shards.length - 1)`). */
  readonly #shards: readonly ReadonlyMap<K, V>[];
  /** When each key was first set (insertion order), sharded alike. */
  readonly #stamps: readonly ReadonlyMap<K, number>[];
  readonly #size: number;
  readonly #nextStamp: number;

  private constructor(shards: readonly ReadonlyMap<K, V>[], stamps: readonly ReadonlyMap<K, number>[], size: number, nextStamp: number) {
    this.#shards = shards;
    this.#stamps = stamps;
    this.#size = size;
    this.#nextStamp = nextStamp;
  }

  static empty<K extends string, V>(): PersistentMap<K, V> {
    return new PersistentMap<K, V>([new Map()], [new Map()], 0, 0);
  }

  /** A map of `entries`, in their order (a later duplicate key wins, at the first one's place). */
  static of<K extends string, V>(entries: Iterable<readonly [K, V]>): PersistentMap<K, V> {
    return PersistentMap.empty<K, V>().setAll(entries);
  }

  get size(): number {
    return this.#size;
  }

  get(key: K): V | undefined {
    return this.#shards[hashOf(key) & (this.#shards.length - 1)]!.get(key);
  }

  has(key: K): boolean {
    return this.#shards[hashOf(key) & (this.#shards.length - 1)]!.has(key);
  }

  /** This map with `key` set to `value` (a new key goes last; an existing one keeps its place). */
  set(key: K, value: V): PersistentMap<K, V> {
    return this.setAll([[key, value]]);
  }

  delete(key: K): PersistentMap<K, V> {
    const index = hashOf(key) & (this.#shards.length - 1);
    if (!this.#shards[index]!.has(key)) return this;
    const shards = this.#shards.slice();
    const stamps = this.#stamps.slice();
    const shard = new Map(shards[index]!);
    const stamp = new Map(stamps[index]!);
    shard.delete(key);
    stamp.delete(key);
    shards[index] = shard;
    stamps[index] = stamp;
    return new PersistentMap(shards, stamps, this.#size - 1, this.#nextStamp);
  }

  /** This map with every entry of `entries` set, each touched shard copied once (events touching many accounts). */
  setAll(entries: Iterable<readonly [K, V]>): PersistentMap<K, V> {
    let shards: ReadonlyMap<K, V>[] | null = null;
    let stamps: ReadonlyMap<K, number>[] | null = null;
    const copied = new Set<number>();
    const stampsCopied = new Set<number>();
    let size = this.#size;
    let nextStamp = this.#nextStamp;
    let mask = this.#shards.length - 1;
    for (const [key, value] of entries) {
      const index = hashOf(key) & mask;
      const current = (shards ?? this.#shards)[index]!;
      const isNew = !current.has(key);
      if (!isNew && current.get(key) === value) continue;
      shards ??= this.#shards.slice();
      if (!copied.has(index)) {
        shards[index] = new Map(current);
        copied.add(index);
      }
      (shards[index] as Map<K, V>).set(key, value);
      if (!isNew) continue;
      stamps ??= this.#stamps.slice();
      if (!stampsCopied.has(index)) {
        stamps[index] = new Map(stamps[index]!);
        stampsCopied.add(index);
      }
      (stamps[index] as Map<K, number>).set(key, nextStamp++);
      size++;
      // Grown past ~32 keys a shard: twice the shards (every shard is new, so all count as copied).
      if (size > shards.length * SHARD_KEYS && shards.length < MAX_SHARDS) {
        [shards, stamps] = resharded(shards, stamps, shards.length * 2);
        mask = shards.length - 1;
        for (let i = 0; i < shards.length; i++) copied.add(i), stampsCopied.add(i);
      }
    }
    return shards ? new PersistentMap(shards, stamps ?? this.#stamps, size, nextStamp) : this;
  }

  /**
   * The keys whose value differs between `other` and this map (set, changed or deleted), found by
   * comparing shards by identity: the cost is the shards and the entries of the shards that
   * differ, not the map. Null when the two are not sharded alike (one grew past the other's
   * shard count): the caller then compares in full.
   */
  changedSince(other: PersistentMap<K, V>): K[] | null {
    const mine = this.#shards;
    const theirs = other.#shards;
    if (mine.length !== theirs.length) return null;
    const changed: K[] = [];
    for (let i = 0; i < mine.length; i++) {
      const now = mine[i]!;
      const before = theirs[i]!;
      if (now === before) continue;
      for (const [key, value] of now) if (before.get(key) !== value) changed.push(key);
      for (const key of before.keys()) if (!now.has(key)) changed.push(key);
    }
    return changed;
  }

  /** The keys in no particular order (but the same for the same map), without sorting: for hot loops. */
  *unorderedKeys(): Generator<K, undefined, undefined> {
    for (const shard of this.#shards) yield* shard.keys();
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
    if (this.#shards.length === 1) return [...this.#shards[0]!];
    const stamped: { stamp: number; key: K; value: V }[] = [];
    for (let i = 0; i < this.#shards.length; i++) {
      const stamps = this.#stamps[i]!;
      for (const [key, value] of this.#shards[i]!) stamped.push({ stamp: stamps.get(key)!, key, value });
    }
    stamped.sort((a, b) => a.stamp - b.stamp);
    return stamped.map(({ key, value }) => [key, value]);
  }
}

const SHARD_KEYS = 32;
const MAX_SHARDS = 4_096;

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
