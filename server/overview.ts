import { touchedBy } from "./account-index";
import { conversionOf, perUnit, quoteCurrencyOf } from "./engine/currency";
import type { Principal } from "./auth/roles";
import { streamOf } from "./engine/events";
import type { EngineEvent } from "./engine/events";
import type { AccountId, SymbolId } from "./engine/ids";
import type { AccountState, EngineState } from "./engine/state";
import { activeVeto, barHolders, configOf, equityOf, floorsOf, holdersOf, tradingStateOf } from "./engine/state";
import type { TradingState } from "./engine/types";
import { BreakerKind as BreakerKinds } from "./engine/types";
import type { LedgerRecord } from "./ledger";
import type { ExposureLine, FirmExposure, OverviewCounts, OverviewPage, OverviewQuery, OverviewRow } from "./overview-protocol";
import type { Committed, DecisionRecord, FirmView, Runtime } from "./runtime";
import { BACKGROUND_REST, SLICE_MS, Slicer, sortInSlices } from "./slices";
import { log } from "./log";

/** What the overview (and the stream) reads of a commit: everything but the account views. */
export type Commit = Omit<Committed, "accounts">;

/**
 * What a commit means for the overview's subscribers: the accounts with an urgent change (a
 * state, a breaker, a lock, a denial: sent at once to a window showing them), and whether the
 * firm's halt changed.
 */
export type OverviewChange = { urgent: ReadonlySet<AccountId>; firmChanged: boolean };

/** The newest decisions the overview shows, and how many it keeps for scoped callers. */
export const OVERVIEW_DECISIONS = 20;
const KEPT_DECISIONS = 500;
/** The breached-today list's length. */
export const BREACHED_LIST = 100;
/** A page asked for (HTTP, a first window) sorts the rows if they changed more than this ago. */
const PAGE_ORDER_AGE_MS = 100;
/** A read-only node (no commits of its own) looks for what the writer committed this often. */
const FOLLOW_MS = 100;
/**
 * While the stream has overview readers, stale rows are rebuilt this often, in timed slices
 * (server/slices.ts), unless REFRESH_SHARE makes it less often (state changes, trips, lock-outs
 * and denials go at once, by their own events, whatever the book's size).
 */
const REFRESH_MS = 1_000;
/**
 * The share of the server's time the background refresh may take: the next pass starts no sooner
 * than the last one's own time (its slices) divided by this after the last one started. A price
 * moves every holder's row, so a pass costs the book (about 90 ms at 10,000 accounts): at 1 Hz that
 * was a tenth of the deciding thread, growing with the book. Bounded, a small book still refreshes
 * every REFRESH_MS, and a book of 10,000 accounts every 2 s or so.
 */
const REFRESH_SHARE = 0.05;
/** A pass someone waits for goes without the background's rests at most this often (see `hurry`). */
const HURRY_EVERY_MS = 1_000;

/** Account events a window shows at once (a denial too, see `urgentIn`). */
const URGENT_EVENTS = new Set<EngineEvent["type"]>([
  "account.opened",
  "preset.activated",
  "breaker.tripped",
  "breaker.reset",
  "veto.added",
  "veto.cleared",
  "account.locked_out",
  "account.reopened",
  "account.reducing",
  "account.reducing_ended",
  "side.locked",
  "side.unlocked",
]);

type Line = { netUsd: number; grossUsd: number; accounts: number };
type Contribution = { netUsd: number; grossUsd: number };

/** What the model keeps per account beside its row. */
type Entry = {
  row: OverviewRow;
  /** Id, name and preset, lower case: what `q` matches. */
  search: string;
  /** Signed notional per symbol and per cluster (this account's share of the firm's exposure). */
  symbols: Map<string, Contribution>;
  clusters: Map<string, Contribution>;
  /** When the account last breached (a trip, a lock-out, a soft breach), if it did since its day started. */
  breachedAt: number | null;
  /** The earliest expiry of a symbol lock in force (the row changes then, with no event). */
  lockExpiresAt: number | null;
};

const cents = (usd: number) => Math.round(usd * 100) / 100;
const hundredths = (pct: number) => Math.round(pct * 100) / 100;
const share = (left: number, allowance: number) => (allowance > 0 ? Math.min(100, (left / allowance) * 100) : 0);

