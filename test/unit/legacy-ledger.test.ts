import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { verify } from "@/server/compliance/verify";
import { readPreset } from "@/server/backtest/setup";
import { replay } from "@/server/engine/replay";
import { fromNdjsonLine } from "@/server/event-format";

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
