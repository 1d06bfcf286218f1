import { describe, expect, it } from "vitest";
import { EquityHistory, EquityHistoryError, lttb, MAX_POINTS_PER_ACCOUNT, POINT_BYTES, pointsPerAccount, retentionScale, type EquityPoint } from "@/server/equity-history";
import type { LazyArray } from "@/server/engine/snapshot";

type XY = { x: number; y: number };
const byX = (p: XY) => p.x;
const byY = (p: XY) => p.y;

// A deterministic pseudo-random sequence in [0, 1) (mulberry32): tests must not vary between runs.
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function walk(n: number, seed = 7): XY[] {
  const next = random(seed);
  let y = 100;
  return Array.from({ length: n }, (_, x) => ({ x, y: (y += next() - 0.5) }));
}

const point = (at: number, equity: number): EquityPoint => ({
  at,
  equity,
  baseline: 100_000,
  dailyLossFloor: 95_000,
  maxLossFloor: 90_000,
});

const START = Date.UTC(2025, 0, 6);
const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe("lttb", () => {
  it("when the series is longer than the threshold, then it keeps the first and last point and returns exactly threshold points", () => {
    for (const [n, threshold] of [[10, 3], [1_000, 100], [1_001, 1_000], [12_345, 999], [100_000, 1_000]] as const) {
      const points = walk(n);
      const sampled = lttb(points, threshold, byX, byY);
      expect(sampled).toHaveLength(threshold);
      expect(sampled[0]).toBe(points[0]);
      expect(sampled.at(-1)).toBe(points.at(-1));
    }
  });

  it("picks points of the input only, in input order, each once", () => {
    const points = walk(5_000);
    const sampled = lttb(points, 250, byX, byY);
    const indexes = sampled.map((p) => points.indexOf(p));
    expect(indexes.every((i) => i >= 0)).toBe(true);
    expect(indexes).toEqual([...indexes].sort((a, b) => a - b));
    expect(new Set(indexes).size).toBe(indexes.length);
  });

  it("when the series is no longer than the threshold, then it returns the input", () => {
    const points = walk(50);
    expect(lttb(points, 50, byX, byY)).toEqual(points);
    expect(lttb(points, 1_000, byX, byY)).toEqual(points);
    expect(lttb(points, Infinity, byX, byY)).toEqual(points);
    expect(lttb([], 10, byX, byY)).toEqual([]);
  });

  it("when the threshold is below 3, then it returns first and last, the last, or nothing", () => {
    const points = walk(10);
    expect(lttb(points, 2, byX, byY)).toEqual([points[0], points[9]]);
    expect(lttb(points, 1, byX, byY)).toEqual([points[9]]);
    expect(lttb(points, 0, byX, byY)).toEqual([]);
    expect(lttb(points, -5, byX, byY)).toEqual([]);
    expect(() => lttb(points, Number.NaN, byX, byY)).toThrow(RangeError);
  });

  it("keeps a one-point drawdown within 100,000 flat points", () => {
    const points = Array.from({ length: 100_000 }, (_, x) => ({ x, y: 100_000 }));
    points[61_803] = { x: 61_803, y: 97_500 };
    const sampled = lttb(points, 1_000, byX, byY);
    expect(sampled).toContain(points[61_803]);
  });

  it("is deterministic", () => {
    const points = walk(20_000, 3);
    expect(lttb(points, 700, byX, byY)).toEqual(lttb(points, 700, byX, byY));
  });
});

