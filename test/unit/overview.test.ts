import { describe, expect, it, vi } from "vitest";
import { touchedBy } from "@/server/account-index";
import type { Principal } from "@/server/auth/roles";
import type { EngineEvent } from "@/server/engine/events";
import { AccountId, SymbolId } from "@/server/engine/ids";
import type { EngineState } from "@/server/engine/state";
import { evolve } from "@/server/engine/state";
import { AccountSpec } from "@/server/engine/types";
import type { Commit } from "@/server/overview";
import { OverviewModel, contributionOf } from "@/server/overview";
import type { DecisionRecord } from "@/server/runtime";
import { Slicer } from "@/server/slices";
import { config, configured, given } from "./given";

/** The overview model: rows kept from commits, ordered by headroom, filtered, counted, and the firm's exposure kept per account. */

const EURUSD = SymbolId.parse("EURUSD");
const GBPUSD = SymbolId.parse("GBPUSD");
const XAUUSD = SymbolId.parse("XAUUSD");
const SYMBOLS = [EURUSD, GBPUSD, XAUUSD];
const everyone: Principal = { kind: "token", id: "t", name: "t", role: "viewer", accounts: null, csrfToken: null };
const scopedTo = (...accounts: string[]): Principal => ({ ...everyone, accounts });

const instruments = {
  GBPUSD: { sector: "fx", cluster: "fx-majors", contractSize: 100_000, tickSize: 0.00001, averageDailyVolume: 1_000_000 },
  XAUUSD: { sector: "metals", contractSize: 100, tickSize: 0.01, averageDailyVolume: 100_000 },
};

/** A little book: a state, a seq, and commits of real events with what they touched. */
class Book {
  state: EngineState = given(configured({ instruments: { ...config.instruments, ...instruments } }));
  seq = 0;
  readonly model: OverviewModel;
  now = 10_000;

  constructor(readonly ids: AccountId[]) {
    for (const id of ids) this.fold([{ type: "account.opened", at: 1_000, by: "system", account: AccountSpec.parse({ accountId: id, name: `Trader ${id}`, presetId: "p", initialBalanceUsd: 100_000 }) }]);
    this.model = new OverviewModel({ state: this.state, seq: this.seq, firm: { halted: false, halt: null }, decisions: [] }, () => this.now);
  }

  fold(events: EngineEvent[]): Commit {
    const fromSeq = this.seq + 1;
    for (const event of events) this.state = evolve(this.state, event);
    const records = events.map((event) => ({ seq: ++this.seq, event, recordedAt: this.now }));
    return { fromSeq, toSeq: this.seq, firm: { halted: this.state.firmHalt !== null, halt: this.state.firmHalt }, records, decisions: [], touched: touchedBy(events, this.state), state: this.state } as unknown as Commit;
  }

  commit(events: EngineEvent[], decisions: DecisionRecord[] = []): void {
    this.model.apply({ ...this.fold(events), decisions });
  }
}

const ids = (n: number) => Array.from({ length: n }, (_, i) => AccountId.parse(`acc-${String(i).padStart(3, "0")}`));
const fill = (accountId: AccountId, symbol: SymbolId, side: "BUY" | "SELL", quantity: number, price: number, at = 2_000): EngineEvent => ({
  type: "execution.filled", at, accountId, intentId: null, symbol, side, quantity, price, feeUsd: 0, trigger: "order",
});
const tick = (symbol: SymbolId, price: number, at = 3_000): EngineEvent => ({ type: "market.tick", at, symbol, price });
const trip = (accountId: AccountId, at = 4_000): EngineEvent => ({ type: "breaker.tripped", at, accountId, breaker: "manual", reason: "test trip", by: "rm" });
const all = { offset: 0, limit: 500 };

/** The firm's exposure summed from scratch over every account (by symbol, or by cluster). */
function fromScratch(state: EngineState, by: "symbols" | "clusters" = "symbols") {
  const lines = new Map<string, { netUsd: number; grossUsd: number; accounts: number }>();
  for (const account of state.accounts.values()) {
    for (const [key, part] of contributionOf(account, state)[by]) {
      const line = lines.get(key) ?? { netUsd: 0, grossUsd: 0, accounts: 0 };
      lines.set(key, { netUsd: line.netUsd + part.netUsd, grossUsd: line.grossUsd + part.grossUsd, accounts: line.accounts + 1 });
    }
  }
  return lines;
}

