import { describe, expect, it } from "vitest";
import type { OptionInput } from "@/server/advisory/black-scholes";
import { blackScholes, normalCdf, optionPrice } from "@/server/advisory/black-scholes";

// Φ(x) = erfc(−x/√2)/2 from Python's math.erfc (correctly rounded to about 1 ulp).
const reference: [number, number][] = [
  [-37.5, 4.605353009582584e-308],
  [-20, 2.7536241186063314e-89],
  [-10, 7.619853024160593e-24],
  [-8, 6.220960574271819e-16],
  [-7.5, 3.19089167291092e-14],
  [-7.0710678, 7.687299629545496e-13],
  [-5, 2.866515718791946e-7],
  [-3, 0.0013498980316300957],
  [-1.96, 0.024997895148220435],
  [-1, 0.15865525393145707],
  [-0.5, 0.3085375387259869],
  [0, 0.5],
  [0.25, 0.5987063256829237],
  [1, 0.8413447460685429],
  [2.5, 0.9937903346742238],
  [4, 0.9999683287581669],
  [6, 0.9999999990134123],
  [9, 1.0],
];

const atm = { spot: 100, strike: 100, ratePerYear: 0.05, volPerYear: 0.2, years: 1 };

describe("normal CDF", () => {
  it("matches erfc to 1e-14 absolute and 1e-7 relative in the far tail", () => {
    for (const [x, expected] of reference) {
      expect(Math.abs(normalCdf(x) - expected)).toBeLessThan(1e-14);
      if (x > -37) expect(Math.abs(normalCdf(x) / expected - 1)).toBeLessThan(1e-7); // below −37 it is 0 (underflow)
    }
  });

  it("is symmetric: Φ(x) + Φ(−x) = 1", () => {
    for (let x = -6; x <= 6; x += 0.37) expect(normalCdf(x) + normalCdf(-x)).toBeCloseTo(1, 14);
  });
});

describe("Black-Scholes", () => {
  it("given S=K=100, r=5%, σ=20%, T=1 then prices the call at 10.4506 and the put at 5.5735", () => {
    expect(optionPrice({ type: "call", ...atm }).toFixed(4)).toBe("10.4506");
    expect(optionPrice({ type: "put", ...atm }).toFixed(4)).toBe("5.5735");
  });

  it("satisfies put-call parity C − P = S − K·e^(−rT) to 1e-10 over a grid", () => {
    let checked = 0;
    for (const spot of [20, 80, 100, 125, 400])
      for (const strike of [50, 100, 150])
        for (const ratePerYear of [0, 0.01, 0.05, 0.12])
          for (const volPerYear of [0.01, 0.2, 0.6, 1.5])
            for (const years of [1 / 365, 0.25, 1, 5]) {
              const input = { spot, strike, ratePerYear, volPerYear, years };
              const parity = optionPrice({ type: "call", ...input }) - optionPrice({ type: "put", ...input }) - (spot - strike * Math.exp(-ratePerYear * years));
              expect(Math.abs(parity)).toBeLessThan(1e-10);
              checked++;
            }
    expect(checked).toBe(960);
  });

  it("gives Greeks that match finite differences of the price", () => {
    const bump = (input: OptionInput, key: "spot" | "volPerYear" | "years" | "ratePerYear", h: number) => {
      const up = optionPrice({ ...input, [key]: input[key] + h });
      const down = optionPrice({ ...input, [key]: input[key] - h });
      return { first: (up - down) / (2 * h), second: (up - 2 * optionPrice(input) + down) / (h * h) };
    };
    for (const type of ["call", "put"] as const)
      for (const [spot, strike, volPerYear, years] of [
        [100, 100, 0.2, 1],
        [90, 110, 0.35, 0.5],
        [130, 100, 0.15, 2],
        [100, 95, 0.6, 0.1],
      ] as const) {
        const input: OptionInput = { type, spot, strike, ratePerYear: 0.03, volPerYear, years };
        const greeks = blackScholes(input);
        const close = (actual: number, expected: number, tolerance: number) => expect(Math.abs(actual - expected)).toBeLessThan(tolerance * Math.max(1, Math.abs(expected)));
        close(greeks.delta, bump(input, "spot", 1e-3).first, 1e-7);
        close(greeks.gamma, bump(input, "spot", 1e-2).second, 1e-5);
        close(greeks.vegaPerVol, bump(input, "volPerYear", 1e-5).first, 1e-7);
        close(greeks.thetaPerYear, -bump(input, "years", 1e-6).first, 1e-6);
        close(greeks.rhoPerRate, bump(input, "ratePerYear", 1e-6).first, 1e-7);
      }
  });

  it("gives the discounted intrinsic value at expiry or zero volatility, and refuses non-finite input", () => {
    expect(optionPrice({ type: "call", spot: 120, strike: 100, ratePerYear: 0.05, volPerYear: 0.2, years: 0 })).toBe(20);
    expect(optionPrice({ type: "put", spot: 120, strike: 100, ratePerYear: 0.05, volPerYear: 0.2, years: 0 })).toBe(0);
    expect(optionPrice({ type: "put", spot: 90, strike: 100, ratePerYear: 0, volPerYear: 0, years: 1 })).toBeCloseTo(10, 12);
    expect(() => optionPrice({ type: "call", ...atm, volPerYear: NaN })).toThrow(/finite/);
    expect(() => optionPrice({ type: "call", ...atm, spot: 0 })).toThrow(/positive/);
  });
});