/** `byHeadroom` on keys taken beforehand (a sort in slices must not see them change). */
function byKey(a: { pct: number; id: AccountId }, b: { pct: number; id: AccountId }): number {
  return a.pct - b.pct || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function byHeadroom(a: Entry, b: Entry): number {
  return a.row.headroomPct - b.row.headroomPct || (a.row.accountId < b.row.accountId ? -1 : a.row.accountId > b.row.accountId ? 1 : 0);
}

/** The same items in the same order (`kept` absent: no). */
function sameList<T>(kept: readonly T[] | undefined, fresh: readonly T[]): boolean {
  return kept !== undefined && kept.length === fresh.length && kept.every((item, i) => item === fresh[i]);
}

/** Two rows show the same thing (the seq aside). */
function sameRow(a: OverviewRow, b: OverviewRow): boolean {
  return (
    a.equity === b.equity &&
    a.currency === b.currency &&
    a.dayPnl === b.dayPnl &&
    a.dailyHeadroom === b.dailyHeadroom &&
    a.maxHeadroom === b.maxHeadroom &&
    a.dailyHeadroomPct === b.dailyHeadroomPct &&
    a.maxHeadroomPct === b.maxHeadroomPct &&
    a.headroomPct === b.headroomPct &&
    a.tradingState === b.tradingState &&
    a.breachedToday === b.breachedToday &&
    a.name === b.name &&
    a.presetId === b.presetId &&
    a.breakers.length === b.breakers.length &&
    a.breakers.every((kind, i) => kind === b.breakers[i]) &&
    a.lockedSymbols.length === b.lockedSymbols.length &&
    a.lockedSymbols.every((symbol, i) => symbol === b.lockedSymbols[i])
  );
}

/** Id, name and preset, lower case: what `q` matches. */
function searchText(accountId: AccountId, row: OverviewRow): string {
  return `${accountId}\n${row.name}\n${row.presetId ?? ""}`.toLowerCase();
}

/** A predicate for `query`'s filters (the window aside). */
export function matcher(query: Omit<OverviewQuery, "offset" | "limit">): (row: OverviewRow, search: string) => boolean {
  const needle = query.q?.trim().toLowerCase() || null;
  const states = query.states && query.states.length > 0 ? new Set<TradingState>(query.states) : null;
  const { presetId, breachedToday, lockedSymbols } = query;
  return (row, search) =>
    (!states || states.has(row.tradingState)) &&
    (!presetId || row.presetId === presetId) &&
    (!breachedToday || row.breachedToday) &&
    (!lockedSymbols || row.lockedSymbols.length > 0) &&
    (!needle || search.includes(needle));
}

function emptyCounts(): OverviewCounts {
  return { total: 0, byState: { ACTIVE: 0, REDUCING: 0, HALTED: 0, LOCKED_OUT: 0 }, breachedToday: 0, withLockedSymbols: 0 };
}

function countRow(counts: OverviewCounts, row: OverviewRow, sign: 1 | -1): void {
  counts.total += sign;
  counts.byState[row.tradingState] += sign;
  if (row.breachedToday) counts.breachedToday += sign;
  if (row.lockedSymbols.length > 0) counts.withLockedSymbols += sign;
}

function addLine(lines: Map<string, Line>, key: string, part: Contribution, sign: 1 | -1): void {
  let line = lines.get(key);
  if (!line) lines.set(key, (line = { netUsd: 0, grossUsd: 0, accounts: 0 }));
  line.accounts += sign;
  if (line.accounts === 0) {
    // Nobody holds it any more: exactly zero, whatever rounding the additions left.
    lines.delete(key);
    return;
  }
  line.netUsd += sign * part.netUsd;
  line.grossUsd += sign * part.grossUsd;
}

function linesOf(lines: Map<string, Line>): ExposureLine[] {
  return [...lines]
    .map(([key, line]) => ({ key, netUsd: cents(line.netUsd), grossUsd: cents(line.grossUsd), accounts: line.accounts }))
    .sort((a, b) => b.grossUsd - a.grossUsd || (a.key < b.key ? -1 : 1));
}

/**
 * An account's share of the firm's exposure: per symbol and per volatility cluster, the signed
 * notional of its position (quantity × contract size × last price; the entry price while the
 * symbol has no price yet). The cluster is the instrument's configured one, else `symbol:<id>`.
 */
export function contributionOf(account: AccountState, state: EngineState): { symbols: Map<string, Contribution>; clusters: Map<string, Contribution> } {
  const symbols = new Map<string, Contribution>();
  const clusters = new Map<string, Contribution>();
  forEachShare(account, state, (symbol, cluster, netUsd) => {
    symbols.set(symbol, { netUsd, grossUsd: Math.abs(netUsd) });
    const part = clusters.get(cluster);
    if (part) clusters.set(cluster, { netUsd: part.netUsd + netUsd, grossUsd: part.grossUsd + Math.abs(netUsd) });
    else clusters.set(cluster, { netUsd, grossUsd: Math.abs(netUsd) });
  });
  return { symbols, clusters };
}

/** Each position's signed notional in USD with its symbol and cluster (what `contributionOf` sums). */
function forEachShare(account: AccountState, state: EngineState, share: (symbol: string, cluster: string, netUsd: number) => void): void {
  for (const [symbol, position] of account.positions) {
    const instrument = state.config.instruments[symbol];
    const price = state.market.get(symbol)?.lastPrice ?? position.avgPrice;
    // The firm's view adds accounts of every currency: each position is converted to USD (not to its account's currency).
    const usdPerQuote = perUnit(conversionOf(quoteCurrencyOf(symbol, instrument), "USD"), state.market) ?? 1;
    const netUsd = position.quantity * (instrument?.contractSize ?? 1) * price * usdPerQuote;
    if (!Number.isFinite(netUsd)) continue;
    share(symbol, instrument?.cluster ?? `symbol:${symbol}`, netUsd);
  }
}

/**
 * A rebuild's shares, summed here before they are compared with the account's kept ones: the
 * kept maps and their parts are updated in place, so a rebuild (every account's, once a second
 * under a moving market) leaves no maps or parts behind to outlive the young generation and
 * fill the old one (a 10,000-account run with the overview's passes off promoted a fifth less).
 */
const freshSymbols = new Map<string, number>();
const freshClusterNet = new Map<string, number>();
const freshClusterGross = new Map<string, number>();

function addShare(symbol: string, cluster: string, netUsd: number): void {
  freshSymbols.set(symbol, netUsd);
  freshClusterNet.set(cluster, (freshClusterNet.get(cluster) ?? 0) + netUsd);
  freshClusterGross.set(cluster, (freshClusterGross.get(cluster) ?? 0) + Math.abs(netUsd));
}

/**
 * Brings `kept` (an account's parts) and `lines` (the firm's totals) to the fresh figures, in
 * place: a part that moved moves its line by the difference, a new one is added, a gone one
 * taken out. False when nothing moved.
 */
function syncParts(kept: Map<string, Contribution>, lines: Map<string, Line>, net: Map<string, number>, gross: (key: string, net: number) => number): boolean {
  let moved = false;
  for (const [key, part] of kept) {
    if (net.has(key)) continue;
    addLine(lines, key, part, -1);
    kept.delete(key);
    moved = true;
  }
  for (const [key, netUsd] of net) {
    const grossUsd = gross(key, netUsd);
    const part = kept.get(key);
    if (!part) {
      const added = { netUsd, grossUsd };
      kept.set(key, added);
      addLine(lines, key, added, 1);
      moved = true;
    } else if (part.netUsd !== netUsd || part.grossUsd !== grossUsd) {
      const line = lines.get(key)!;
      line.netUsd += netUsd - part.netUsd;
      line.grossUsd += grossUsd - part.grossUsd;
      part.netUsd = netUsd;
      part.grossUsd = grossUsd;
      moved = true;
    }
  }
  return moved;
}

/** The latest breach of `account` since its day started, as its state shows it (null: none). */
function breachInState(account: AccountState): number | null {
  const dayStart = account.day.resetAt;
  let latest: number | null = null;
  const see = (at: number) => {
    if (at >= dayStart && (latest === null || at > latest)) latest = at;
  };
  for (const kind of BreakerKinds.options) {
    const breaker = account.breakers[kind];
    if (breaker.tripped) see(breaker.trippedAt);
  }
  if (account.lockedOut) see(account.lockedOut.at);
  if (account.reducing && account.reducing.cause === "daily_loss_limit") see(account.reducing.at);
  return latest;
}

/**
 * The firm overview at desk scale: one compact row per account, kept current from the commits
 * (only the accounts a commit touched are marked, and their rows rebuilt when someone next
 * reads), ordered by headroom (sorted at most once per reader's period), with counts by state
 * and the firm's exposure maintained per account (its old share out, its new one in). Readers:
 * `GET /api/v1/overview` and the stream's `overview` subscriptions; with neither, a commit costs
 * one set insertion per touched account.
 */
export class OverviewModel {
  private stateNow: EngineState;
  private seqNow: number;
  private firmNow: FirmView;
  private readonly entries = new Map<AccountId, Entry>();
  /** Every entry, in headroom order as of the last sort. */
  private readonly sorted: Entry[] = [];
  private orderDirty = true;
  private sortedAt = Number.NEGATIVE_INFINITY;
  /** Touched accounts whose rows are not rebuilt yet, with the seq of the commit that touched them last. */
  private readonly stale = new Map<AccountId, number>();
  /**
   * The stale accounts marked by their own events (a state, a trip, a lock, a fill, a denial),
   * as opposed to a price's holders: as many as those events, so a reader may rebuild them at once.
   */
  private readonly marked = new Set<AccountId>();
  /**
   * Symbols priced since the last rebuild (a tick: their holders; a bar: `barHolders`), with the
   * seq: expanded into `stale` when rows are rebuilt, so a commit costs its records, not its holders.
   */
  private readonly pricedSymbols = new Map<SymbolId, number>();
  private readonly barSymbols = new Map<SymbolId, number>();
  /** An engine or firm event: every row is stale, as of this seq. */
  private everyStaleSince: number | null;
  private settling: Promise<void> | null = null;
  private settlingSlicer: Slicer | null = null;
  /** When a pass was last hurried (performance.now()). */
  private hurriedAt = Number.NEGATIVE_INFINITY;
  private readers = 0;
  private refresher: NodeJS.Timeout | null = null;
  /** The last pass: when it started (performance.now()) and its own time, in its slices. */
  private lastPass = { startedAt: Number.NEGATIVE_INFINITY, busyMs: 0 };
  /** A background pass is running (its timer fired): the next is scheduled when it ends. */
  private refreshing = false;
  /** Breaches seen in commits, applied when the account's row is rebuilt. */
  private readonly breaches = new Map<AccountId, number>();
  private readonly totals = emptyCounts();
  private countsView: OverviewCounts | null = null;
  private readonly symbolLines = new Map<string, Line>();
  private readonly clusterLines = new Map<string, Line>();
  private exposureView: FirmExposure | null = null;
  private breachedView: OverviewRow[] | null = null;
  /** Accounts breached today, with when. */
  private readonly breached = new Map<AccountId, number>();
  /** Accounts with a symbol lock that expires at a time, and the earliest such time. */
  private readonly expiring = new Map<AccountId, number>();
  private nextExpiry = Number.POSITIVE_INFINITY;
  /** The newest decisions, oldest first. */
  private recent: DecisionRecord[];
  private readonly listeners = new Set<(commit: Commit, change: OverviewChange) => void>();
  private readonly refreshListeners = new Set<(changed: ReadonlySet<AccountId>) => void>();

  constructor(
    initial: { state: EngineState; seq: number; firm: FirmView; decisions: DecisionRecord[] },
    private readonly clock: () => number = Date.now,
  ) {
    this.stateNow = initial.state;
    this.seqNow = initial.seq;
    this.firmNow = initial.firm;
    this.recent = [...initial.decisions].sort((a, b) => a.seq - b.seq).slice(-KEPT_DECISIONS);
    this.everyStaleSince = initial.seq;
  }

  get seq(): number {
    return this.seqNow;
  }

  get firm(): FirmView {
    return this.firmNow;
  }

  get state(): EngineState {
    return this.stateNow;
  }

  /** Called after each commit, with what it means for the overview. */
  subscribe(listener: (commit: Commit, change: OverviewChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Called after a pass of `settle` (the background refresh among them) that changed rows, with
   * those accounts: what no commit announces any more (the rows of a tick's holders, an expired
   * lock) and a reader has yet to send.
   */
  onRefresh(listener: (changed: ReadonlySet<AccountId>) => void): () => void {
    this.refreshListeners.add(listener);
    return () => this.refreshListeners.delete(listener);
  }

  /** Takes a commit in: marks the accounts it touched (O(touched)), keeps its decisions and breaches. */
  apply(commit: Commit): void {
    if (commit.toSeq <= this.seqNow) return;
    const firmChanged = commit.firm.halted !== this.firmNow.halted || commit.firm.halt !== this.firmNow.halt;
    this.stateNow = commit.state;
    this.seqNow = commit.toSeq;
    this.firmNow = commit.firm;
    const urgent = new Set<AccountId>();
    // What the commit touched (see `touchedBy`), marked by its records: a price marks its symbol.
    for (const record of commit.records) {
      const event = record.event;
      if (event.type === "market.tick") {
        this.pricedSymbols.set(event.symbol, commit.toSeq);
        continue;
      }
      if (event.type === "market.bar") {
        this.barSymbols.set(event.symbol, commit.toSeq);
        continue;
      }
      if (event.type === "market.book") continue;
      const stream = streamOf(event);
      if (stream === "engine" || stream === "firm") {
        this.everyStaleSince = commit.toSeq;
        continue;
      }
      const accountId = stream as AccountId;
      this.stale.set(accountId, commit.toSeq);
      this.marked.add(accountId);
      if (URGENT_EVENTS.has(event.type) || (event.type === "intent.decided" && event.decision.outcome === "denied")) urgent.add(accountId);
      if (event.type === "breaker.tripped" || event.type === "account.locked_out" || (event.type === "account.reducing" && event.cause === "daily_loss_limit")) {
        this.breaches.set(accountId, Math.max(this.breaches.get(accountId) ?? 0, event.at));
      }
    }
    if (commit.decisions.length > 0) {
      this.recent.push(...commit.decisions);
      if (this.recent.length > KEPT_DECISIONS * 2) this.recent = this.recent.slice(-KEPT_DECISIONS);
    }
    const change: OverviewChange = { urgent, firmChanged };
    for (const listener of this.listeners) listener(commit, change);
  }

  /**
   * Brings what a reader is about to send up to the last commit, without waiting for the sliced
   * pass: the rows of `accounts` (a window, or a scoped principal's accounts: whatever made them
   * stale, a firm event included) and every row its own events marked (so the counts and the
   * breached list hold every state change). Costs `accounts` and the account events since the last
   * rebuild, never a price's holders: those are rebuilt by `settle`, which tells `onRefresh`.
   */
  refreshNow(accounts: Iterable<AccountId>): void {
    const now = this.clock();
    const everySeq = this.everyStaleSince;
    for (const accountId of accounts) {
      const marked = this.stale.get(accountId);
      const seq = everySeq === null ? marked : Math.max(marked ?? 0, everySeq);
      if (seq === undefined) continue;
      this.stale.delete(accountId);
      this.rebuild(accountId, seq, now);
    }
    for (const accountId of this.marked) {
      const seq = this.stale.get(accountId);
      this.marked.delete(accountId);
      if (seq === undefined) continue;
      this.stale.delete(accountId);
      this.rebuild(accountId, seq, now);
    }
  }

  /**
   * Rebuilds every stale row a slice at a time (SLICE_MS each), yielding to the event loop
   * between slices, then sorts (in slices too); concurrent callers share one pass. A pass is
   * background work (it rests between slices) until someone waits for it (`waiting`: a page
   * asked for, a dashboard joining): then it goes on without the rests.
   */
  settle(waiting = false): Promise<void> {
    if (this.settling) {
      if (waiting && this.settlingSlicer) this.hurry(this.settlingSlicer);
      return this.settling;
    }
    if (this.stale.size === 0 && this.pricedSymbols.size === 0 && this.barSymbols.size === 0 && this.everyStaleSince === null && !this.orderDirty) return Promise.resolve();
    const slicer = new Slicer(undefined, SLICE_MS, BACKGROUND_REST);
    if (waiting) this.hurry(slicer);
    this.settlingSlicer = slicer;
    const startedAt = performance.now();
    this.settling = (async () => {
      const changed = new Set<AccountId>();
      try {
        await this.expand(this.clock(), slicer);
        while (this.stale.size > 0) {
          const now = this.clock();
          for (const [accountId, seq] of this.stale) {
            this.stale.delete(accountId);
            if (this.rebuild(accountId, seq, now)) changed.add(accountId);
            if (slicer.due) break;
          }
          await slicer.step();
        }
        await this.sortInSteps(slicer);
      } finally {
        this.settling = null;
        this.settlingSlicer = null;
        this.lastPass = { startedAt, busyMs: slicer.end() };
      }
      if (changed.size > 0) for (const listener of this.refreshListeners) listener(changed);
    })();
    return this.settling;
  }

  /**
   * Hurries a pass someone waits for, at most once per HURRY_EVERY_MS: a reader asking for pages
   * in a loop (GET /api/v1/overview has no rate limit of its own) gets the other passes at the
   * background's pace, so it cannot take the loop from the decisions.
   */
  private hurry(slicer: Slicer): void {
    const now = performance.now();
    if (now - this.hurriedAt < HURRY_EVERY_MS) return;
    this.hurriedAt = now;
    slicer.hurry();
  }

  /**
   * `ensureOrder(0)` a slice at a time: the rows sorted by their headroom as of the start, swapped
   * in at the end (rows created meanwhile go last, and the order is marked to be sorted again).
   */
  private async sortInSteps(slicer: Slicer): Promise<void> {
    if (!this.orderDirty) return;
    this.orderDirty = false;
    const keyed = this.sorted.map((entry) => ({ entry, pct: entry.row.headroomPct, id: entry.row.accountId }));
    const ordered = (await sortInSlices(keyed, byKey, slicer)).map((item) => item.entry);
    if (this.sorted.length !== ordered.length) {
      const known = new Set(ordered);
      for (const entry of this.sorted) if (!known.has(entry)) ordered.push(entry);
      this.orderDirty = true;
    }
    // Copied over, not spread into `splice`: a book of 100,000 rows is too many arguments.
    for (let i = 0; i < ordered.length; i++) this.sorted[i] = ordered[i]!;
    this.sorted.length = ordered.length;
    this.sortedAt = this.clock();
  }

  /** A reader (an overview subscription) is here: keep the rows fresh in the background while any is. */
  retain(): () => void {
    this.readers++;
    this.scheduleRefresh();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.readers === 0 && this.refresher) {
        clearTimeout(this.refresher);
        this.refresher = null;
      }
    };
  }

  /**
   * The next background pass while there are readers: REFRESH_MS after the last one started, or
   * later as REFRESH_SHARE says; a reader joining (the first, or one while a pass runs) waits for
   * the same time, so readers that come and go cannot bring the passes back to every REFRESH_MS.
   */
  private scheduleRefresh(): void {
    if (this.readers === 0 || this.refresher || this.refreshing) return;
    const period = this.refreshPeriodMs;
    const sinceLast = performance.now() - this.lastPass.startedAt;
    // Long after the last pass (or before any): a first reader's pass comes REFRESH_MS after it joined.
    const delay = sinceLast >= period ? REFRESH_MS : period - sinceLast;
    this.refresher = setTimeout(() => {
      this.refresher = null;
      this.refreshing = true;
      const before = this.lastPass;
      const at = performance.now();
      this.settle()
        .catch((error: unknown) => log.error({ error: (error as Error).message }, "the overview's background refresh failed"))
        .finally(() => {
          this.refreshing = false;
          // Nothing was stale: no pass ran, and the next is REFRESH_MS from this one.
          if (this.lastPass === before) this.lastPass = { startedAt: at, busyMs: 0 };
          this.scheduleRefresh();
        });
    }, delay);
    this.refresher.unref();
  }

  /** How long the background waits between passes now, from the start of the last (REFRESH_MS, or more for a large book). */
  get refreshPeriodMs(): number {
    return Math.max(REFRESH_MS, this.lastPass.busyMs / REFRESH_SHARE);
  }

  /**
   * Turns the marks (priced symbols, firm and engine events, expired locks) into stale accounts, a
   * slice at a time: a mark is dropped once all its accounts are stale, unless it was made again
   * meanwhile (then the next pass takes it).
   */
  private async expand(now: number, slicer: Slicer): Promise<void> {
    const stale = (accountId: AccountId, seq: number) => this.stale.set(accountId, Math.max(seq, this.stale.get(accountId) ?? 0));
    const state = this.stateNow;
    if (this.everyStaleSince !== null) {
      const seq = this.everyStaleSince;
      this.everyStaleSince = null;
      for (const accountId of state.accounts.keys()) {
        stale(accountId, seq);
        if (slicer.due) await slicer.next();
      }
    }
    for (const [symbol, seq] of [...this.pricedSymbols]) {
      for (const accountId of holdersOf(state, symbol).unorderedKeys()) {
        stale(accountId, seq);
        if (slicer.due) await slicer.next();
      }
      if (this.pricedSymbols.get(symbol) === seq) this.pricedSymbols.delete(symbol);
    }
    for (const [symbol, seq] of [...this.barSymbols]) {
      for (const accountId of barHolders(state, symbol)) {
        stale(accountId, seq);
        if (slicer.due) await slicer.next();
      }
      if (this.barSymbols.get(symbol) === seq) this.barSymbols.delete(symbol);
    }
    if (now >= this.nextExpiry) {
      this.nextExpiry = Number.POSITIVE_INFINITY;
      for (const [accountId, at] of this.expiring) {
        if (at <= now) this.stale.set(accountId, this.seqNow);
        else this.nextExpiry = Math.min(this.nextExpiry, at);
      }
    }
  }

  /** Sorts the rows by headroom if they changed and the last sort is older than `maxAgeMs`. */
  ensureOrder(maxAgeMs: number): void {
    if (!this.orderDirty) return;
    const now = this.clock();
    if (now - this.sortedAt < maxAgeMs) return;
    this.sorted.sort(byHeadroom);
    this.orderDirty = false;
    this.sortedAt = now;
  }

  /** The current row of an account (as of the last refresh). */
  row(accountId: AccountId): OverviewRow | undefined {
    return this.entries.get(accountId)?.row;
  }

  /** The window of `query` the principal sees: how many rows match, and those of the window in order. */
  window(query: OverviewQuery, principal: Principal): { matching: number; rows: OverviewRow[] } {
    const matches = matcher(query);
    const end = query.offset + query.limit;
    const rows: OverviewRow[] = [];
    let matching = 0;
    for (const entry of this.visibleEntries(principal, true)) {
      if (!matches(entry.row, entry.search)) continue;
      if (matching >= query.offset && matching < end) rows.push(entry.row);
      matching++;
    }
    return { matching, rows };
  }

  /** Counts over the accounts the principal sees (one shared object while nothing changed, for whole-firm callers). */
  counts(principal: Pick<Principal, "accounts">): OverviewCounts {
    if (principal.accounts === null) return (this.countsView ??= structuredClone(this.totals));
    const counts = emptyCounts();
    for (const entry of this.visibleEntries(principal, false)) countRow(counts, entry.row, 1);
    return counts;
  }

  /** The firm's exposure over the accounts the principal sees. */
  exposure(principal: Principal): FirmExposure {
    if (principal.accounts === null) return (this.exposureView ??= { bySymbol: linesOf(this.symbolLines), byCluster: linesOf(this.clusterLines) });
    const symbols = new Map<string, Line>();
    const clusters = new Map<string, Line>();
    for (const entry of this.visibleEntries(principal, false)) {
      for (const [key, part] of entry.symbols) addLine(symbols, key, part, 1);
      for (const [key, part] of entry.clusters) addLine(clusters, key, part, 1);
    }
    return { bySymbol: linesOf(symbols), byCluster: linesOf(clusters) };
  }

  /** Accounts breached today, most recent first (at most BREACHED_LIST). */
  breachedToday(principal: Principal): OverviewRow[] {
    const list = () =>
      [...this.breached]
        .filter(([accountId]) => principal.accounts === null || principal.accounts.includes(accountId))
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .slice(0, BREACHED_LIST)
        .map(([accountId]) => this.entries.get(accountId)!.row);
    if (principal.accounts === null) return (this.breachedView ??= list());
    return list();
  }

  /** The newest decisions the principal sees (at most OVERVIEW_DECISIONS), newest first. */
  decisions(principal: Principal): DecisionRecord[] {
    const out: DecisionRecord[] = [];
    for (let i = this.recent.length - 1; i >= 0 && out.length < OVERVIEW_DECISIONS; i--) {
      const record = this.recent[i]!;
      if (principal.accounts === null || principal.accounts.includes(record.decision.accountId)) out.push(record);
    }
    return out;
  }

  /** One answer of `GET /api/v1/overview` (and an `overview` subscription's first message). */
  async page(query: OverviewQuery, principal: Principal): Promise<OverviewPage> {
    await this.settle(true);
    return this.pageNow(query, principal);
  }

  /** A page from the rows as they are (after `settle`, or kept fresh by a reader). */
  pageNow(query: OverviewQuery, principal: Principal): OverviewPage {
    this.ensureOrder(PAGE_ORDER_AGE_MS);
    const { matching, rows } = this.window(query, principal);
    return {
      seq: this.seqNow,
      firm: this.firmNow,
      counts: this.counts(principal),
      matching,
      offset: query.offset,
      rows,
      breachedToday: this.breachedToday(principal),
      exposure: this.exposure(principal),
      decisions: this.decisions(principal),
    };
  }

  /** The entries a principal sees: every one in headroom order, or its own few (sorted when asked). */
  private visibleEntries(principal: Pick<Principal, "accounts">, ordered: boolean): Entry[] {
    if (principal.accounts === null) return this.sorted;
    const own: Entry[] = [];
    for (const accountId of principal.accounts) {
      const entry = this.entries.get(accountId as AccountId);
      if (entry) own.push(entry);
    }
    return ordered ? own.sort(byHeadroom) : own;
  }

  /** Rebuilds an account's row and its shares of the totals; true if anything a reader sees changed. */
  private rebuild(accountId: AccountId, seq: number, now: number): boolean {
    this.marked.delete(accountId);
    const account = this.stateNow.accounts.get(accountId);
    if (!account) return false;
    const state = this.stateNow;
    const entry = this.entries.get(accountId);

    // Breaches: the latest one of today, from the state and from the commits seen since the last rebuild.
    const dayStart = account.day.resetAt;
    let breachedAt = entry?.breachedAt ?? null;
    if (breachedAt !== null && breachedAt < dayStart) breachedAt = null;
    const seen = this.breaches.get(accountId);
    if (seen !== undefined) {
      this.breaches.delete(accountId);
      if (seen >= dayStart) breachedAt = Math.max(breachedAt ?? 0, seen);
    }
    const inState = breachInState(account);
    if (inState !== null) breachedAt = Math.max(breachedAt ?? 0, inState);

    const config = configOf(state, account);
    const floors = floorsOf(account, config);
    const equity = equityOf(account, state);
    const dailyAllowance = account.baseline - floors.dailyLossFloor;
    const maxAllowance = (account.spec.initialBalanceUsd * config.accountRules.maxLossPct) / 100;
    const dailyLeft = Math.max(0, equity - floors.dailyLossFloor);
    const maxLeft = Math.max(0, equity - floors.maxLossFloor);
    const dailyHeadroomPct = hundredths(share(dailyLeft, dailyAllowance));
    const maxHeadroomPct = hundredths(share(maxLeft, maxAllowance));
    let lockExpiresAt: number | null = null;
    const lockedSymbols: SymbolId[] = [];
    for (const [symbol, veto] of account.vetoes) {
      if (!activeVeto(account, symbol, now)) continue;
      lockedSymbols.push(symbol);
      if (veto.expiresAt !== null) lockExpiresAt = Math.min(lockExpiresAt ?? Number.POSITIVE_INFINITY, veto.expiresAt);
    }
    lockedSymbols.sort();
    const breakers = BreakerKinds.options.filter((kind) => account.breakers[kind].tripped);
    const presetId = account.preset?.presetId ?? null;
    const fresh: OverviewRow = {
      accountId,
      name: account.spec.name,
      presetId,
      tradingState: tradingStateOf(account, state.firmHalt),
      currency: account.spec.currency,
      equity: cents(equity),
      dayPnl: cents(equity - account.baseline),
      dailyHeadroom: cents(dailyLeft),
      dailyHeadroomPct,
      maxHeadroom: cents(maxLeft),
      maxHeadroomPct,
      headroomPct: Math.min(dailyHeadroomPct, maxHeadroomPct),
      // The kept row's lists when they are the same (a new row keeps no new lists it need not).
      breakers: sameList(entry?.row.breakers, breakers) ? entry!.row.breakers : breakers,
      lockedSymbols: sameList(entry?.row.lockedSymbols, lockedSymbols) ? entry!.row.lockedSymbols : lockedSymbols,
      breachedToday: breachedAt !== null,
      seq,
    };
    const row = entry && sameRow(entry.row, fresh) ? entry.row : fresh;
    let changed = row !== entry?.row;

    if (entry) {
      if (row !== entry.row) {
        countRow(this.totals, entry.row, -1);
        countRow(this.totals, row, 1);
        this.countsView = null;
        this.breachedView = null;
        if (row.headroomPct !== entry.row.headroomPct) this.orderDirty = true;
      }
      if (this.syncExposure(entry, account, state)) changed = true;
      // The search text is made anew only when what it is made of changed (it outlives the young generation).
      if (row.name !== entry.row.name || row.presetId !== entry.row.presetId) entry.search = searchText(accountId, row);
      entry.row = row;
      entry.breachedAt = breachedAt;
      entry.lockExpiresAt = lockExpiresAt;
    } else {
      const created: Entry = { row, search: searchText(accountId, row), symbols: new Map(), clusters: new Map(), breachedAt, lockExpiresAt };
      this.entries.set(accountId, created);
      this.sorted.push(created);
      this.orderDirty = true;
      countRow(this.totals, row, 1);
      this.countsView = null;
      this.syncExposure(created, account, state);
    }

    const wasBreachedAt = this.breached.get(accountId);
    if (breachedAt === null) {
      if (wasBreachedAt !== undefined) {
        this.breached.delete(accountId);
        this.breachedView = null;
        changed = true;
      }
    } else if (wasBreachedAt !== breachedAt) {
      this.breached.set(accountId, breachedAt);
      this.breachedView = null;
      changed = true;
    }
    if (lockExpiresAt === null) this.expiring.delete(accountId);
    else {
      this.expiring.set(accountId, lockExpiresAt);
      this.nextExpiry = Math.min(this.nextExpiry, lockExpiresAt);
    }
    return changed;
  }

  /** Brings an account's share of the firm's exposure up to its state, in place (false: nothing moved). */
  private syncExposure(entry: Entry, account: AccountState, state: EngineState): boolean {
    if (entry.symbols.size === 0 && account.positions.size === 0) return false;
    freshSymbols.clear();
    freshClusterNet.clear();
    freshClusterGross.clear();
    forEachShare(account, state, addShare);
    const symbolsMoved = syncParts(entry.symbols, this.symbolLines, freshSymbols, (_, netUsd) => Math.abs(netUsd));
    const clustersMoved = syncParts(entry.clusters, this.clusterLines, freshClusterNet, (key) => freshClusterGross.get(key)!);
    if (!symbolsMoved && !clustersMoved) return false;
    this.exposureView = null;
    return true;
  }

}

const MODELS = Symbol.for("riskgate.overview");
type Holder = { [MODELS]?: WeakMap<Runtime, OverviewModel> };

/**
 * The overview of a runtime: one per runtime, shared by the route handlers and the stream
 * (which are bundled apart: the model is kept on a global symbol, not in a module variable).
 */
export function overviewOf(runtime: Runtime): OverviewModel {
  const models = ((globalThis as Holder)[MODELS] ??= new WeakMap());
  let model = models.get(runtime);
  if (!model) {
    model = new OverviewModel({ state: runtime.engineState, seq: runtime.lastSeq, firm: runtime.firm(), decisions: runtime.recentDecisions(KEPT_DECISIONS) });
    const made = model;
    runtime.subscribe((committed) => made.apply(committed));
    if (runtime.readOnlyBecause !== null) followLedger(runtime, made);
    models.set(runtime, model);
  }
  return model;
}

/**
 * A read-only node folds what the writer commits (`runtime.follow`) without telling listeners:
 * the overview reads those commits from the ledger itself, and works out what they touched.
 */
function followLedger(runtime: Runtime, model: OverviewModel): void {
  let busy = false;
  const timer = setInterval(() => {
    if (busy || runtime.lastSeq <= model.seq) return;
    busy = true;
    void (async () => {
      const target = runtime.lastSeq;
      const state = runtime.engineState;
      const firm = runtime.firm();
      const from = model.seq;
      const records: LedgerRecord[] = [];
      for (let after = from; after < target; ) {
        const page = await runtime.readLedger(after, 5_000);
        if (page.length === 0) break;
        for (const record of page) if (record.seq <= target) records.push(record);
        after = page[page.length - 1]!.seq;
        if (page.length < 5_000) break;
      }
      const fresh = records.filter((record) => record.seq > model.seq);
      if (fresh.length === 0 || model.seq >= target) return;
      const events = fresh.map((record) => record.event);
      const decisions = runtime.recentDecisions(KEPT_DECISIONS).filter((record) => record.seq > model.seq && record.seq <= target).reverse();
      model.apply({ fromSeq: model.seq + 1, toSeq: target, firm, records: fresh, decisions, touched: touchedBy(events, state), state });
    })()
      .catch((error: unknown) => console.error(`overview: following the ledger: ${(error as Error).message}`))
      .finally(() => (busy = false));
  }, FOLLOW_MS);
  timer.unref();
}
