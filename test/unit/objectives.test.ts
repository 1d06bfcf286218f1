import { describe, expect, it } from "vitest";
import { createVerifier, verify } from "@/server/compliance/verify";
import { EngineConfig } from "@/server/engine/config";
import type { Command, FillReport } from "@/server/engine/decide";
import { fill as givenFill } from "./given";
import { decide } from "@/server/engine/decide";
import { AccountId, SymbolId } from "@/server/engine/ids";
import type { EngineState } from "@/server/engine/state";
import { evolve, initialState } from "@/server/engine/state";
import { AccountSpec } from "@/server/engine/types";
import type { LedgerRecord } from "@/server/ledger";
import { ObjectivesReadModel } from "@/server/objectives";
import { readPresetFiles } from "@/server/presets";
import { streamOf } from "@/server/engine/events";

/**
 * The live objectives and closed trades: the compliance verifier fed one record at a time (what
 * the console's read model does) gives what it gives over the whole stream, round trips are
 * paired from the fills, and the read model reads only the account's own stream, and only what
 * is new on a refresh.
 */

const presets = new Map(readPresetFiles().map(({ preset }) => [preset.id as string, preset]));
const ftmo = presets.get("ftmo-2step-100k")!;
const account = AccountId.parse("acc-o");
const other = AccountId.parse("acc-other");
const EURUSD = SymbolId.parse("EURUSD");
const config = EngineConfig.parse({
  instruments: { EURUSD: { sector: "fx", cluster: "fx-majors", contractSize: 100_000, tickSize: 0.00001, averageDailyVolume: 1_000_000 } },
});
const DAY = 86_400_000;
const T0 = Date.parse("2026-06-10T07:00:00Z");

/** given.ts's execution report, for this test's account. */
const fill = (side: "BUY" | "SELL", quantity: number, price: number, extra: Partial<FillReport> = {}): FillReport => givenFill(side, quantity, price, { accountId: account, ...extra });

/** The engine's stream for the commands, each after a clock advance, with seqs. */
function ledger(steps: { at: number; command: Command }[]): LedgerRecord[] {
  let state: EngineState = initialState();
  const records: LedgerRecord[] = [];
  const apply = (command: Command) => {
    const result = decide(command, state);
    if (!result.ok) throw new Error(`rejected: ${JSON.stringify(result.rejection)}`);
    for (const event of result.events) {
      records.push({ seq: records.length + 1, recordedAt: 0, event });
      state = evolve(state, event);
    }
  };
  apply({ type: "ApplyConfig", at: T0 - 1, config, by: "system" });
  for (const accountId of [account, other]) {
    const spec = AccountSpec.parse({ accountId, name: accountId, presetId: "ftmo-2step-100k", initialBalanceUsd: 100_000, execution: "external" });
    apply({ type: "OpenAccount", at: T0, account: spec, preset: { presetId: ftmo.id, version: 1, rules: ftmo.rules }, by: "test" });
  }
  for (const { at, command } of steps) {
    apply({ type: "AdvanceClock", at });
    apply(command);
  }
  return records;
}

const fills = (at: number, ...reports: FillReport[]) => ({ at, command: { type: "RecordFills", at, fills: reports, source: "correction", reason: "test" } as Command });

describe("closed trades (round trips) from the verifier's books", () => {
  const records = ledger([
    // Day 1: long 2 in two fills, closed in two parts at a profit, with fees.
    fills(T0 + 1_000, fill("BUY", 1, 1.1, { feeUsd: 2 }), fill("BUY", 1, 1.102, { feeUsd: 2 })),
    fills(T0 + 2_000, fill("SELL", 1, 1.105, { feeUsd: 2 })),
    fills(T0 + 3_000, fill("SELL", 1, 1.106, { feeUsd: 2, trigger: "take_profit" })),
    // Day 2: long 1, reversed to short 1 by one sell of 2, then the short is flattened (liquidation).
    fills(T0 + DAY, fill("BUY", 1, 1.1)),
    fills(T0 + DAY + 1_000, fill("SELL", 2, 1.099, { feeUsd: 4 })),
    fills(T0 + DAY + 2_000, fill("BUY", 1, 1.097, { trigger: "liquidation" })),
    // Another account's fill must not show.
    fills(T0 + DAY + 3_000, { ...fill("BUY", 5, 1.1), accountId: other }),
  ]);

  it("pairs opening and closing fills into trades with entry and exit averages, P/L and fees", () => {
    const verifier = createVerifier(ftmo, { only: account, keepTrades: 10 });
    for (const record of records) verifier.feed(record);
    const { trades, total } = verifier.trades(account);
    expect(total).toBe(3);
    expect(trades).toEqual([
      {
        symbol: "EURUSD", side: "long", openedAt: T0 + 1_000, closedAt: T0 + 3_000, openSeq: expect.any(Number), closeSeq: expect.any(Number),
        quantity: 2, entryPrice: 1.101, exitPrice: 1.1055, gross: 900, fees: 8, realized: 892, closedBy: "take_profit",
      },
      // The reversing sell closes the long (half its fee) and opens the short (the other half).
      { symbol: "EURUSD", side: "long", openedAt: T0 + DAY, closedAt: T0 + DAY + 1_000, openSeq: expect.any(Number), closeSeq: expect.any(Number), quantity: 1, entryPrice: 1.1, exitPrice: 1.099, gross: -100, fees: 2, realized: -102, closedBy: "order" },
      { symbol: "EURUSD", side: "short", openedAt: T0 + DAY + 1_000, closedAt: T0 + DAY + 2_000, openSeq: expect.any(Number), closeSeq: expect.any(Number), quantity: 1, entryPrice: 1.099, exitPrice: 1.097, gross: 200, fees: 2, realized: 198, closedBy: "liquidation" },
    ]);
    // The trades' P/L is the balance's: the same books.
    const report = verifier.report().accounts[0]!;
    expect(trades.reduce((sum, trade) => sum + trade.realized, 0)).toBeCloseTo(report.finalBalance - report.initialBalanceUsd, 6);
  });

  it("keeps only the latest trades asked for, and counts them all", () => {
    const verifier = createVerifier(ftmo, { only: account, keepTrades: 1 });
    for (const record of records) verifier.feed(record);
    expect(verifier.trades(account)).toMatchObject({ total: 3, trades: [{ side: "short" }] });
  });

  it("fed one record at a time, the verifier reports what it reports over the whole stream", () => {
    const verifier = createVerifier(ftmo, { only: account });
    for (const record of records) verifier.feed(record);
    expect(verifier.report()).toEqual(verify(records, ftmo, account));
  });
});

