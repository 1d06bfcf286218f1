import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PersistentMap } from "@/server/engine/persistent-map";

/** The persistent map the engine state keeps its accounts in, against a plain Map doing the same. */

type Op = { kind: "set"; key: string; value: number } | { kind: "delete"; key: string } | { kind: "setAll"; entries: [string, number][] };

const key = (n: number) => `acc-${n}`;

/** Ops over a key space wide enough that the maps grow through several reshards (past 32 shards: more than one block). */
const ops = (keys: number) =>
  fc.array(
    fc.oneof(
      { weight: 6, arbitrary: fc.record({ kind: fc.constant("set" as const), key: fc.nat(keys - 1).map(key), value: fc.integer() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant("delete" as const), key: fc.nat(keys - 1).map(key) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant("setAll" as const), entries: fc.array(fc.tuple(fc.nat(keys - 1).map(key), fc.integer()), { maxLength: 60, size: "max" }) }) },
    ),
    { maxLength: 400, size: "max" },
  );

function applyPlain(map: Map<string, number>, op: Op): Map<string, number> {
  const next = new Map(map);
  if (op.kind === "set") next.set(op.key, op.value);
  else if (op.kind === "delete") next.delete(op.key);
  else for (const [k, v] of op.entries) next.set(k, v);
  return next;
}

function applyPersistent(map: PersistentMap<string, number>, op: Op): PersistentMap<string, number> {
  if (op.kind === "set") return map.set(op.key, op.value);
  if (op.kind === "delete") return map.delete(op.key);
  return map.setAll(op.entries);
}

/** The keys whose value differs between two plain maps (set, changed or deleted). */
function diff(now: Map<string, number>, before: Map<string, number>): string[] {
  const changed = new Set<string>();
  for (const [k, v] of now) if (before.get(k) !== v) changed.add(k);
  for (const k of before.keys()) if (!now.has(k)) changed.add(k);
  return [...changed].sort();
}

describe("the persistent map", () => {
  it("reads, iterates in insertion order and diffs as a plain Map does, and every earlier version stays as it was", () => {
    fc.assert(
      // A start of 0 to 5,000 keys (one short block of shards up to 256 shards in 8 blocks), and up
      // to 400 ops over a key space of 6,000: the maps cross reshards and block boundaries.
      fc.property(fc.nat(5_000), ops(6_000), (startSize, script) => {
        const start = Array.from({ length: startSize }, (_, i): [string, number] => [key((i * 7) % 6_000), i]);
        let plain = new Map(start);
        let persistent = PersistentMap.of(start);
        const versions: [Map<string, number>, PersistentMap<string, number>][] = [[plain, persistent]];
        for (const op of script) {
          const nextPlain = applyPlain(plain, op);
          const nextPersistent = applyPersistent(persistent, op);
          const changed = nextPersistent.changedSince(persistent);
          if (changed !== null) expect([...new Set(changed)].sort()).toEqual(diff(nextPlain, plain));
          if (diff(nextPlain, plain).length === 0) expect(nextPersistent).toBe(persistent);
          // The keys the op touched read as in the plain map, in this version and (unchanged) in the one before.
          const touched = op.kind === "setAll" ? op.entries.map(([k]) => k) : [op.key];
          for (const k of touched) {
            expect(nextPersistent.get(k)).toBe(nextPlain.get(k));
            expect(nextPersistent.has(k)).toBe(nextPlain.has(k));
            expect(persistent.get(k)).toBe(plain.get(k));
          }
          expect(nextPersistent.size).toBe(nextPlain.size);
          plain = nextPlain;
          persistent = nextPersistent;
          versions.push([plain, persistent]);
        }
        // Whole comparisons of a few versions, after every later change was made.
        const sampled = new Set([0, 1, Math.floor(versions.length / 3), Math.floor((2 * versions.length) / 3), versions.length - 1]);
        for (const index of sampled) {
          const [p, m] = versions[Math.min(index, versions.length - 1)]!;
          expect(m.size).toBe(p.size);
          expect([...m]).toEqual([...p]);
          expect([...m.unorderedKeys()].sort()).toEqual([...p.keys()].sort());
        }
      }),
      { numRuns: 25 },
    );
  });

  it("grows from empty through every reshard to thousands of keys, keeping insertion order", () => {
    let map = PersistentMap.empty<string, number>();
    const plain = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      const k = key((i * 7919) % 20_011);
      map = map.set(k, i);
      plain.set(k, i);
    }
    expect(map.size).toBe(plain.size);
    expect([...map.keys()]).toEqual([...plain.keys()]);
    expect(map.get(key(7919))).toBe(1);
    const before = map;
    const after = map.set(key(7919), -1).delete(key(0));
    expect(after.changedSince(before)!.sort()).toEqual([key(0), key(7919)].sort());
    expect(before.get(key(7919))).toBe(1);
    expect(before.has(key(0))).toBe(true);
  });
});
