import { afterAll, describe, expect, it } from "vitest";
import { normalCdf } from "@/server/advisory/black-scholes";
import type { ChaosRequest, JumpDiffusion } from "@/server/advisory/chaos";
import { estimateJumpDiffusion, simulateChaos } from "@/server/advisory/chaos";
import { ChaosPool, runChaos } from "@/server/advisory/chaos-pool";
import { Random } from "@/server/advisory/random";

const gbm = (sigmaPerPeriod: number, muPerPeriod = 0): JumpDiffusion => ({
  muPerPeriod,
  sigmaPerPeriod,
  jumpsPerPeriod: 0,
  jumpLogMean: 0,
  jumpLogStd: 0,
  observations: 500,
  jumpObservations: 0,
  tailSigmas: 3,
});

// 1,000 units at 100 (notional 100,000) on an account 5,000 above its daily floor, 10,000 above its max-loss floor.
const request = (overrides: Partial<ChaosRequest> = {}): ChaosRequest => ({
  seed: 42,
  paths: 5_000,
  steps: 24,
  horizonPeriods: 1_440,
  model: { ...gbm(0.001), jumpsPerPeriod: 0.002, jumpLogMean: -0.01, jumpLogStd: 0.004, jumpObservations: 1 },
  position: { side: "long", quantity: 1_000, price: 100, contractSize: 1 },
  account: { equity: 100_000, dailyLossFloor: 95_000, maxLossFloor: 90_000 },
  flashCrashPct: 9,
  gapDownPct: 5,
  ...overrides,
});

const pools: ChaosPool[] = [];
afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.close()));
});

describe("chaos engine: estimation", () => {
  it("given a jump diffusion's returns when estimated then finds its σ, jump intensity and jump size", () => {
    const random = new Random(3);
    const returns = Array.from({ length: 20_000 }, () => 0.002 * random.normal() + (random.uniform() < 0.01 ? -0.03 + 0.005 * random.normal() : 0));
    const model = estimateJumpDiffusion(returns);
    if (!model.ok) throw new Error(model.detail);
    expect(model.sigmaPerPeriod).toBeGreaterThan(0.002 * 0.95);
    expect(model.sigmaPerPeriod).toBeLessThan(0.002 * 1.05);
    expect(model.jumpsPerPeriod).toBeGreaterThan(0.008);
    expect(model.jumpsPerPeriod).toBeLessThan(0.013);
    expect(Math.abs(model.jumpLogMean - -0.03)).toBeLessThan(0.004);
  });

  it("refuses too short or constant histories with a reason", () => {
    expect(estimateJumpDiffusion([0.01, 0.02])).toMatchObject({ ok: false, reason: "too_short" });
    expect(estimateJumpDiffusion(new Array(100).fill(0.001))).toMatchObject({ ok: false, reason: "constant" });
  });
});

describe("chaos engine: simulation", () => {
  it("given the same seed then gives identical numbers, and records the seed", () => {
    const a = simulateChaos(request());
    expect(simulateChaos(request())).toEqual(a);
    expect(a.seed).toBe(42);
    expect(simulateChaos(request({ seed: 43 })).byPathType.normal.endLoss.p50).not.toBe(a.byPathType.normal.endLoss.p50);
  });

  it("given no jumps and one step then matches the lognormal probability of ending below the floor", () => {
    // Ruin at one step is X ≤ ln(1 − 5,000/100,000), X ~ N((μ − σ²/2)H, σ²H).
    const sigma = 0.001, mu = 0.00001, horizon = 1_440;
    const report = simulateChaos(request({ paths: 80_000, steps: 1, model: gbm(sigma, mu), flashCrashPct: 0, gapDownPct: 0 }));
    const expected = 100 * normalCdf((Math.log(0.95) - (mu - (sigma * sigma) / 2) * horizon) / (sigma * Math.sqrt(horizon)));
    const { ruinRatePct, ruinRateStdErrPct } = report.byPathType.normal;
    expect(expected).toBeGreaterThan(2); // a case worth testing: about 4.3%
    expect(Math.abs(ruinRatePct - expected)).toBeLessThan(4 * ruinRateStdErrPct);
    // And the median loss at the horizon is the lognormal median's.
    const medianLoss = -100_000 * Math.expm1((mu - (sigma * sigma) / 2) * horizon);
    expect(Math.abs(report.byPathType.normal.endLoss.p50 - medianLoss)).toBeLessThan(0.02 * sigma * Math.sqrt(horizon) * 100_000);
  });

  it("converges: the ruin rate at 20,000 and at 80,000 paths agree within 4 standard errors", () => {
    const small = simulateChaos(request({ paths: 20_000, seed: 1 })).byPathType;
    const large = simulateChaos(request({ paths: 80_000, seed: 2 })).byPathType;
    for (const type of ["normal", "flash_crash", "gap_down"] as const) {
      const se = Math.hypot(small[type].ruinRateStdErrPct, large[type].ruinRateStdErrPct);
      expect(Math.abs(small[type].ruinRatePct - large[type].ruinRatePct)).toBeLessThanOrEqual(4 * se + 1e-9);
    }
  });

  it("ranks the path types for a long: a flash crash or a gap only adds to the ruin rate", () => {
    const { normal, flash_crash, gap_down } = simulateChaos(request()).byPathType;
    expect(flash_crash.ruinRatePct).toBeGreaterThanOrEqual(normal.ruinRatePct);
    expect(gap_down.ruinRatePct).toBeGreaterThanOrEqual(normal.ruinRatePct);
    expect(flash_crash.endLoss.p50).toBeGreaterThan(normal.endLoss.p50 + 8_000); // the 9% jump on 100,000
    expect(normal.peakLoss.p50).toBeGreaterThanOrEqual(normal.endLoss.p50);
    expect(normal.peakLoss.worst).toBe(Math.max(normal.peakLoss.worst, normal.endLoss.worst));
  });

  it("for a short, a crash is a gain: the ruin rate does not rise", () => {
    const { normal, flash_crash } = simulateChaos(request({ position: { side: "short", quantity: 1_000, price: 100, contractSize: 1 } })).byPathType;
    expect(flash_crash.ruinRatePct).toBeLessThanOrEqual(normal.ruinRatePct);
    expect(flash_crash.endLoss.p50).toBeLessThan(0);
  });
});

describe("chaos engine: worker threads", () => {
  it("gives exactly the synchronous numbers on a pool of any size", async () => {
    const r = request({ paths: 6_001 });
    const sync = simulateChaos(r);
    for (const size of [1, 2, 3]) {
      const pool = new ChaosPool(size);
      pools.push(pool);
      expect(await pool.run(r)).toEqual(sync);
    }
    expect(await runChaos(r)).toEqual(sync);
  });

  it("reuses its workers across requests", async () => {
    const pool = new ChaosPool(2);
    pools.push(pool);
    const results = await Promise.all([1, 2, 3, 4].map((seed) => pool.run(request({ seed, paths: 1_000 }))));
    results.forEach((result, i) => expect(result).toEqual(simulateChaos(request({ seed: i + 1, paths: 1_000 }))));
  });
});

describe("chaos engine: input", () => {
  it("fails closed on a non-finite input, on this thread and on the pool", async () => {
    const bad = request({ account: { equity: NaN, dailyLossFloor: 95_000, maxLossFloor: 90_000 } });
    expect(() => simulateChaos(bad)).toThrow();
    await expect(runChaos(bad)).rejects.toThrow();
  });
});
