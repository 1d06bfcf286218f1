/**
 * The stress tester (SPEC section 3, advisory; issue 8): four historical crises replayed on a
 * position through its beta to the benchmark. Pure.
 *
 * Each crisis is a documented path of the S&P 500 (the default benchmark is US500), as
 * cumulative % change from the level before it started, and its worst and best single day
 * (close to close, or prior close to intraday low where the crisis is intraday). The figures are
 * well-known published index levels, rounded, and APPROXIMATE: they are for a what-if, not for
 * accounting. Sources, by name: S&P Dow Jones Indices (S&P 500 and Dow Jones Industrial Average
 * daily closes); the Report of the Presidential Task Force on Market Mechanisms ("Brady Report",
 * January 1988) for 1987; the SEC/CFTC joint report "Findings Regarding the Market Events of
 * May 6, 2010" (30 September 2010) for the Flash Crash.
 *
 * Model: the position's return at a point is β × the benchmark's move (capped at −100%: a price
 * does not go below zero), P/L = side × notional × that, the notional converted into the account's
 * currency at the position's `accountPerQuote` (every amount here is in the account's currency,
 * as its floors are). Survival: the worst point of the path
 * must not reach the max-loss floor (equity now − max-loss floor, a static floor), and the worst
 * single day against the position must not reach the daily-loss floor (measured, conservatively,
 * against today's remaining distance to it).
 */
import { z } from "zod";
import type { ChaosPosition, FloorAccount } from "./chaos";

export const CrisisId = z.enum(["black_monday_1987", "gfc_2008", "covid_2020", "flash_crash_2010"]);
export type CrisisId = z.infer<typeof CrisisId>;

export type CrisisPoint = { readonly label: string; readonly cumulativePct: number };

export type Crisis = {
  readonly id: CrisisId;
  readonly name: string;
  readonly window: string;
  /** The benchmark's path, from 0 (the level before the crisis). */
  readonly path: readonly CrisisPoint[];
  /** The worst and best single day within the window, %. */
  readonly worstDayPct: number;
  readonly bestDayPct: number;
  readonly source: string;
};

/** % change from `base` to `level`, to 2 decimals. */
const from = (base: number) => (level: number) => Math.round((level / base - 1) * 10_000) / 100;

const spx1987 = from(282.7);
const spx2008 = from(1282.83);
const spx2020 = from(3386.15);
const spx2010 = from(1165.87);

export const CRISES: readonly Crisis[] = [
  {
    // S&P 500 282.70 (Fri 16 Oct 1987 close) → 224.84 (Mon 19 Oct close): −20.47%; the Dow fell
    // 508 points, 2,246.74 → 1,738.74: −22.61%. The S&P 500 closed near its low of the day.
    id: "black_monday_1987",
    name: "Black Monday",
    window: "19 Oct 1987",
    path: [
      { label: "16 Oct 1987 close", cumulativePct: 0 },
      { label: "19 Oct 1987 close", cumulativePct: spx1987(224.84) },
    ],
    worstDayPct: spx1987(224.84),
    bestDayPct: 0,
    source: "S&P Dow Jones Indices (S&P 500, DJIA closes); Brady Report (1988)",
  },
  {
    // S&P 500 weekly closes, with the crisis' largest daily moves, from 29 Aug 2008 (1,282.83) to
    // the 20 Nov 2008 closing low (752.44, −41.3%) and 28 Nov (896.24). Worst day 15 Oct
    // (998.01 → 907.84, −9.03%); best day 13 Oct (899.22 → 1,003.35, +11.58%).
    id: "gfc_2008",
    name: "2008 financial crisis (Sep–Nov)",
    window: "29 Aug – 28 Nov 2008",
    path: [
      { label: "29 Aug 2008", cumulativePct: 0 },
      { label: "5 Sep", cumulativePct: spx2008(1242.31) },
      { label: "12 Sep", cumulativePct: spx2008(1251.7) },
      { label: "19 Sep", cumulativePct: spx2008(1255.08) },
      { label: "26 Sep", cumulativePct: spx2008(1213.27) },
      { label: "29 Sep (House rejects TARP)", cumulativePct: spx2008(1106.39) },
      { label: "3 Oct", cumulativePct: spx2008(1099.23) },
      { label: "10 Oct", cumulativePct: spx2008(899.22) },
      { label: "13 Oct", cumulativePct: spx2008(1003.35) },
      { label: "15 Oct", cumulativePct: spx2008(907.84) },
      { label: "17 Oct", cumulativePct: spx2008(940.55) },
      { label: "24 Oct", cumulativePct: spx2008(876.77) },
      { label: "31 Oct", cumulativePct: spx2008(968.75) },
      { label: "7 Nov", cumulativePct: spx2008(930.99) },
      { label: "14 Nov", cumulativePct: spx2008(873.29) },
      { label: "20 Nov (closing low)", cumulativePct: spx2008(752.44) },
      { label: "28 Nov", cumulativePct: spx2008(896.24) },
    ],
    worstDayPct: from(998.01)(907.84),
    bestDayPct: from(899.22)(1003.35),
    source: "S&P Dow Jones Indices (S&P 500 closes)",
  },
  {
    // S&P 500 from its record close of 19 Feb 2020 (3,386.15) to 23 Mar 2020 (2,237.40, −33.9%).
    // Worst day 16 Mar (2,711.02 → 2,386.13, −11.98%); best day 13 Mar (2,480.64 → 2,711.02, +9.29%).
    id: "covid_2020",
    name: "COVID crash",
    window: "19 Feb – 23 Mar 2020",
    path: [
      { label: "19 Feb 2020", cumulativePct: 0 },
      { label: "21 Feb", cumulativePct: spx2020(3337.75) },
      { label: "28 Feb", cumulativePct: spx2020(2954.22) },
      { label: "6 Mar", cumulativePct: spx2020(2972.37) },
      { label: "9 Mar", cumulativePct: spx2020(2746.56) },
      { label: "12 Mar", cumulativePct: spx2020(2480.64) },
      { label: "13 Mar", cumulativePct: spx2020(2711.02) },
      { label: "16 Mar", cumulativePct: spx2020(2386.13) },
      { label: "20 Mar", cumulativePct: spx2020(2304.92) },
      { label: "23 Mar (low)", cumulativePct: spx2020(2237.4) },
    ],
    worstDayPct: from(2711.02)(2386.13),
    bestDayPct: from(2480.64)(2711.02),
    source: "S&P Dow Jones Indices (S&P 500 closes)",
  },
  {
    // 6 May 2010, from the 5 May S&P 500 close (1,165.87). Already down about 3% by 14:30 ET; the
    // E-mini and the S&P 500 then fell a further 5–6% by about 14:45 (intraday low 1,065.79 at
    // ~14:47, −8.6% on the prior close; the Dow's low was −998.5 points, about −9.2%), recovered
    // most of that fall within ~20 minutes, and closed at 1,128.15 (−3.24%). The intraday points
    // are rounded from the SEC/CFTC joint report's account.
    id: "flash_crash_2010",
    name: "Flash Crash",
    window: "6 May 2010, 14:30–16:00 ET",
    path: [
      { label: "5 May 2010 close", cumulativePct: 0 },
      { label: "6 May 14:30", cumulativePct: -3 },
      { label: "14:42", cumulativePct: -5.5 },
      { label: "14:47 (low)", cumulativePct: spx2010(1065.79) },
      { label: "15:07 (recovered)", cumulativePct: -4 },
      { label: "16:00 close", cumulativePct: spx2010(1128.15) },
    ],
    worstDayPct: spx2010(1065.79),
    bestDayPct: 0,
    source: "SEC/CFTC joint report of 30 Sep 2010; S&P Dow Jones Indices (S&P 500, DJIA)",
  },
];

