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
      { weight: 1, arbitrary: fc.record({ kind: fc.constant("setAll" as const), entries: fc.array(fc.tuple(fc.nat(keys - 1).map(key), fc.integer()), { maxLength: 40 }) }) },
    ),
    { maxLength: 400 },
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
    // A start of 3,000 keys: 128 shards, four blocks of 32, so ops cross blocks and reshards.
    const start = Array.from({ length: 3_000 }, (_, i): [string, number] => [key(i * 7), i]);
    fc.assert(
      fc.property(ops(30_000), (script) => {
        let plain = new Map(start);
        let persistent = PersistentMap.of(start);
        const versions: [Map<string, number>, PersistentMap<string, number>][] = [[plain, persistent]];
        for (const op of script) {
          const nextPlain = applyPlain(plain, op);
          const nextPersistent = applyPersistent(persistent, op);
          const changed = nextPersistent.changedSince(persistent);
          if (changed !== null) expect([...new Set(changed)].sort()).toEqual(diff(nextPlain, plain));
          if (diff(nextPlain, plain).length === 0) expect(nextPersistent).toBe(persistent);
          plain = nextPlain;
          persistent = nextPersistent;
          versions.push([plain, persistent]);
        }
        for (const [p, m] of [versions[0]!, versions[Math.floor(versions.length / 2)]!, versions[versions.length - 1]!]) {
          expect(m.size).toBe(p.size);
          expect([...m]).toEqual([...p]);
          expect([...m.unorderedKeys()].sort()).toEqual([...p.keys()].sort());
          for (const k of [key(0), key(7), key(14_000), key(29_999)]) {
            expect(m.get(k)).toBe(p.get(k));
            expect(m.has(k)).toBe(p.has(k));
          }
        }
      }),
      { numRuns: 40 },
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