describe("EquityHistory", () => {
  it("when many points fall in one second, then it keeps at most three and the lowest survives", () => {
    const history = new EquityHistory();
    const next = random(11);
    for (let i = 0; i < 10_000; i++) history.record("acc", point(START + i / 10, 100_000 + next() * 100));
    history.record("acc", point(START + 999, 99_000));
    history.record("acc", point(START + 999, 100_050));

    expect(history.size("acc")).toBeLessThanOrEqual(3);
    const stored = history.query("acc", { points: 1_000 });
    expect(stored.map((p) => p.equity)).toContain(99_000);
    expect(stored.at(-1)!.equity).toBe(100_050);
  });

  it("when a second passes, then the conflated bucket closes and its lowest, highest and last stay in time order", () => {
    const history = new EquityHistory();
    for (const [at, equity] of [[0, 100], [100, 90], [200, 120], [300, 110], [400, 105], [1_000, 104]] as const) {
      history.record("acc", point(START + at, equity));
    }
    expect(history.query("acc", { points: 100 }).map((p) => [p.at - START, p.equity])).toEqual([
      [100, 90],
      [200, 120],
      [400, 105],
      [1_000, 104],
    ]);
  });

  it("when a point is older than the last one, then it is merged into the newest bucket at the last time", () => {
    const history = new EquityHistory();
    history.record("acc", point(START + 5_000, 100));
    history.record("acc", point(START + 1_000, 80));
    expect(history.query("acc", { points: 10 }).map((p) => [p.at - START, p.equity])).toEqual([
      [5_000, 100],
      [5_000, 80],
    ]);
  });

  it("ignores a point with a non-finite field", () => {
    const history = new EquityHistory();
    history.record("acc", point(START, Number.NaN));
    history.record("acc", { ...point(START, 100), maxLossFloor: Infinity });
    history.record("acc", point(Number.NaN, 100));
    expect(history.size("acc")).toBe(0);
    expect(history.query("acc", { points: 10 })).toEqual([]);
  });

  it("returns the points inside [from, to], at most `points` of them, for the named account only", () => {
    const history = new EquityHistory();
    for (let s = 0; s < 100; s++) history.record("a", point(START + s * SECOND, 100_000 + s));
    history.record("b", point(START, 1));

    const range = history.query("a", { from: START + 10 * SECOND, to: START + 20 * SECOND, points: 1_000 });
    expect(range.map((p) => (p.at - START) / SECOND)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    expect(range[0]).toEqual(point(START + 10 * SECOND, 100_010));

    const sampled = history.query("a", { from: START + 10 * SECOND, points: 5 });
    expect(sampled).toHaveLength(5);
    expect(sampled[0]!.at).toBe(START + 10 * SECOND);
    expect(sampled.at(-1)!.at).toBe(START + 99 * SECOND);

    expect(history.query("a", { from: START + 200 * SECOND, points: 10 })).toEqual([]);
    expect(history.query("a", { from: START + 20 * SECOND, to: START + 10 * SECOND, points: 10 })).toEqual([]);
    expect(history.query("nobody", { points: 10 })).toEqual([]);
    expect(history.accounts().sort()).toEqual(["a", "b"]);
  });

  it("when a month of one point per 100 ms is recorded, then the stored points stay under the cap, the tiers coarsen with age and a drawdown spike survives", () => {
    const history = new EquityHistory();
    const next = random(5);
    const end = START + 30 * DAY;
    const spikeAt = START + 2 * DAY + 3 * HOUR + 17_300;
    const spike = point(0, 0);
    const tick = point(0, 100_000);
    let at = START;
    let equity = 100_000;
    const started = performance.now();
    for (; at < end; at += 100) {
      equity += next() - 0.5;
      tick.at = at;
      tick.equity = equity;
      history.record("acc", tick);
      if (at === spikeAt) history.record("acc", Object.assign(spike, { at, equity: equity - 20_000 }));
    }
    const recordMs = performance.now() - started;
    const stored = history.size("acc");
    console.log(`equity history: a month at 100 ms = ${((end - START) / 100).toLocaleString("en")} points recorded in ${recordMs.toFixed(0)} ms; ${stored.toLocaleString("en")} stored (cap ${MAX_POINTS_PER_ACCOUNT.toLocaleString("en")})`);

    const jsonBytes = JSON.stringify(history.toJSON()).length;
    console.log(`equity history: the month as JSON: ${(jsonBytes / 1e6).toFixed(1)} MB`);
    expect(MAX_POINTS_PER_ACCOUNT).toBe(93_264);
    expect(stored).toBeLessThan(MAX_POINTS_PER_ACCOUNT);

    // The whole month is still there: the first hour's bucket keeps its lowest, highest and last point.
    const all = history.query("acc", { points: 1_000 });
    expect(all).toHaveLength(1_000);
    expect(all[0]!.at).toBeLessThan(START + HOUR);
    expect(all.at(-1)!.at).toBe(end - 100);
    expect(Math.min(...all.map((p) => p.equity))).toBe(spike.equity);

    const count = (from: number, to: number) => history.query("acc", { from, to, points: Infinity }).length;
    // The last minute at 1 s (up to 3 points a second), an old hour at 1 h (up to 3 points).
    expect(count(end - MINUTE, end)).toBeGreaterThanOrEqual(60);
    expect(count(end - MINUTE, end)).toBeLessThanOrEqual(3 * 60);
    expect(count(START + 10 * DAY, START + 10 * DAY + HOUR - 1)).toBeLessThanOrEqual(3);
    // A day ago: 10 s buckets; four days ago: 1 min buckets.
    expect(count(end - DAY + HOUR, end - DAY + HOUR + MINUTE - 1)).toBeLessThanOrEqual(3 * 6);
    expect(count(end - 4 * DAY, end - 4 * DAY + MINUTE - 1)).toBeLessThanOrEqual(3);
  }, 120_000);

  it("when written to JSON and read back, then it answers the same and goes on conflating the same", async () => {
    const history = new EquityHistory();
    const next = random(9);
    let at = START;
    const feed = (target: EquityHistory[], until: number, stepMs: number) => {
      for (; at < until; at += stepMs) {
        const equity = 100_000 + Math.sin(at / HOUR) * 500 + next() * 50;
        for (const h of target) h.record("acc", point(at, equity));
        if (at % 3 === 0) for (const h of target) h.record("other", point(at, equity - 1));
      }
    };
    // Nine days sparse, then thirty hours dense: every tier holds points, conflated ones among them.
    feed([history], START + 9 * DAY, 13_000);
    feed([history], START + 9 * DAY + 30 * HOUR + 1_234, 700);

    const json = JSON.parse(JSON.stringify(history.toJSON()));
    expect(json.accounts[0].tiers.map((tier: { closed: number[] }) => tier.closed.length > 0)).toEqual([true, true, true, true]);
    const restored = EquityHistory.fromJSON(json);
    expect(restored.accounts()).toEqual(history.accounts());
    expect(restored.size("acc")).toBe(history.size("acc"));
    expect(restored.toJSON()).toEqual(history.toJSON());
    expect(restored.query("acc", { points: 500 })).toEqual(history.query("acc", { points: 500 }));
    // Written an account at a time (as a snapshot does), it is the same history.
    const lazily = history.toJSONLazily() as { accounts: LazyArray };
    expect({ ...lazily, accounts: [...lazily.accounts.items()] }).toEqual(history.toJSON());

    feed([history, restored], START + 11 * DAY, 700);
    expect(restored.toJSON()).toEqual(history.toJSON());
    expect(restored.query("other", { from: START + DAY, points: 300 })).toEqual(history.query("other", { from: START + DAY, points: 300 }));
  });

  it("when stored by the earlier format (points as JSON numbers), then it reads back the same history", () => {
    const history = new EquityHistory();
    for (let i = 0; i < 5_000; i++) history.record(i % 2 ? "a" : "b", point(START + i * 700, 100_000 + Math.sin(i) * 300));
    const restored = EquityHistory.fromJSON(asFormat1(history.toJSON()));
    expect(restored.toJSON()).toEqual(history.toJSON());
    expect(restored.query("a", { points: 200 })).toEqual(history.query("a", { points: 200 }));
  });

  it("when the stored value is malformed, then fromJSON throws", () => {
    const good = new EquityHistory();
    good.record("acc", point(START, 100));
    good.record("acc", point(START + 10, 90));
    good.record("acc", point(START + 2_000, 95));
    const valid = asFormat1(good.toJSON());
    expect(() => EquityHistory.fromJSON(valid)).not.toThrow();
    const written = JSON.parse(JSON.stringify(good.toJSON())) as { accounts: { tiers: { closed: string }[] }[] };
    const base64Variant = (closed: string) => {
      const copy = structuredClone(written);
      copy.accounts[0]!.tiers[0]!.closed = closed;
      return copy;
    };
    expect(() => EquityHistory.fromJSON(written)).not.toThrow();

    const variant = (change: (value: typeof valid) => void) => {
      const copy = structuredClone(valid);
      change(copy);
      return copy;
    };
    for (const garbage of [
      null,
      undefined,
      "history",
      42,
      [],
      {},
      { ...valid, format: 2 },
      variant((v) => (v.bucketsMs = [1_000, 60_000])),
      variant((v) => v.accounts.push(v.accounts[0]!)),
      variant((v) => (v.accounts[0]!.accountId = "")),
      variant((v) => v.accounts[0]!.tiers.pop()),
      variant((v) => v.accounts[0]!.tiers[0]!.closed.push(1)),
      variant((v) => (v.accounts[0]!.tiers[0]!.closed[1] = Number.NaN)),
      variant((v) => ((v.accounts[0]!.tiers[0]!.closed as unknown[])[1] = "100")),
      // Time going backwards, an open bucket over two seconds, more than three open points.
      variant((v) => (v.accounts[0]!.tiers[0]!.open[0] = START)),
      variant((v) => v.accounts[0]!.tiers[0]!.open.push(START + 9_000, 1, 2, 3, 4)),
      variant((v) => v.accounts[0]!.tiers[0]!.open.push(...Array.from({ length: 3 }, () => [START + 2_500, 1, 2, 3, 4]).flat())),
      // Format 2: not base64, not a whole number of float64s or of points, a NaN.
      base64Variant("not base64!"),
      base64Variant(Buffer.from([1, 2, 3]).toString("base64")),
      base64Variant(Buffer.from(new Float64Array([START, 1, 2]).buffer).toString("base64")),
      base64Variant(Buffer.from(new Float64Array([START, Number.NaN, 2, 3, 4]).buffer).toString("base64")),
    ]) {
      expect(() => EquityHistory.fromJSON(garbage), JSON.stringify(garbage)).toThrow(EquityHistoryError);
    }
  });

  describe("the book's budget", () => {
    /** Every account one point a second (a random walk of its own) for `seconds`, from START. */
    function trade(history: EquityHistory, accounts: string[], seconds: number, from = START): void {
      const next = random(11);
      const equity = new Map(accounts.map((id) => [id, 100_000]));
      for (let s = 0; s < seconds; s++) {
        for (const id of accounts) {
          const value = equity.get(id)! + (next() - 0.5) * 50;
          equity.set(id, value);
          history.record(id, point(from + s * SECOND, value));
        }
      }
    }
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `acc-${i}`);
    /** What one account may hold at most, at full retention, in bytes. */
    const oneAccount = MAX_POINTS_PER_ACCOUNT * POINT_BYTES;

    it("keeps a book of 16 accounts trading for 3 hours within a budget of one account's bound, each keeping the same share of every tier", () => {
      const history = new EquityHistory(oneAccount);
      trade(history, ids(16), 3 * 3_600);
      const share = history.retention;
      expect(share).toBe(retentionScale(16, oneAccount));
      expect(share).toBeLessThanOrEqual(1 / 16);
      expect(share).toBeGreaterThan(1 / 32);
      expect(history.totalPoints() * POINT_BYTES).toBeLessThanOrEqual(oneAccount);
      for (const id of ids(16)) {
        expect(history.size(id) * 16 * POINT_BYTES).toBeLessThanOrEqual(oneAccount);
        // The whole 3 hours is still there: the oldest points passed on to the coarser tiers.
        const all = history.query(id, { points: 100_000 });
        expect(all[0]!.at).toBeLessThan(START + MINUTE);
        expect(all.at(-1)!.at).toBe(START + (3 * 3_600 - 1) * SECOND);
        // The finest tier (1 s buckets) covers its share of its hour, every second of it, and no more.
        const span = Math.floor(3_600 * share);
        const end = START + 3 * HOUR;
        const recent = history.query(id, { from: end - 10 * MINUTE, points: 100_000 });
        const seconds = new Set(recent.map((p) => p.at));
        for (let at = end - (span - 1) * SECOND; at < end; at += SECOND) expect(seconds.has(at)).toBe(true);
        // Beyond it, 10 s buckets: at most 3 points for each 1 s bucket kept and each 10 s one.
        expect(recent.length).toBeLessThanOrEqual(3 * (span + 2) + 3 * ((10 * 60 - span) / 10 + 2));
      }
    });

    it("cuts the histories already recorded when the book grows past its budget (each when it is next recorded, read or written)", () => {
      const history = new EquityHistory(oneAccount);
      trade(history, ["acc-0"], 2 * 3_600);
      const before = history.size("acc-0");
      expect(history.retention).toBe(1);
      expect(before * 64 * POINT_BYTES).toBeGreaterThan(oneAccount);
      for (const id of ids(64).slice(1)) history.record(id, point(START + 2 * HOUR, 100_000));
      expect(history.retention).toBe(retentionScale(64, oneAccount));
      expect(history.size("acc-0") * 64 * POINT_BYTES).toBeLessThanOrEqual(oneAccount);
      expect(history.totalPoints() * POINT_BYTES).toBeLessThanOrEqual(oneAccount);
      // The storage too: a cut ring gives back what its new cap no longer allows.
      expect(history.storageBytes()).toBeLessThanOrEqual(64 * pointsPerAccount(history.retention) * POINT_BYTES);
      expect(history.ringsOverCap()).toBe(0);
      expect(history.query("acc-0", { points: 100_000 })[0]!.at).toBeLessThan(START + MINUTE);
    });

    it("reads back a history stored under a larger budget cut to this one's share", () => {
      const large = new EquityHistory(16 * oneAccount);
      trade(large, ids(16), 3 * 3_600);
      expect(large.retention).toBe(1);
      const json = JSON.parse(JSON.stringify(large.toJSON()));
      const small = EquityHistory.fromJSON(json, oneAccount);
      expect(small.retention).toBe(retentionScale(16, oneAccount));
      expect(small.totalPoints() * POINT_BYTES).toBeLessThanOrEqual(oneAccount);
      // Read back at full size first, then cut: the rings' storage is within each account's bound as well.
      expect(small.storageBytes()).toBeLessThanOrEqual(16 * pointsPerAccount(small.retention) * POINT_BYTES);
      expect(small.ringsOverCap()).toBe(0);
      expect(small.query("acc-3", { points: 100_000 })[0]!.at).toBe(large.query("acc-3", { points: 100_000 })[0]!.at);
    });

    it("gives back the storage a cut leaves over: every ring within its new cap", () => {
      // 85 minutes of one point a second: 1 h in the 1 s tier, 25 min (about 450 points) in the 10 s one.
      const full = new EquityHistory();
      trade(full, ["acc-0"], 85 * 60);
      const budget = pointsPerAccount(2 ** -6) * POINT_BYTES;
      const cut = EquityHistory.fromJSON(JSON.parse(JSON.stringify(full.toJSON())), budget);
      expect(cut.retention).toBe(2 ** -6);
      expect(cut.storageBytes()).toBeLessThanOrEqual(budget);
      expect(cut.ringsOverCap()).toBe(0);
      expect(cut.query("acc-0", { points: 100_000 })[0]!.at).toBeLessThan(START + MINUTE);
    });

    it("scales retention to the largest step of 2^(-1/4) whose bound fits, 1 while the book fits", () => {
      expect(retentionScale(1, oneAccount)).toBe(1);
      for (const [accounts, budget] of [[2, oneAccount], [3, oneAccount], [16, oneAccount], [100, 64 * 1024 * 1024], [10_000, 512 * 1024 * 1024]] as const) {
        const share = retentionScale(accounts, budget);
        expect(4 * Math.log2(share)).toBeCloseTo(Math.round(4 * Math.log2(share)), 9);
        expect(accounts * pointsPerAccount(share) * POINT_BYTES).toBeLessThanOrEqual(budget);
        expect(accounts * pointsPerAccount(share * 2 ** 0.25) * POINT_BYTES).toBeGreaterThan(budget);
      }
      // 10,000 accounts in the default 512 MiB: about 1,300 points each (the finest tier's last 47 s, the 1 h tier's last 4.8 days).
      expect(pointsPerAccount(retentionScale(10_000, 512 * 1024 * 1024))).toBeLessThan(1_400);
      expect(() => new EquityHistory(0)).toThrow(RangeError);
    });
  });

  it("records 1,000,000 points and answers a 1,000-point query (figures printed, not asserted)", () => {
    const history = new EquityHistory();
    const next = random(1);
    const accounts = Array.from({ length: 10 }, (_, i) => `acc-${i}`);
    const equity = accounts.map(() => 100_000);
    let started = performance.now();
    // 10 accounts, 100,000 points each, one every 10 ms per account (about 17 minutes).
    for (let i = 0; i < 1_000_000; i++) {
      const a = i % 10;
      history.record(accounts[a]!, point(START + Math.floor(i / 10) * 10, (equity[a]! += next() - 0.5)));
    }
    const recordMs = performance.now() - started;

    const single = new EquityHistory();
    for (let i = 0; i < 1_000_000; i++) single.record("acc", point(START + i * 10, (equity[0]! += next() - 0.5)));

    started = performance.now();
    const sampled = history.query("acc-3", { points: 1_000 });
    const queryMs = performance.now() - started;
    started = performance.now();
    const long = single.query("acc", { points: 1_000 });
    const longQueryMs = performance.now() - started;
    console.log(
      `equity history: recorded 1,000,000 points (10 accounts) in ${recordMs.toFixed(0)} ms (${((recordMs * 1e6) / 1_000_000).toFixed(0)} ns a point); ` +
        `query of 1,000 points from ${history.size("acc-3").toLocaleString("en")} stored in ${queryMs.toFixed(1)} ms; ` +
        `one account over ${((1_000_000 * 10) / HOUR).toFixed(1)} h: query of 1,000 from ${single.size("acc").toLocaleString("en")} stored in ${longQueryMs.toFixed(1)} ms`,
    );
    expect(sampled).toHaveLength(1_000);
    expect(long).toHaveLength(1_000);
  }, 60_000);
});

/** A history as format 1 wrote it: each run of points as JSON numbers. */
function asFormat1(json: unknown): { format: number; bucketsMs: number[]; accounts: { accountId: string; tiers: { closed: number[]; open: number[] }[] }[] } {
  const stored = JSON.parse(JSON.stringify(json)) as { bucketsMs: number[]; accounts: { accountId: string; tiers: { closed: string; open: string }[] }[] };
  const numbers = (base64: string) => [...new Float64Array(new Uint8Array(Buffer.from(base64, "base64")).buffer)];
  return {
    format: 1,
    bucketsMs: stored.bucketsMs,
    accounts: stored.accounts.map(({ accountId, tiers }) => ({ accountId, tiers: tiers.map(({ closed, open }) => ({ closed: numbers(closed), open: numbers(open) })) })),
  };
}
