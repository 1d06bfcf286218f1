import { describe, expect, it } from "vitest";
import type { ChaosPosition } from "@/server/advisory/chaos";
import { CRISES, stressTest } from "@/server/advisory/stress";

const account = { equity: 100_000, dailyLossFloor: 95_000, maxLossFloor: 90_000 };
const long = (quantity: number, price = 100): ChaosPosition => ({ side: "long", quantity, price, contractSize: 1 });
const byId = (report: ReturnType<typeof stressTest>) => Object.fromEntries(report.results.map((r) => [r.crisis, r]));

describe("stress tester", () => {
  it("given long 10 units at 100 with beta 1.5 under a −20% day then projects −300 USD", () => {
    const minus20 = { ...CRISES[0]!, path: [{ label: "before", cumulativePct: 0 }, { label: "after", cumulativePct: -20 }], worstDayPct: -20 };
    const [result] = stressTest({ position: long(10), account, beta: 1.5, betaSource: "given", crises: [minus20] }).results;
    expect(result!.worstPnl).toBeCloseTo(-300, 10);
    expect(result!.endPnl).toBeCloseTo(-300, 10);
    expect(result!.worstDayPnl).toBeCloseTo(-300, 10);
    expect(result!.survives).toBe(true);
  });

  it("replays the documented crisis figures of the S&P 500", () => {
    const results = byId(stressTest({ position: long(10), account, beta: 1, betaSource: "given" }));
    expect(results.black_monday_1987!.benchmarkWorstPct).toBeCloseTo(-20.47, 2);
    expect(results.gfc_2008!.benchmarkWorstPct).toBeCloseTo(-41.3, 0);
    expect(results.gfc_2008!.worstAt).toBe("20 Nov (closing low)");
    expect(results.covid_2020!.benchmarkWorstPct).toBeCloseTo(-33.9, 0);
    expect(results.flash_crash_2010!.benchmarkWorstPct).toBeCloseTo(-8.58, 2);
    expect(results.flash_crash_2010!.benchmarkEndPct).toBeCloseTo(-3.24, 2);
  });

  it("given 30,000 USD long at beta 1 on an account 5,000 above its daily floor then fails three crises", () => {
    const report = stressTest({ position: long(300), account, beta: 1, betaSource: "given" });
    const results = byId(report);
    expect(results.black_monday_1987).toMatchObject({ breachesDailyLoss: true, breachesMaxLoss: false, survives: false }); // −6,141
    expect(results.gfc_2008).toMatchObject({ breachesDailyLoss: false, breachesMaxLoss: true, survives: false }); // −12,404, worst day −2,709
    expect(results.covid_2020).toMatchObject({ breachesDailyLoss: false, breachesMaxLoss: true, survives: false }); // −10,177
    expect(results.flash_crash_2010).toMatchObject({ survives: true }); // −2,574
    expect(report).toMatchObject({ failures: 3, survival: "1/4", notional: 30_000 });
  });

  it("for a short, a crash is a gain and the rally days are the risk", () => {
    const report = stressTest({ position: { ...long(300), side: "short" }, account, beta: 1, betaSource: "given" });
    const results = byId(report);
    expect(results.black_monday_1987!.endPnl).toBeCloseTo(6_141, 0);
    expect(results.gfc_2008!.worstDayPnl).toBeCloseTo(-300 * 100 * 0.1158, 0); // 13 Oct 2008, +11.58%
    expect(report.failures).toBe(0);
  });

  it("caps the move at −100% (a price does not go below zero)", () => {
    const [result] = stressTest({ position: long(10), account, beta: 6, betaSource: "given", crises: [CRISES[0]!] }).results;
    expect(result!.worstPnl).toBeCloseTo(-1_000, 10);
  });
});