export const CrisisResult = z.strictObject({
  crisis: CrisisId,
  name: z.string(),
  window: z.string(),
  benchmarkWorstPct: z.number(),
  benchmarkEndPct: z.number(),
  /** The position's P/L at the worst point of the path (in the account's currency), and where that was. */
  worstPnl: z.number(),
  worstAt: z.string().describe("The label of the scenario's point (\"19 Oct 1987 close\"), not a time"),
  endPnl: z.number(),
  /** The position's P/L on the crisis' worst single day for it. */
  worstDayPnl: z.number(),
  breachesDailyLoss: z.boolean(),
  breachesMaxLoss: z.boolean(),
  survives: z.boolean(),
});
export type CrisisResult = z.infer<typeof CrisisResult>;

export const StressReport = z.strictObject({
  beta: z.number(),
  /** Where the beta came from: given, estimated from shared returns, the benchmark itself, or assumed 1 for want of either. */
  betaSource: z.enum(["given", "estimated", "benchmark", "assumed"]),
  /** The position's notional in the account's currency. */
  notional: z.number(),
  results: z.array(CrisisResult),
  failures: z.number().int(),
  /** Crises survived out of those run, e.g. "3/4". */
  survival: z.string(),
});
export type StressReport = z.infer<typeof StressReport>;

export type StressInput = {
  readonly position: ChaosPosition;
  readonly account: FloorAccount;
  readonly beta: number;
  readonly betaSource: StressReport["betaSource"];
  readonly crises?: readonly Crisis[];
};

export function stressTest(input: StressInput): StressReport {
  const { position, account, beta, betaSource, crises = CRISES } = input;
  if (!Number.isFinite(beta)) throw new RangeError(`stress: beta must be finite (${beta})`);
  const notional = position.quantity * position.contractSize * position.price * (position.accountPerQuote ?? 1);
  const sign = position.side === "long" ? 1 : -1;
  const pnlAt = (benchmarkPct: number) => sign * notional * Math.max(-1, (beta * benchmarkPct) / 100);
  const toDaily = account.equity - account.dailyLossFloor;
  const toMax = account.equity - account.maxLossFloor;
  const results = crises.map((crisis): CrisisResult => {
    let worst = crisis.path[0]!;
    let worstPnl = pnlAt(worst.cumulativePct);
    for (const point of crisis.path) {
      const pnl = pnlAt(point.cumulativePct);
      if (pnl < worstPnl) {
        worst = point;
        worstPnl = pnl;
      }
    }
    const endPnl = pnlAt(crisis.path[crisis.path.length - 1]!.cumulativePct);
    const worstDayPnl = Math.min(0, pnlAt(crisis.worstDayPct), pnlAt(crisis.bestDayPct));
    const breachesDailyLoss = -worstDayPnl >= toDaily;
    const breachesMaxLoss = -worstPnl >= toMax;
    return {
      crisis: crisis.id,
      name: crisis.name,
      window: crisis.window,
      benchmarkWorstPct: Math.min(...crisis.path.map((p) => p.cumulativePct)),
      benchmarkEndPct: crisis.path[crisis.path.length - 1]!.cumulativePct,
      worstPnl,
      worstAt: worst.label,
      endPnl,
      worstDayPnl,
      breachesDailyLoss,
      breachesMaxLoss,
      survives: !breachesDailyLoss && !breachesMaxLoss,
    };
  });
  const failures = results.filter((r) => !r.survives).length;
  return { beta, betaSource, notional, results, failures, survival: `${results.length - failures}/${results.length}` };
}
