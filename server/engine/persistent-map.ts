import { OrderedMap } from "immutable";

/**
 * An immutable map whose `set` and `delete` return a new map sharing all but O(log n) of the
 * old one (a hash array mapped trie, from immutable.js), iterated in insertion order like a
 * `Map`. The engine state holds its accounts and orders in these, so that an event touching
 * one account costs O(log accounts), not a copy of the whole book, while the fold stays pure.
 *
 * It reads like a `ReadonlyMap`. The trie is kept in a private field: structural comparisons
 * that look at own properties see none, so compare with `canonicalJson` (replay.ts) or the
 * entries, never with `isDeepStrictEqual`.
 */
export class PersistentMap<K, V> implements ReadonlyMap<K, V> {
  readonly #map: OrderedMap<K, V>;

  private constructor(map: OrderedMap<K, V>) {
    this.#map = map;
  }

  static empty<K, V>(): PersistentMap<K, V> {
    return new PersistentMap(OrderedMap<K, V>());
  }

  /** A map of `entries`, in their order (a later duplicate key wins, at the first one's place). */
  static of<K, V>(entries: Iterable<readonly [K, V]>): PersistentMap<K, V> {
    return new PersistentMap(
      OrderedMap<K, V>().withMutations((map) => {
        for (const [key, value] of entries) map.set(key, value);
      }),
    );
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: K): V | undefined {
    return this.#map.get(key);
  }

  has(key: K): boolean {
    return this.#map.has(key);
  }

  /** This map with `key` set to `value` (a new key goes last; an existing one keeps its place). */
  set(key: K, value: V): PersistentMap<K, V> {
    const next = this.#map.set(key, value);
    return next === this.#map ? this : new PersistentMap(next);
  }

  delete(key: K): PersistentMap<K, V> {
    const next = this.#map.delete(key);
    return next === this.#map ? this : new PersistentMap(next);
  }

  /** This map with every entry of `entries` set, in one pass (for events touching many accounts). */
  setAll(entries: Iterable<readonly [K, V]>): PersistentMap<K, V> {
    const next = this.#map.withMutations((map) => {
      for (const [key, value] of entries) map.set(key, value);
    });
    return next === this.#map ? this : new PersistentMap(next);
  }

  keys(): MapIterator<K> {
    return this.#map.keys() as MapIterator<K>;
  }

  values(): MapIterator<V> {
    return this.#map.values() as MapIterator<V>;
  }

  entries(): MapIterator<[K, V]> {
    return this.#map.entries() as MapIterator<[K, V]>;
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  forEach(callback: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.#map.entries()) callback.call(thisArg, value, key, this);
  }

  get [Symbol.toStringTag](): string {
    return "PersistentMap";
  }
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