describe("the overview model", () => {
  it("hurries a pass a page waits for at most once a second: a reader asking in a loop gets the background's pace", async () => {
    const book = new Book(ids(4));
    book.commit([tick(EURUSD, 1.1), fill(book.ids[0]!, EURUSD, "BUY", 1, 1.1)]);
    const hurried = vi.spyOn(Slicer.prototype, "hurry");
    try {
      for (let k = 0; k < 5; k++) {
        book.commit([tick(EURUSD, 1.1 + k * 0.001)]); // a row to rebuild: each page waits for a pass
        await book.model.page(all, everyone);
      }
      expect(hurried).toHaveBeenCalledTimes(1);
    } finally {
      hurried.mockRestore();
    }
  });

  it("refreshes a book whose pass is costly less often: the background refresh takes at most a twentieth of the server", async () => {
    const book = new Book(ids(4));
    book.commit([tick(EURUSD, 1.1), fill(book.ids[0]!, EURUSD, "BUY", 1, 1.1)]);
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "performance"] });
    // Each pass is taken to have cost 400 ms of slices (a book of some 40,000 accounts).
    const costly = vi.spyOn(Slicer.prototype, "end").mockReturnValue(400);
    const passes = vi.spyOn(book.model, "settle");
    let release = book.model.retain();
    try {
      book.commit([tick(EURUSD, 1.101)]);
      await vi.advanceTimersByTimeAsync(1_000); // the first pass, REFRESH_MS after the first reader
      expect(passes).toHaveBeenCalledTimes(1);
      expect(book.model.refreshPeriodMs).toBe(8_000);
      for (let k = 0; k < 6; k++) {
        book.commit([tick(EURUSD, 1.102 + k * 0.001)]); // rows to rebuild every second
        await vi.advanceTimersByTimeAsync(1_000);
      }
      expect(passes).toHaveBeenCalledTimes(1); // not every REFRESH_MS: 400 ms each would be 40% of the server
      await vi.advanceTimersByTimeAsync(2_100);
      expect(passes).toHaveBeenCalledTimes(2);
      // Readers coming and going (dashboards reconnecting) do not bring the passes back to every REFRESH_MS.
      release();
      for (let k = 0; k < 6; k++) {
        book.commit([tick(EURUSD, 1.11 + k * 0.001)]);
        const reader = book.model.retain();
        await vi.advanceTimersByTimeAsync(1_000);
        reader();
      }
      expect(passes).toHaveBeenCalledTimes(2);
      release = book.model.retain();
      await vi.advanceTimersByTimeAsync(2_100);
      expect(passes).toHaveBeenCalledTimes(3);
      // A cheap pass: back to every REFRESH_MS.
      costly.mockReturnValue(2);
      book.commit([tick(EURUSD, 1.2)]);
      await vi.advanceTimersByTimeAsync(8_100);
      expect(passes).toHaveBeenCalledTimes(4);
      expect(book.model.refreshPeriodMs).toBe(1_000);
      book.commit([tick(EURUSD, 1.21)]);
      await vi.advanceTimersByTimeAsync(1_100);
      expect(passes).toHaveBeenCalledTimes(5);
    } finally {
      release();
      passes.mockRestore();
      costly.mockRestore();
      vi.useRealTimers();
    }
  });

  it("orders rows closest to a loss limit first, ties by account id", async () => {
    const book = new Book(ids(4));
    book.commit([tick(EURUSD, 1.1), fill(book.ids[2]!, EURUSD, "BUY", 1, 1.1), fill(book.ids[1]!, EURUSD, "BUY", 0.5, 1.1)]);
    book.commit([tick(EURUSD, 1.09)]); // acc-002 loses 1,000 USD, acc-001 500 USD
    const page = (await book.model.page(all, everyone));
    expect(page.rows.map((row) => row.accountId)).toEqual(["acc-002", "acc-001", "acc-000", "acc-003"]);
    expect(page.rows[0]).toMatchObject({ equity: 99_000, dayPnl: -1_000 });
    expect(page.rows[0]!.headroomPct).toBeLessThan(page.rows[1]!.headroomPct);
    expect(page.matching).toBe(4);
  });

  it("puts an active account with little permitted loss left above a halted one with lots: the order is the smaller share left, never the state", async () => {
    const book = new Book(ids(3));
    const [halted, untouched, nearFloor] = book.ids as [AccountId, AccountId, AccountId];
    // acc-002 loses 4,800 of its 5,000 USD daily allowance (5% of 100,000): 4% of it left, 52% of the max.
    book.commit([tick(EURUSD, 1.1), fill(nearFloor, EURUSD, "BUY", 1, 1.1)]);
    book.commit([tick(EURUSD, 1.052)]);
    // acc-000 is halted by its manual breaker with its whole allowance left.
    book.commit([trip(halted)]);
    const page = await book.model.page(all, everyone);
    expect(page.rows.map((row) => [row.accountId, row.tradingState])).toEqual([
      [nearFloor, "ACTIVE"],
      [halted, "HALTED"],
      [untouched, "ACTIVE"],
    ]);
    expect(page.rows[0]).toMatchObject({ dailyHeadroom: 200, dailyHeadroomPct: 4, maxHeadroomPct: 52, headroomPct: 4 });
    expect(page.rows[1]).toMatchObject({ dailyHeadroomPct: 100, maxHeadroomPct: 100, headroomPct: 100 });
    // The key is the smaller of the two shares, rows in ascending order of it.
    for (const row of page.rows) expect(row.headroomPct).toBe(Math.min(row.dailyHeadroomPct, row.maxHeadroomPct));
    // Halted or not, the halted account's place follows its headroom: a loss of its own moves it up.
    book.commit([fill(halted, EURUSD, "SELL", 2, 1.052)]);
    book.commit([tick(EURUSD, 1.076)]); // acc-000: 2 lots short from 1.052, 4,800 USD down; acc-002 back to 2,400 down
    const after = await book.model.page(all, everyone);
    expect(after.rows.map((row) => row.accountId)).toEqual([halted, nearFloor, untouched]);
  });

  it("filters by state, text, breach and locks, and windows the filtered list", async () => {
    const book = new Book(ids(30));
    book.commit([trip(book.ids[7]!), trip(book.ids[12]!)]);
    book.commit([{ type: "veto.added", at: 4_500, accountId: book.ids[3]!, symbol: EURUSD, reason: "manual", note: "news", expiresAt: null, valueAtTrigger: null, by: "rm" } as EngineEvent]);
    const halted = (await book.model.page({ ...all, states: ["HALTED"] }, everyone));
    expect(halted.rows.map((row) => row.accountId)).toEqual(["acc-007", "acc-012"]);
    expect(halted.rows[0]!.breakers).toEqual(["manual"]);
    expect((await book.model.page({ ...all, breachedToday: true }, everyone)).matching).toBe(2);
    expect((await book.model.page({ ...all, lockedSymbols: true }, everyone)).rows.map((row) => [row.accountId, row.lockedSymbols])).toEqual([["acc-003", ["EURUSD"]]]);
    expect((await book.model.page({ ...all, q: "TRADER ACC-02" }, everyone)).matching).toBe(10);
    const window = (await book.model.page({ q: "acc-02", offset: 4, limit: 3 }, everyone));
    expect(window).toMatchObject({ matching: 10, offset: 4 });
    expect(window.rows.map((row) => row.accountId)).toEqual(["acc-024", "acc-025", "acc-026"]);
  });

  it("counts by state, breaches and locks, and lists today's breaches most recent first", async () => {
    const book = new Book(ids(10));
    book.commit([trip(book.ids[4]!, 4_000)]);
    book.commit([trip(book.ids[1]!, 5_000)]);
    book.commit([{ type: "breaker.reset", at: 6_000, accountId: book.ids[4]!, breaker: "manual", reason: "cleared up", by: "rm" } as EngineEvent]);
    const page = (await book.model.page(all, everyone));
    expect(page.counts).toEqual({ total: 10, byState: { ACTIVE: 9, REDUCING: 0, HALTED: 1, LOCKED_OUT: 0 }, breachedToday: 2, withLockedSymbols: 0 });
    // Reset since, acc-004 still breached today.
    expect(page.breachedToday.map((row) => row.accountId)).toEqual(["acc-001", "acc-004"]);
  });

  it("shows a scoped principal only its accounts: rows, counts, exposure and decisions", async () => {
    const book = new Book(ids(5));
    const decision = (accountId: AccountId, seq: number) => ({ seq, at: 0, intent: {}, decision: { accountId, outcome: "allowed" } }) as unknown as DecisionRecord;
    book.commit([tick(EURUSD, 1.1), fill(book.ids[0]!, EURUSD, "BUY", 1, 1.1), fill(book.ids[3]!, EURUSD, "SELL", 2, 1.1), trip(book.ids[3]!)], [decision(book.ids[0]!, 3), decision(book.ids[3]!, 4)]);
    const page = (await book.model.page(all, scopedTo("acc-003", "acc-004", "nobody")));
    expect(page.rows.map((row) => row.accountId).sort()).toEqual(["acc-003", "acc-004"]);
    expect(page.counts).toMatchObject({ total: 2, byState: { HALTED: 1, ACTIVE: 1 } });
    expect(page.exposure.bySymbol).toEqual([{ key: "EURUSD", netUsd: -220_000, grossUsd: 220_000, accounts: 1 }]);
    expect(page.decisions.map((record) => record.decision.accountId)).toEqual(["acc-003"]);
    expect((await book.model.page(all, everyone)).exposure.bySymbol).toEqual([{ key: "EURUSD", netUsd: -110_000, grossUsd: 330_000, accounts: 2 }]);
  });

  it("keeps the firm's exposure equal to a sum from scratch after random fills and ticks", async () => {
    const book = new Book(ids(60));
    let seed = 42;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const prices: Record<string, number> = { EURUSD: 1.1, GBPUSD: 1.27, XAUUSD: 2_400 };
    book.commit(SYMBOLS.map((symbol) => tick(symbol, prices[symbol]!)));
    for (let step = 0; step < 400; step++) {
      const symbol = SYMBOLS[Math.floor(random() * SYMBOLS.length)]!;
      const events: EngineEvent[] = [];
      if (random() < 0.5) {
        prices[symbol] = prices[symbol]! * (1 + (random() - 0.5) * 0.01);
        events.push(tick(symbol, prices[symbol]!, 3_000 + step));
      } else {
        const accountId = book.ids[Math.floor(random() * book.ids.length)]!;
        events.push(fill(accountId, symbol, random() < 0.5 ? "BUY" : "SELL", Math.ceil(random() * 4) / 2, prices[symbol]!, 3_000 + step));
      }
      book.commit(events);
      // Read now and then (rows rebuilt lazily, several commits at once).
      if (step % 7 === 0 || step === 399) {
        const page = (await book.model.page(all, everyone));
        const expected = fromScratch(book.state);
        expect(page.exposure.bySymbol.map((line) => line.key).sort()).toEqual([...expected.keys()].sort());
        for (const line of page.exposure.bySymbol) {
          const want = expected.get(line.key)!;
          expect(line.accounts).toBe(want.accounts);
          expect(line.netUsd).toBeCloseTo(want.netUsd, 1);
          expect(line.grossUsd).toBeCloseTo(want.grossUsd, 1);
        }
        const clusters = new Map(page.exposure.byCluster.map((line) => [line.key, line]));
        expect([...clusters.keys()].every((key) => key === "fx-majors" || key === "symbol:XAUUSD")).toBe(true);
        const expectedClusters = fromScratch(book.state, "clusters");
        expect([...clusters.keys()].sort()).toEqual([...expectedClusters.keys()].sort());
        for (const [key, want] of expectedClusters) {
          expect(clusters.get(key)!.accounts).toBe(want.accounts);
          expect(clusters.get(key)!.netUsd).toBeCloseTo(want.netUsd, 1);
          expect(clusters.get(key)!.grossUsd).toBeCloseTo(want.grossUsd, 1);
        }
      }
    }
  });

  it("rebuilds only the rows a commit touched, and keeps an unchanged row's object", async () => {
    const book = new Book(ids(3));
    book.commit([tick(EURUSD, 1.1), fill(book.ids[0]!, EURUSD, "BUY", 1, 1.1)]);
    const before = (await book.model.page(all, everyone)).rows;
    book.commit([tick(GBPUSD, 1.3)]); // nobody holds it
    book.commit([tick(EURUSD, 1.1)]); // same price: the same figures
    const after = (await book.model.page(all, everyone)).rows;
    expect(after.every((row) => row === before.find((other) => other.accountId === row.accountId))).toBe(true);
    expect(after).toHaveLength(3);
    book.commit([tick(EURUSD, 1.2)]);
    const moved = (await book.model.page(all, everyone)).rows.find((row) => row.accountId === "acc-000")!;
    expect(moved.equity).toBe(110_000);
    expect(moved.seq).toBe(book.seq);
  });
});
