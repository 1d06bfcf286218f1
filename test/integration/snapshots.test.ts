import { isDeepStrictEqual } from "node:util";
import { toPlainMaps } from "@/server/engine/persistent-map";
import { randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Database } from "@/server/db/database";
import { migrate } from "@/server/db/migrate";
import type { EngineEvent } from "@/server/engine/events";
import { SNAPSHOT_FORMAT, encodeState } from "@/server/engine/snapshot";
import type { EngineState } from "@/server/engine/state";
import { evolve } from "@/server/engine/state";
import { SnapshotStore } from "@/server/snapshots";
import { EURUSD, accountId, configured, given, long, opened, priced } from "../unit/given";
import { openEmbeddedTestDatabase } from "./harness";

/** The state after `n` one-minute EURUSD bars on top of an open long (each n a different state). */
function stateAfter(n: number): EngineState {
  const bars = Array.from({ length: n }, (_, k): EngineEvent => {
    const close = 1.1 + 0.001 * Math.sin(k);
    return { type: "market.bar", at: 10_000 + k * 60_000, symbol: EURUSD, open: close, high: close, low: close, close, volume: 1 };
  });
  return bars.reduce(evolve, given(configured(), opened, long, priced));
}

describe("SnapshotStore on the embedded PostgreSQL", () => {
  let db: Database;
  let warnings: string[];
  let store: SnapshotStore;

  beforeEach(async () => {
    db = await openEmbeddedTestDatabase();
    await migrate(db);
    warnings = [];
    store = new SnapshotStore(db, (message) => warnings.push(message));
  });

  afterEach(async () => {
    await db.close();
  });

  const storedSeqs = async () => (await db.prisma.stateSnapshot.findMany({ select: { seq: true }, orderBy: { seq: "asc" } })).map((row) => Number(row.seq));

  it("has no snapshot to start from on a new database", async () => {
    expect(await store.latest()).toBeNull();
  });

  it("gives back the state and extras it saved", async () => {
    const state = stateAfter(30);
    const extras = { recentDecisions: [{ seq: 7, note: "x" }], pendingIntents: new Map([["i-1", { quantity: -0 }]]) };
    await store.save(42, state, extras);

    const latest = await store.latest();
    expect(latest?.seq).toBe(42);
    expect(isDeepStrictEqual(toPlainMaps(latest?.state), toPlainMaps(state))).toBe(true);
    expect(encodeState(latest!.state)).toStrictEqual(encodeState(state));
    expect(isDeepStrictEqual(latest?.extras, extras)).toBe(true);
    expect(latest!.state.accounts.get(accountId)!.positions.get(EURUSD)).toEqual({ quantity: 1, avgPrice: 1.1 });
    expect(warnings).toEqual([]);
  });

  it("stores a large snapshot as parts of at most 256 KiB, made a slice at a time, and reads it back whole", async () => {
    // Hex of random bytes compresses only to about half: some 1.5 MB of gzip'd JSON.
    const rows = Array.from({ length: 3_000 }, (_, i) => ({ i, noise: randomBytes(500).toString("hex") }));
    const state = stateAfter(5);
    let pauses = 0;
    let gaps = 0;
    const saved = await store.save(
      7,
      state,
      { rows },
      async () => {
        pauses++;
        await new Promise((resolve) => setImmediate(resolve));
      },
      async () => {
        gaps++;
        await new Promise((resolve) => setTimeout(resolve, 1));
      },
    );

    const parts = await db.prisma.stateSnapshotPart.findMany({ where: { seq: 7n }, orderBy: { part: "asc" } });
    expect(parts.length).toBeGreaterThan(3);
    expect(saved).toEqual({ bytes: parts.reduce((sum, part) => sum + part.bytes.length, 0), parts: parts.length });
    // A gap after every part but the last: the ledger's commits in between never carry more than a part.
    expect(gaps).toBe(parts.length - 1);
    expect(parts.every((part) => part.bytes.length <= 256 * 1024)).toBe(true);
    expect((await db.prisma.stateSnapshot.findUnique({ where: { seq: 7n } }))?.parts).toBe(parts.length);
    expect(pauses).toBeGreaterThanOrEqual(3_000 / 200);
    const latest = await store.latest();
    expect(latest?.extras).toEqual({ rows });
    expect(encodeState(latest!.state)).toStrictEqual(encodeState(state));
  });

  it("reads a snapshot stored whole in one row by an earlier version", async () => {
    const state = stateAfter(3);
    const whole = gzipSync(JSON.stringify({ state: encodeState(state), extras: { from: "before parts" } }));
    await db.prisma.stateSnapshot.create({ data: { seq: 3n, format: SNAPSHOT_FORMAT, state: whole } });
    const latest = await store.latest();
    expect(latest?.extras).toEqual({ from: "before parts" });
    expect(encodeState(latest!.state)).toStrictEqual(encodeState(state));
  });

  it("skips a snapshot that lost a part, with a warning, for an older one", async () => {
    const rows = Array.from({ length: 1_500 }, () => randomBytes(500).toString("hex"));
    await store.save(10, stateAfter(10), { which: "older" });
    await store.save(20, stateAfter(20), { which: "newer", rows });
    await db.prisma.stateSnapshotPart.delete({ where: { seq_part: { seq: 20n, part: 1 } } });
    const latest = await store.latest();
    expect(latest?.extras).toEqual({ which: "older" });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/seq 20 .*parts were written/);
  });

  it("deletes the parts of pruned snapshots and of a save that never wrote its row", async () => {
    await db.prisma.stateSnapshotPart.create({ data: { seq: 999n, part: 0, bytes: Buffer.from("left by a crash") } });
    for (const seq of [10, 20, 30, 40]) await store.save(seq, stateAfter(seq), {});
    const partSeqs = await db.prisma.stateSnapshotPart.findMany({ select: { seq: true }, distinct: ["seq"], orderBy: { seq: "asc" } });
    expect(partSeqs.map((row) => Number(row.seq))).toEqual([20, 30, 40]);
    expect(await storedSeqs()).toEqual([20, 30, 40]);
  });

  it("keeps the three newest snapshots", async () => {
    for (const seq of [10, 20, 30, 40, 50]) await store.save(seq, stateAfter(seq), {});
    expect(await storedSeqs()).toEqual([30, 40, 50]);
    const latest = await store.latest();
    expect(latest?.seq).toBe(50);
    expect(isDeepStrictEqual(toPlainMaps(latest?.state), toPlainMaps(stateAfter(50)))).toBe(true);
  });

  it("saves the same seq twice as one snapshot", async () => {
    await store.save(5, stateAfter(5), { n: 1 });
    await store.save(5, stateAfter(5), { n: 2 });
    expect(await storedSeqs()).toEqual([5]);
    expect((await store.latest())?.extras).toEqual({ n: 2 });
  });

  it("skips unreadable snapshots with a warning and falls back to the newest readable one", async () => {
    await store.save(10, stateAfter(10), { which: "older" });
    await store.save(20, stateAfter(20), { which: "newer" });
    const snapshots = db.prisma.stateSnapshot;
    // Not gzip at all; gzip'd JSON that is no engine state; a snapshot of another format (not even tried).
    await snapshots.create({ data: { seq: 30n, format: SNAPSHOT_FORMAT, state: Buffer.from("not gzip") } });
    const tampered = { state: { ...(encodeState(stateAfter(40)) as object), state: { accounts: [] } }, extras: {} };
    await snapshots.create({ data: { seq: 40n, format: SNAPSHOT_FORMAT, state: gzipSync(JSON.stringify(tampered)) } });
    await snapshots.create({ data: { seq: 50n, format: SNAPSHOT_FORMAT + 1, state: Buffer.from("from another version") } });

    const latest = await store.latest();
    expect(latest?.seq).toBe(20);
    expect(latest?.extras).toEqual({ which: "newer" });
    expect(isDeepStrictEqual(toPlainMaps(latest?.state), toPlainMaps(stateAfter(20)))).toBe(true);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/seq 40 .*not an engine state/);
    expect(warnings[1]).toMatch(/seq 30 /);
  });

  it("returns null when no snapshot of this format can be read", async () => {
    await db.prisma.stateSnapshot.create({ data: { seq: 1n, format: SNAPSHOT_FORMAT, state: gzipSync("{}") } });
    expect(await store.latest()).toBeNull();
    expect(warnings).toHaveLength(1);
  });
});
