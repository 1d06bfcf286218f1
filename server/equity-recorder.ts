import type { Touched } from "./account-index";
import type { AccountId, SymbolId } from "./engine/ids";
import type { EngineState } from "./engine/state";
import { configOf, equityOf, floorsOf, holdersOf } from "./engine/state";
import { EquityHistory } from "./equity-history";
import type { LedgerRecord } from "./ledger";
import { BACKGROUND_REST, SLICE_MS, Slicer } from "./slices";

/**
 * What the runtime records of its accounts' equity over time: the equity, day baseline and floors
 * of the accounts a commit touched, at the commit's time, into the book's `EquityHistory`.
 *
 * With an interval (a live server: a second), points are conflated per account: a touched account
 * is noted with the time of its latest change, and a pass an interval later records every noted
 * account from the state then (no later commit touched it, or its time would be later). A tick's
 * holders are noted by its symbol and found by the pass, a slice at a time beside the decisions,
 * so a tick costs nothing per holder here. A read of an account's history records its pending
 * point first. Without an interval (backtests), each commit records the accounts it touched.
 */
export class EquityRecorder {
  /** Accounts whose equity point is pending (conflated), with the time of their latest change. */
  private due = new Map<AccountId, number>();
  /** Symbols ticked since the last pass, with their latest tick's time: their holders are due too. */
  private readonly dueSymbols = new Map<SymbolId, number>();
  /**
   * What the running pass took and has not recorded yet: a read of an account's history, or a
   * snapshot, records it itself (rather than miss it, or see the pass record an older point
   * after its newer one).
   */
  private taken: Map<AccountId, number> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private passRunning = false;

  constructor(
    /** The committed state: what a pass and a read record from. */
    private readonly stateNow: () => EngineState,
    private readonly clock: () => number,
    /** Points at most this often per account (0: one per commit that touched it). */
    private readonly intervalMs: number,
    /** Equity, baseline and floors over time, per account (the dashboard's chart). */
    public history: EquityHistory = new EquityHistory(),
  ) {}

  /** Has the history record an account's pending point before it is read. */
  recordBeforeReads(): void {
    this.history.beforeRead = (accountId) => this.recordDueOf(accountId as AccountId);
  }

  /** After a live commit: notes (or, without an interval, records) the accounts it touched. */
  committed(records: LedgerRecord[], touched: Touched): void {
    if (records.length === 0) return;
    const last = records[records.length - 1]!.event;
    const at = "at" in last && typeof last.at === "number" ? last.at : this.clock();
    if (this.intervalMs === 0) {
      for (const accountId of touched) this.recordPoint(accountId, at);
      return;
    }
    for (const accountId of touched.accounts) this.due.set(accountId, at);
    for (const symbol of touched.symbols) this.dueSymbols.set(symbol, at);
    this.schedulePass();
  }

  /**
   * After an event folded at start (`before`: the state it was folded onto). There is no timer
   * then: a point waiting since an interval ago or more (event time) is recorded before this event
   * changes its account, as the live timer would have; and the holders of the ticked symbols are
   * noted when the oldest tick noted is an interval old, as the live pass would have found them,
   * not at every tick (a replayed tail of 60,000 events at 10,000 accounts spent a fifth of its
   * time noting holders again and again).
   */
  folded(record: LedgerRecord, before: EngineState, touched: Touched): void {
    const at = "at" in record.event && typeof record.event.at === "number" ? record.event.at : null;
    if (this.intervalMs > 0 && at !== null) {
      for (const accountId of touched) {
        const since = this.due.get(accountId);
        if (since === undefined || at - since < this.intervalMs) continue;
        this.due.delete(accountId);
        this.recordPoint(accountId, since, before);
      }
    }
    this.committed([record], touched);
    if (this.intervalMs === 0 || at === null) this.expandDueSymbols();
    else {
      let oldest = Number.POSITIVE_INFINITY;
      for (const since of this.dueSymbols.values()) oldest = Math.min(oldest, since);
      if (at - oldest >= this.intervalMs) this.expandDueSymbols();
    }
  }

  /** Records every pending point from `state`, a slice at a time (before a snapshot of `state` writes the history). */
  async recordAllDueInSteps(state: EngineState, slicer: Slicer): Promise<void> {
    await this.expandDueSymbolsInSteps(state, slicer);
    const due = this.takeDue();
    // Taken by a pass still running and not recorded yet: figures of this state too.
    if (this.taken) {
      for (const [accountId, at] of this.taken) {
        const noted = due.get(accountId);
        if (noted === undefined || noted < at) due.set(accountId, at);
      }
      this.taken.clear();
    }
    for (const [accountId, at] of due) {
      this.recordPoint(accountId, at, state);
      if (slicer.due) await slicer.next();
    }
  }

