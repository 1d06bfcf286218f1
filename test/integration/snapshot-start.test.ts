import { afterAll, describe, expect, it } from "vitest";
import { DEMO_ACCOUNT, EURUSD_TICK, sampleIntent } from "../fixtures";
import { api, engineConfigFile, startServer, tempDir } from "./harness";

const roomy = engineConfigFile({ guards: { throttle: { maxIntentsPerSecond: 100_000 } } });

describe("starting from a state snapshot", () => {
  const dataDir = tempDir("riskgate-snapshot-");
  const env = { RISKGATE_DATA_DIR: dataDir, RISKGATE_SNAPSHOT_EVERY: "100", RISKGATE_ENGINE_CONFIG: roomy };
  const stops: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const stop of stops) await stop();
  });

  it("folds only the ledger after the latest snapshot and rebuilds the same state, after kill -9 too", async () => {
    const first = await startServer(env);
    stops.push(() => first.stop("SIGKILL"));
    expect(first.output()).toContain("from the whole ledger");
    for (let round = 0; round < 40; round++) {
      await api(first.url, "POST", "/api/v1/market", { ticks: [{ symbol: "EURUSD", price: EURUSD_TICK.ticks[0]!.price + round * 0.0001 }] });
      await api(first.url, "POST", "/api/v1/intents", sampleIntent(`snap-${round}`, { quantity: 0.1 }));
      if (round === 20) await api(first.url, "POST", `/api/v1/accounts/${DEMO_ACCOUNT}/vetoes`, { symbol: "GBPUSD", reason: "snapshot test" });
      // Spread over several equity intervals (1 s), as a live server's commits are, so that
      // equity points are waiting for their interval when the snapshot is taken.
      await new Promise((resolve) => setTimeout(resolve, 75));
    }
    await new Promise((resolve) => setTimeout(resolve, 1500)); // the background save
    const before = (await api(first.url, "GET", "/api/v1/accounts")).body!;
    const decisionsBefore = (await api(first.url, "GET", "/api/v1/decisions?limit=500")).body!;
    const equityBefore = (await api(first.url, "GET", `/api/v1/accounts/${DEMO_ACCOUNT}/equity?points=500`)).body!;
    await first.stop("SIGKILL");

    const second = await startServer(env);
    stops.push(() => second.stop());
    const match = /state rebuilt up to seq (\d+) from the snapshot at seq (\d+)/.exec(second.output());
    expect(match, second.output()).not.toBeNull();
    expect(Number(match![2])).toBeGreaterThanOrEqual(100);
    expect(Number(match![1])).toBe(before.seq);
    expect((await api(second.url, "GET", "/api/v1/accounts")).body).toEqual(before);
    expect((await api(second.url, "GET", "/api/v1/decisions?limit=500")).body).toEqual(decisionsBefore);
    // Equity history: every point up to the snapshot is kept as it was (points still waiting for
    // their interval when it was taken included), and the newest point is the same. Points of the
    // tail are sampled again as it is folded (one per account and interval, at event times), so
    // the tail may hold fewer of them than the live server recorded, never other figures.
    const snapshotSeq = Number(match![2]);
    const atSnapshot = (await api(second.url, "GET", `/api/v1/ledger?afterSeq=${snapshotSeq - 1}&limit=1`)).body!.events[0];
    const snapshotAt = (atSnapshot.event.at as number | undefined) ?? atSnapshot.recordedAt;
    const equityAfter = (await api(second.url, "GET", `/api/v1/accounts/${DEMO_ACCOUNT}/equity?points=500`)).body!;
    const upTo = (points: { at: number }[]) => points.filter((point) => point.at <= snapshotAt);
    expect(equityBefore.points.length).toBeLessThan(500);
    expect(upTo(equityAfter.points)).toEqual(upTo(equityBefore.points));
    expect(upTo(equityBefore.points).length).toBeGreaterThan(1);
    expect(equityAfter.points.at(-1)).toEqual(equityBefore.points.at(-1));
    // A resent intent is still recognised as a retry, with its first decision.
    const retry = await api(second.url, "POST", "/api/v1/intents", sampleIntent("snap-3", { quantity: 0.1 }));
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
  }, 120_000);
});
