import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { verify } from "@/server/compliance/verify";
import { readPreset } from "@/server/backtest/setup";
import { replay } from "@/server/engine/replay";
import { fromNdjsonLine } from "@/server/event-format";
import { Memo } from "@/server/advisory/memo";

/**
 * A ledger recorded before accounts had a currency (a backtest of the code before issue 18's
 * account currencies: MSFT under FTMO, a daily-loss lock-out at seq 93): its events carry the
 * names of then (`baselineUsd`, `equityUsd`, `floorUsd`, …, fills without a rate) and must still // legacy-usd-name
 * parse, fold and replay to the same decisions, and the verifier must find the same breach.
 */
const FILE = path.resolve(import.meta.dirname, "../fixtures/ledgers/before-account-currencies.ndjson");
const lines = fs.readFileSync(FILE, "utf8").trim().split("\n");

describe("a ledger recorded before account currencies", () => {
  it("still has the old names on disk (the fixture is what an old server wrote)", () => {
    expect(lines.some((line) => line.includes('"baselineUsd"') && line.includes('"highWaterUsd"'))).toBe(true); // legacy-usd-name
    expect(lines.some((line) => line.includes('"account.locked_out"') && line.includes('"floorUsd"'))).toBe(true); // legacy-usd-name
  });

  it("reads the day's baselines and the lock-out under today's names, and the account as a USD account", () => {
    const records = lines.map(fromNdjsonLine);
    const day = records.find(({ event }) => event.type === "day.started")!.event;
    expect(day.type === "day.started" && day.baselines[0]).toMatchObject({ baseline: expect.any(Number), equity: expect.any(Number), balance: expect.any(Number), highWater: expect.any(Number) });
    const lockedOut = records.find(({ event }) => event.type === "account.locked_out")!.event;
    expect(lockedOut).toMatchObject({ type: "account.locked_out", equity: 94_520.22, floor: 94_997.16, rule: "daily_loss" });
    const opened = records.find(({ event }) => event.type === "account.opened")!.event;
    expect(opened.type === "account.opened" && opened.account.currency).toBe("USD");
  });

  it("replays with no mismatch, and the verifier finds the breach the old report recorded", () => {
    const records = lines.map(fromNdjsonLine);
    const result = replay(records);
    expect(result.decisions).toBeGreaterThan(0);
    expect(result.mismatches).toEqual([]);
    expect(result.state.accounts.get("backtest" as never)!.lockedOut).toMatchObject({ equity: 94_520.22, floor: 94_997.16 });
    const report = verify(records, readPreset("ftmo-2step-100k"), "backtest");
    expect(report.accounts[0]!.breaches).toEqual([{ accountId: "backtest", rule: "daily_loss", at: 974_145_600_000, seq: 92, tradingDay: "2000-11-13", observed: 94_520.22, limit: 94_997.16, consequence: "hard" }]);
  });
});

/**
 * A deal memo recorded before the memo's money fields were named for the account's currency
 * (written by the code of then: 2 lots of EURUSD on a USD account): `worstPnlUsd`, `premiumUsd`, // legacy-usd-name
 * `peakLossUsd` and the rest are read under today's names, values unchanged. // legacy-usd-name
 */
const MEMO_FILE = path.resolve(import.meta.dirname, "../fixtures/ledgers/memo-before-currency-names.ndjson");
const memoLine = fs.readFileSync(MEMO_FILE, "utf8").trim();

describe("a deal memo recorded before the memo's currency-neutral names", () => {
  it("still has the old names on disk", () => {
    for (const old of ["worstPnlUsd", "premiumUsd", "peakLossUsd", "distanceToDailyFloorUsd", "notionalUsd"]) expect(memoLine).toContain(`"${old}"`); // legacy-usd-name
  });

  it("is read under today's names with the same figures, and parses as a memo", () => {
    const raw = JSON.parse(memoLine).payload.memo;
    const { event } = fromNdjsonLine(memoLine);
    if (event.type !== "advisory.memo") throw new Error(event.type);
    expect(JSON.stringify(event.memo)).not.toMatch(/Usd"/);
    const memo = Memo.parse(event.memo);
    if (memo.stress.status !== "ran" || memo.chaos.status !== "ran" || memo.hedging.status !== "priced") throw new Error("a part of the memo is missing");
    expect(memo.stress.report.notional).toBe(raw.stress.report.notionalUsd); // legacy-usd-name
    expect(memo.stress.report.results.map((r) => [r.worstPnl, r.endPnl, r.worstDayPnl])).toEqual(
      raw.stress.report.results.map((r: Record<string, number>) => [r.worstPnlUsd, r.endPnlUsd, r.worstDayPnlUsd]), // legacy-usd-name
    );
    expect(memo.stress.report.results[0]!.worstPnl).toBeCloseTo(-21_955, 0);
    expect(memo.chaos.report.distanceToDailyFloor).toBe(5_000);
    expect(memo.chaos.report.distanceToMaxFloor).toBe(10_000);
    expect(memo.chaos.report.byPathType.flash_crash.peakLoss).toEqual(raw.chaos.report.byPathType.flash_crash.peakLossUsd); // legacy-usd-name
    expect(memo.chaos.report.byPathType.normal.endLoss).toEqual(raw.chaos.report.byPathType.normal.endLossUsd); // legacy-usd-name
    expect(memo.hedging.hedges.map((h) => [h.premium, h.maxLoss, h.maxGain])).toEqual(
      raw.hedging.hedges.map((h: Record<string, number | null>) => [h.premiumUsd, h.maxLossUsd, h.maxGainUsd]), // legacy-usd-name
    );
    // The memo does not say its currency (then every memo's account was in USD or read as such): the account's applies.
    expect(memo.currency).toBeUndefined();
  });
});
