import { describe, expect, it } from "vitest";
import { fitGarch, forecastVolatility, simulateGarch } from "@/server/advisory/garch";
import { Random } from "@/server/advisory/random";

const truth = { omega: 2e-6, alpha: 0.08, beta: 0.9 };
const longRun = truth.omega / (1 - truth.alpha - truth.beta); // 1e-4 per period: 1% a day

describe("GARCH(1,1)", () => {
  // Tolerance, stated: on 10,000 points the QMLE's standard errors are about 0.006 for α and
  // 0.01 for β; we allow α ± 0.025, β ± 0.04, α + β ± 0.015 and the long-run variance ± 20%.
  it.each([11, 2024, 77])("given 10,000 simulated returns (seed %i) when fitted then recovers ω, α, β", (seed) => {
    const random = new Random(seed);
    const returns = simulateGarch(10_000, truth, () => random.normal());
    const fit = fitGarch(returns);
    if (!fit.ok) throw new Error(fit.detail);
    expect(Math.abs(fit.alpha - truth.alpha)).toBeLessThan(0.025);
    expect(Math.abs(fit.beta - truth.beta)).toBeLessThan(0.04);
    expect(Math.abs(fit.persistence - (truth.alpha + truth.beta))).toBeLessThan(0.015);
    expect(Math.abs(fit.longRunVariance / longRun - 1)).toBeLessThan(0.2);
    expect(fit.omega).toBeGreaterThan(0);
    expect(fit.persistence).toBeLessThan(1);
  });

  it("forecasts a volatility that tends to the long-run one, annualized by the periods per year", () => {
    const random = new Random(5);
    const fit = fitGarch(simulateGarch(5_000, truth, () => random.normal()));
    if (!fit.ok) throw new Error(fit.detail);
    const next = forecastVolatility(fit, 1, 252);
    expect(next.horizonVolPerYear).toBeCloseTo(Math.sqrt(fit.nextVariance * 252), 12);
    const far = forecastVolatility(fit, 1e6, 252);
    expect(far.horizonVolPerYear).toBeCloseTo(far.longRunVolPerYear, 3);
    expect(forecastVolatility(fit, 20, 252 * 390).horizonVolPerYear).toBeCloseTo(forecastVolatility(fit, 20, 252).horizonVolPerYear * Math.sqrt(390), 10);
  });

  it("gives a failure with its reason, never NaN, for degenerate input", () => {
    expect(fitGarch([0.01, -0.02, 0.005])).toMatchObject({ ok: false, reason: "too_short" });
    expect(fitGarch(new Array(200).fill(0.001))).toMatchObject({ ok: false, reason: "constant" });
    expect(fitGarch(new Array(200).fill(0))).toMatchObject({ ok: false, reason: "constant" });
    const withNaN = Array.from({ length: 200 }, (_, i) => (i === 50 ? NaN : Math.sin(i) / 100));
    expect(fitGarch(withNaN)).toMatchObject({ ok: false, reason: "non_finite" });
  });

  it("stays finite on awkward but valid input (white noise, one outlier)", () => {
    const random = new Random(9);
    const noise = Array.from({ length: 300 }, () => 0.01 * random.normal());
    const outlier = noise.map((r, i) => (i === 150 ? 0.5 : r));
    for (const series of [noise, outlier]) {
      const fit = fitGarch(series);
      if (!fit.ok) throw new Error(fit.detail);
      for (const value of [fit.omega, fit.alpha, fit.beta, fit.nextVariance, fit.logLikelihood]) expect(Number.isFinite(value)).toBe(true);
      expect(fit.alpha + fit.beta).toBeLessThan(1);
    }
  });
});