/** A ledger in memory, read by account as the server's is (its stream). */
function source(records: LedgerRecord[], reads: { afterSeq: number; accountId: string }[]) {
  let state: EngineState = initialState(config);
  for (const { event } of records) state = evolve(state, event);
  return {
    account: (accountId: AccountId) => state.accounts.get(accountId) ?? null,
    config: () => config,
    read: async (afterSeq: number, limit: number, accountId: AccountId) => {
      reads.push({ afterSeq, accountId });
      return records.filter((record) => record.seq > afterSeq && streamOf(record.event) === accountId).slice(0, limit);
    },
    preset: async (presetId: string) => presets.get(presetId) ?? null,
  };
}

describe("the live objectives read model", () => {
  const first = ledger([
    fills(T0 + 1_000, fill("BUY", 1, 1.1)),
    fills(T0 + 2_000, fill("SELL", 1, 1.2)),
  ]);

  it("answers the preset's objectives from the account's own events: target progress, trading days, best-day share", async () => {
    const reads: { afterSeq: number; accountId: string }[] = [];
    const model = new ObjectivesReadModel(source(first, reads));
    const answer = await model.objectives(account);
    // FTMO 2-Step: 10% target, 4 trading days; one day with +10,000 USD.
    expect(answer).toMatchObject({
      accountId: account,
      presetId: "ftmo-2step-100k",
      presetVersion: 1,
      initialBalanceUsd: 100_000,
      balance: 110_000,
      progress: { profit: 10_000, targetPct: 100 },
      objectives: { profitTarget: { target: 10_000, reached: true }, tradingDays: { days: 1, met: false } },
      met: false,
      closedTrades: 1,
    });
    expect(reads.every((read) => read.accountId === account)).toBe(true);
    const trades = await model.trades(account, 10);
    expect(trades).toMatchObject({ total: 1, kept: 1, nextBeforeSeq: null, trades: [{ side: "long", quantity: 1, entryPrice: 1.1, exitPrice: 1.2, realized: 10_000 }] });
  });

  it("reads only what was recorded since its last read", async () => {
    const reads: { afterSeq: number; accountId: string }[] = [];
    const model = new ObjectivesReadModel(source(first, reads));
    const { seq } = await model.objectives(account);
    await model.objectives(account);
    expect(reads.at(-1)).toEqual({ afterSeq: seq, accountId: account });
  });

  it("pages the trades newest first, by the seq of their closing fill", async () => {
    const many = ledger(Array.from({ length: 5 }, (_, i) => fills(T0 + 1_000 * (i + 1), fill("BUY", 1, 1.1), fill("SELL", 1, 1.1 + i / 1_000))));
    const model = new ObjectivesReadModel(source(many, []));
    const page1 = await model.trades(account, 2);
    expect(page1.trades.map((trade) => trade.exitPrice)).toEqual([1.104, 1.103]);
    const page2 = await model.trades(account, 2, page1.nextBeforeSeq!);
    expect(page2.trades.map((trade) => trade.exitPrice)).toEqual([1.102, 1.101]);
    const page3 = await model.trades(account, 2, page2.nextBeforeSeq!);
    expect(page3).toMatchObject({ trades: [{ exitPrice: 1.1 }], nextBeforeSeq: null });
  });

  it("refuses an account that does not exist", async () => {
    await expect(new ObjectivesReadModel(source(first, [])).objectives(AccountId.parse("nobody"))).rejects.toMatchObject({ code: "not_found" });
  });
});