  /**
   * The accounts due, taken whole: what is noted from now on goes to a new map (not a copy of
   * this one as entries: at 10,000 accounts that was 10,000 arrays a second, kept through the
   * sliced pass into V8's old generation).
   */
  private takeDue(): Map<AccountId, number> {
    const due = this.due;
    this.due = new Map();
    return due;
  }

  /** The next pass, an interval from now, unless one is due or running (it schedules the next when it ends). */
  private schedulePass(): void {
    if (this.timer || this.passRunning || (this.due.size === 0 && this.dueSymbols.size === 0)) return;
    this.timer = setTimeout(() => void this.recordDue(), this.intervalMs);
    this.timer.unref();
  }

  private recordPoint(accountId: AccountId, at: number, state: EngineState = this.stateNow()): void {
    const account = state.accounts.get(accountId);
    if (!account) return;
    const floors = floorsOf(account, configOf(state, account));
    this.history.record(accountId, {
      at,
      equity: equityOf(account, state),
      baseline: account.baseline,
      dailyLossFloor: floors.dailyLossFloor,
      maxLossFloor: floors.maxLossFloor,
    });
  }

  /** Records the pending point of `accountId`, if it has one (before its history is read). */
  private recordDueOf(accountId: AccountId): void {
    const account = this.stateNow().accounts.get(accountId);
    for (const [symbol, at] of this.dueSymbols) {
      if (!account?.positions.has(symbol)) continue;
      const since = this.due.get(accountId);
      if (since === undefined || since < at) this.due.set(accountId, at);
    }
    let at = this.due.get(accountId);
    const taken = this.taken?.get(accountId);
    if (taken !== undefined) {
      this.taken!.delete(accountId);
      at = at === undefined ? taken : Math.max(at, taken);
    }
    if (at === undefined) return;
    this.due.delete(accountId);
    this.recordPoint(accountId, at);
  }

  /** The holders of the symbols ticked since the last pass join the accounts due, at their symbol's latest tick (or later). */
  private expandDueSymbols(): void {
    const state = this.stateNow();
    for (const [symbol, at] of this.dueSymbols) {
      for (const accountId of holdersOf(state, symbol).unorderedKeys()) this.noteDue(accountId, at);
    }
    this.dueSymbols.clear();
  }

  /**
   * `expandDueSymbols` a slice at a time, over the holders in `state`: a symbol stays noted until
   * all its holders are (a read in between still finds it), and a tick of it meanwhile keeps it
   * noted for the next pass.
   */
  private async expandDueSymbolsInSteps(state: EngineState, slicer: Slicer): Promise<void> {
    for (const [symbol, at] of [...this.dueSymbols]) {
      for (const accountId of holdersOf(state, symbol).unorderedKeys()) {
        this.noteDue(accountId, at);
        if (slicer.due) await slicer.next();
      }
      if (this.dueSymbols.get(symbol) === at) this.dueSymbols.delete(symbol);
    }
  }

  /** An account has a point due at `at`, unless one as late is noted or recorded already (its history was read). */
  private noteDue(accountId: AccountId, at: number): void {
    const since = this.due.get(accountId);
    if ((since === undefined || since < at) && this.history.lastAt(accountId) < at) this.due.set(accountId, at);
  }

  /** Records every pending point, a slice at a time. */
  private async recordDue(): Promise<void> {
    this.timer = null;
    this.passRunning = true;
    try {
      const slicer = new Slicer(undefined, SLICE_MS, BACKGROUND_REST);
      await this.expandDueSymbolsInSteps(this.stateNow(), slicer);
      const due = this.takeDue();
      this.taken = due;
      for (const [accountId, at] of due) {
        due.delete(accountId);
        // A point noted again meanwhile is recorded with the later time, in a later pass; one a
        // read or a snapshot recorded meanwhile is not recorded again.
        if (!this.due.has(accountId) && this.history.lastAt(accountId) < at) this.recordPoint(accountId, at);
        if (slicer.due) await slicer.next();
      }
    } finally {
      this.taken = null;
      // One pass at a time: a book so large that a pass outlasts the interval gets the next after it.
      this.passRunning = false;
      this.schedulePass();
    }
  }
}
