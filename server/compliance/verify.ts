import type { EngineConfig, Rules } from "../engine/config";
import { EngineConfig as EngineConfigSchema, resolveRules, rulesOf } from "../engine/config";
import type { EngineEvent } from "../engine/events";
import type { Preset } from "../engine/preset";
import { conversionOf, perUnitFrom, quoteCurrencyOf } from "../engine/currency";

/**
 * The compliance verifier: checks a recorded event stream (a ledger export or a backtest's
 * ledger) against a preset's rules and objectives. It keeps its own books, from the events
 * alone: positions, balance and equity from fills and prices, trading days from the event times
 * and the preset's reset rule, baselines and both floors. It reads none of the engine's state
 * and none of its outcome events (`account.locked_out`, `day.started`, …), so an engine bug
 * shows as a disagreement instead of being repeated. Pure.
 */

export type LossRuleName = "daily_loss" | "max_loss";

export type Breach = {
  readonly accountId: string;
  readonly rule: LossRuleName;
  /** Event time of the first mark at or below the floor (epoch ms), and its seq. */
  readonly at: number;
  readonly seq: number;
  readonly tradingDay: string;
  /** Equity at that mark, and the floor it reached. */
  readonly observed: number;
  readonly limit: number;
  /**
   * What the preset does on it: `hard` fails the account, `soft` pauses it until the next day,
   * `liquidate` closes its positions and pauses it until the next day (a daily-limit event, not
   * a violation).
   */
  readonly consequence: "hard" | "soft" | "liquidate";
};

export type AccountReport = {
  readonly accountId: string;
  /** The currency every amount of the account's report is in. */
  readonly currency: string;
  readonly initialBalanceUsd: number;
  readonly finalBalance: number;
  readonly finalEquity: number;
  /** Violations: the account failed on each. */
  readonly breaches: readonly Breach[];
  /** Days the daily loss limit was hit under a preset that liquidates on it without failing the account. */
  readonly dailyLimitEvents: readonly Breach[];
  readonly objectives: {
    readonly profitTarget: { readonly target: number; readonly reached: boolean; readonly reachedAt: number | null } | null;
    readonly tradingDays: { readonly required: number; readonly days: number; readonly met: boolean };
    readonly bestDay: { readonly maxSharePct: number; readonly bestDay: string | null; readonly bestDayProfit: number; readonly totalProfit: number; readonly sharePct: number | null; readonly met: boolean } | null;
  };
  /** No rule was breached. */
  readonly compliant: boolean;
  /** Compliant, and every objective met. */
  readonly passed: boolean;
};

export type VerifyReport = {
  readonly presetId: string;
  readonly accounts: readonly AccountReport[];
  /** Accounts of the stream that run another preset (left out unless named), with the preset they run. */
  readonly skipped: readonly { readonly accountId: string; readonly presetId: string }[];
};

type Position = { quantity: number; avgPrice: number };

/**
 * A round trip: a position from flat (or a reversal) back to flat (or the next reversal), with
 * the P/L these books booked on it. Quantity is what was opened (and so closed); the prices are
 * the averages of the opening and of the closing fills.
 */
export type ClosedTrade = {
  readonly symbol: string;
  readonly side: "long" | "short";
  readonly openedAt: number;
  readonly closedAt: number;
  /** Seq of the fill that opened it and of the fill that closed it. */
  readonly openSeq: number;
  readonly closeSeq: number;
  readonly quantity: number;
  readonly entryPrice: number;
  readonly exitPrice: number;
  /** Price P/L, fees, and what the balance gained: gross less fees. */
  readonly gross: number;
  readonly fees: number;
  readonly realized: number;
  /** What made the last closing fill: an order, a stop-loss, a take-profit, a liquidation (a flatten). */
  readonly closedBy: string;
};

/** A round trip still open, as the books follow it. */
type OpenTrip = {
  side: "long" | "short";
  openedAt: number;
  openSeq: number;
  openedQuantity: number;
  entryNotional: number;
  closedQuantity: number;
  exitNotional: number;
  gross: number;
  fees: number;
};

type Books = {
  accountId: string;
  /** The currency of the account's money (its opening says; USD before accounts had one). */
  currency: string;
  /** The preset the account runs: the one it opened under, or the last one activated for it. */
  presetId: string;
  initial: number;
  balance: number;
  positions: Map<string, Position>;
  day: string | null;
  baseline: number;
  highWater: number;
  breaches: Breach[];
  dailyLimitEvents: Breach[];
  dailyBreachedOn: string | null;
  maxBreached: boolean;
  targetReachedAt: number | null;
  tradedDays: Set<string>;
  /** Closed P/L (net of fees) per trading day. */
  dayProfit: Map<string, number>;
  /** Round trips under way, by symbol. */
  trips: Map<string, OpenTrip>;
  /** The latest round trips closed, oldest first (at most `keepTrades`), and how many closed in all. */
  closedTrades: ClosedTrade[];
  closedTradeCount: number;
};

const EPSILON = 1e-9;

/**
 * `only`: the one account to judge (whatever it runs); otherwise every account that runs the
 * preset (opened under it, or its last activation), the others listed as skipped. `config`: the
 * firm's configuration at the stream's start (see `VerifierOptions`).
 */
export function verify(records: Iterable<{ seq: number; event: EngineEvent }>, preset: Preset, only?: string, config?: EngineConfig): VerifyReport {
  const verifier = createVerifier(preset, { ...(only === undefined ? {} : { only }), ...(config ? { config } : {}) });
  for (const record of records) verifier.feed(record);
  return verifier.report();
}

export type VerifierOptions = {
  /** The one account to judge (see `verify`). */
  readonly only?: string;
  /**
   * The firm's configuration at the stream's start (default: the defaults): a stream of one
   * account's events carries no `config.applied` of its own.
   */
  readonly config?: EngineConfig;
  /** Round trips kept per account, the latest (default 0: only counted). */
  readonly keepTrades?: number;
};

/**
 * The verifier fed one record at a time, in seq order, and asked for its report whenever: what
 * `verify` runs over a whole stream, and what the console's live objectives keep per account and
 * feed with the account's new events only.
 */
export type Verifier = {
  feed(record: { seq: number; event: EngineEvent }): void;
  report(): VerifyReport;
  /** An account's latest round trips (oldest first) and how many it closed in all. */
  trades(accountId: string): { trades: readonly ClosedTrade[]; total: number };
};

export function createVerifier(preset: Preset, options: VerifierOptions = {}): Verifier {
  const { only, keepTrades = 0 } = options;
  let firm: EngineConfig = options.config ?? EngineConfigSchema.parse({});
  let rules: Rules = resolveRules(rulesOf(firm), preset.rules);
  const prices = new Map<string, number>();
  /** When each price was set: the event time of its tick, the close time of its bar. */
  const priceTimes = new Map<string, number>();
  const books = new Map<string, Books>();
  const contractSize = (symbol: string) => firm.instruments[symbol as keyof EngineConfig["instruments"]]?.contractSize ?? 1;
  /** Units of `currency` (an account's) per unit of `symbol`'s quote currency at the last prices, converted as the engine converts (currency.ts); null when no price gives it. */
  const perQuote = (symbol: string, currency: string) =>
    perUnitFrom(conversionOf(quoteCurrencyOf(symbol, firm.instruments[symbol as keyof EngineConfig["instruments"]]), currency), (pair) => prices.get(pair));

  const equityOf = (account: Books) => {
    let floating = 0;
    for (const [symbol, position] of account.positions) {
      const mark = prices.get(symbol) ?? position.avgPrice;
      // Without a rate the position is marked at cost, as the engine marks it.
      floating += (mark - position.avgPrice) * position.quantity * contractSize(symbol) * (perQuote(symbol, account.currency) ?? 0);
    }
    return account.balance + floating;
  };

  const floors = (account: Books) => {
    const { dailyLossPct, dailyLossOf, maxLossPct, maxLossMode, trailingStopsAtInitialBalance } = rules.accountRules;
    const daily = account.baseline - (dailyLossOf === "baseline" ? account.baseline : account.initial) * (dailyLossPct / 100);
    const allowance = account.initial * (maxLossPct / 100);
    let max = account.initial - allowance;
    if (maxLossMode !== "static") {
      const trailing = account.highWater - allowance;
      max = Math.max(max, trailingStopsAtInitialBalance ? Math.min(trailing, account.initial) : trailing);
    }
    return { daily, max };
  };

  /**
   * A new trading day for the account when `at` falls in one: baseline and end-of-day high water
   * from the books as they stand, then both floors checked at the reset instant (a day may start
   * past one, with no price until after a weekend).
   */
  const roll = (account: Books, seq: number, at: number) => {
    const day = tradingDayAt(at, rules.dailyReset.time, rules.dailyReset.timeZone, rules.dailyReset.tradeDate);
    if (account.day === day) return;
    const started = account.day !== null;
    if (account.day !== null) {
      const equity = equityOf(account);
      const basis = rules.accountRules.dailyBaselineBasis;
      account.baseline =
        basis === "equity" ? equity : basis === "balance" ? account.balance : basis === "max_balance_equity" ? Math.max(account.balance, equity) : account.initial;
      if (rules.accountRules.maxLossMode !== "static") account.highWater = cents(Math.max(account.highWater, equity));
      account.baseline = cents(account.baseline);
    }
    account.day = day;
    if (started) check(account, seq, resetInstantOf(day, rules.dailyReset.time, rules.dailyReset.timeZone, rules.dailyReset.tradeDate));
  };

  /** Checks both floors at a mark of the account's equity. */
  const check = (account: Books, seq: number, at: number) => {
    const equity = equityOf(account);
    if (rules.accountRules.maxLossMode === "trailing_intraday" && equity > account.highWater) account.highWater = equity;
    const { daily, max } = floors(account);
    const day = account.day!;
    if (!account.maxBreached && equity - max <= EPSILON) {
      account.maxBreached = true;
      account.breaches.push({ accountId: account.accountId, rule: "max_loss", at, seq, tradingDay: day, observed: cents(equity), limit: cents(max), consequence: "hard" });
    }
    if (account.dailyBreachedOn !== day && equity - daily <= EPSILON) {
      account.dailyBreachedOn = day;
      const consequence = rules.accountRules.dailyLossBreach;
      const hit: Breach = { accountId: account.accountId, rule: "daily_loss", at, seq, tradingDay: day, observed: cents(equity), limit: cents(daily), consequence };
      (consequence === "liquidate" ? account.dailyLimitEvents : account.breaches).push(hit);
    }
    const target = preset.objectives.profitTargetPct;
    if (target !== null && account.targetReachedAt === null && account.balance - account.initial * (1 + target / 100) >= -EPSILON) account.targetReachedAt = at;
  };

  /** Follows the account's round trip in the symbol through one fill; `realized` is what the fill closed. */
  const trace = (account: Books, seq: number, at: number, symbol: string, signed: number, price: number, closed: number, realized: number, feeUsd: number, trigger: string) => {
    let trip = account.trips.get(symbol);
    const opened = Math.abs(signed) - closed;
    // The fee goes with the quantities: the closing part to this trip, the rest to the next.
    const closingFee = signed === 0 ? 0 : (feeUsd * closed) / Math.abs(signed);
    if (trip && closed > 0) {
      trip.closedQuantity += closed;
      trip.exitNotional += closed * price;
      trip.gross += realized;
      trip.fees += closingFee;
      if (trip.closedQuantity >= trip.openedQuantity - EPSILON) {
        account.closedTradeCount++;
        if (keepTrades > 0) {
          account.closedTrades.push({
            symbol,
            side: trip.side,
            openedAt: trip.openedAt,
            closedAt: at,
            openSeq: trip.openSeq,
            closeSeq: seq,
            quantity: Number(trip.openedQuantity.toPrecision(12)),
            entryPrice: Number((trip.entryNotional / trip.openedQuantity).toPrecision(10)),
            exitPrice: Number((trip.exitNotional / trip.closedQuantity).toPrecision(10)),
            gross: cents(trip.gross),
            fees: cents(trip.fees),
            realized: cents(trip.gross - trip.fees),
            closedBy: trigger,
          });
          if (account.closedTrades.length > keepTrades) account.closedTrades.shift();
        }
        account.trips.delete(symbol);
        trip = undefined;
      }
    }
    if (opened > EPSILON) {
      if (!trip) {
        trip = { side: signed > 0 ? "long" : "short", openedAt: at, openSeq: seq, openedQuantity: 0, entryNotional: 0, closedQuantity: 0, exitNotional: 0, gross: 0, fees: 0 };
        account.trips.set(symbol, trip);
      }
      trip.openedQuantity += opened;
      trip.entryNotional += opened * price;
      trip.fees += feeUsd - closingFee;
    }
  };

  const feed = ({ seq, event }: { seq: number; event: EngineEvent }) => {
    if (event.type === "config.applied") {
      firm = event.config;
      rules = resolveRules(rulesOf(firm), preset.rules);
      return;
    }
    if (event.type === "account.opened") {
      const { accountId, initialBalanceUsd } = event.account;
      if (only !== undefined && accountId !== only) return;
      books.set(accountId, {
        accountId,
        currency: event.account.currency,
        presetId: event.account.presetId,
        initial: initialBalanceUsd,
        balance: initialBalanceUsd,
        positions: new Map(),
        day: tradingDayAt(event.at, rules.dailyReset.time, rules.dailyReset.timeZone, rules.dailyReset.tradeDate),
        baseline: initialBalanceUsd,
        highWater: initialBalanceUsd,
        breaches: [],
        dailyLimitEvents: [],
        dailyBreachedOn: null,
        maxBreached: false,
        targetReachedAt: null,
        tradedDays: new Set(),
        dayProfit: new Map(),
        trips: new Map(),
        closedTrades: [],
        closedTradeCount: 0,
      });
      return;
    }
    if (event.type === "preset.activated") {
      const account = books.get(event.accountId);
      if (account) account.presetId = event.presetId;
      return;
    }
    // Every account's day moves with time, whichever event carries it.
    for (const account of books.values()) roll(account, seq, event.at);
    if (event.type === "market.tick" || event.type === "market.bar") {
      // A bar that closed before the symbol's last price (a late bar after a newer tick) does not
      // take the price back to its older close, as in the engine's fold.
      const pricedAt = priceTimes.get(event.symbol);
      if (event.type === "market.tick" || pricedAt === undefined || event.at >= pricedAt) {
        prices.set(event.symbol, event.type === "market.tick" ? event.price : event.close);
        priceTimes.set(event.symbol, event.at);
      }
      // The prices of one instant apply together: equity is checked after the last of them.
      if (event.deferred) return;
      const repriced = event.instant ?? [event.symbol];
      for (const account of books.values()) if (repriced.some((symbol) => account.positions.has(symbol))) check(account, seq, event.at);
    } else if (event.type === "execution.filled") {
      const account = books.get(event.accountId);
      if (!account) return;
      const size = contractSize(event.symbol);
      const held = account.positions.get(event.symbol);
      const signed = event.side === "BUY" ? event.quantity : -event.quantity;
      let realized = 0;
      let closed = 0;
      if (!held || Math.sign(held.quantity) === Math.sign(signed)) {
        const quantity = (held?.quantity ?? 0) + signed;
        account.positions.set(event.symbol, { quantity, avgPrice: ((held?.quantity ?? 0) * (held?.avgPrice ?? 0) + signed * event.price) / quantity });
      } else {
        closed = Math.min(Math.abs(signed), Math.abs(held.quantity));
        // At the rate the fill recorded (the engine's at that instant; older fills, all in USD
        // accounts, recorded it as usdPerQuote), 1 when the quote is the account's currency.
        realized = (event.price - held.avgPrice) * closed * Math.sign(held.quantity) * size * (event.accountPerQuote ?? event.usdPerQuote ?? 1);
        const remaining = held.quantity + signed;
        if (Math.abs(remaining) < EPSILON) account.positions.delete(event.symbol);
        else account.positions.set(event.symbol, { quantity: remaining, avgPrice: Math.sign(remaining) !== Math.sign(held.quantity) ? event.price : held.avgPrice });
      }
      account.balance += realized - event.feeUsd;
      const day = account.day!;
      account.dayProfit.set(day, (account.dayProfit.get(day) ?? 0) + realized - event.feeUsd);
      if (event.trigger === "order") account.tradedDays.add(day);
      trace(account, seq, event.at, event.symbol, signed, event.price, closed, realized, event.feeUsd, event.trigger);
      check(account, seq, event.at);
    }
  };

  return {
    feed,
    report: () => {
      // Without an account named, the preset judges the accounts that run it, not the whole firm.
      const judged = [...books.values()].filter((account) => only !== undefined || account.presetId === preset.id);
      return {
        presetId: preset.id,
        accounts: judged.map((account) => report(account, preset, equityOf(account))),
        skipped: [...books.values()].filter((account) => !judged.includes(account)).map(({ accountId, presetId }) => ({ accountId, presetId })),
      };
    },
    trades: (accountId) => {
      const account = books.get(accountId);
      return { trades: account?.closedTrades ?? [], total: account?.closedTradeCount ?? 0 };
    },
  };
}

function report(account: Books, preset: Preset, equity: number): AccountReport {
  const { profitTargetPct, minTradingDays, bestDayMaxSharePct } = preset.objectives;
  const total = account.balance - account.initial;
  let bestDay: string | null = null;
  let bestDayProfit = 0;
  for (const [day, profit] of account.dayProfit) if (profit > bestDayProfit) [bestDay, bestDayProfit] = [day, profit];
  const sharePct = total > 0 ? (bestDayProfit / total) * 100 : null;
  const objectives: AccountReport["objectives"] = {
    profitTarget: profitTargetPct === null ? null : { target: cents((account.initial * profitTargetPct) / 100), reached: account.targetReachedAt !== null, reachedAt: account.targetReachedAt },
    tradingDays: { required: minTradingDays, days: account.tradedDays.size, met: account.tradedDays.size >= minTradingDays },
    bestDay:
      bestDayMaxSharePct === null
        ? null
        : { maxSharePct: bestDayMaxSharePct, bestDay, bestDayProfit: cents(bestDayProfit), totalProfit: cents(total), sharePct: sharePct === null ? null : Number(sharePct.toFixed(2)), met: sharePct === null || sharePct <= bestDayMaxSharePct + EPSILON },
  };
  const compliant = account.breaches.length === 0;
  const met = objectivesMet(objectives);
  return {
    accountId: account.accountId,
    currency: account.currency,
    initialBalanceUsd: account.initial,
    finalBalance: cents(account.balance),
    finalEquity: cents(equity),
    breaches: account.breaches,
    dailyLimitEvents: account.dailyLimitEvents,
    objectives,
    compliant,
    passed: compliant && met,
  };
}

/** Every objective the preset sets is met (those it does not set count as met). */
export function objectivesMet(objectives: AccountReport["objectives"]): boolean {
  return (objectives.profitTarget?.reached ?? true) && objectives.tradingDays.met && (objectives.bestDay?.met ?? true);
}

const cents = (usd: number) => Math.round(usd * 100) / 100;

const formats = new Map<string, Intl.DateTimeFormat>();

/**
 * The trading day an instant belongs to under a daily reset at `time` in `timeZone`: the local
 * date of the instant, or the day before when the local clock has not reached the reset yet.
 * Under CME trade dates (`next_weekday`) that reset date is named by the weekday after it, and
 * a Friday's or Saturday's reset date counts as Thursday's (there is none on those days).
 * Computed from the local wall clock alone (no reset instant is constructed), a method of its
 * own beside the engine's calendar, daylight saving included.
 */
export function tradingDayAt(at: number, time: string, timeZone: string, tradeDate: "reset_date" | "next_weekday" = "reset_date"): string {
  const parts = wallParts(at, timeZone);
  const [resetHour, resetMinute] = time.split(":").map(Number) as [number, number];
  const minutes = Number(parts.hour) * 60 + Number(parts.minute);
  const local = new Date(Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day)));
  if (minutes < resetHour * 60 + resetMinute) local.setUTCDate(local.getUTCDate() - 1);
  if (tradeDate === "next_weekday") {
    const weekday = local.getUTCDay();
    local.setUTCDate(local.getUTCDate() + (weekday === 5 ? 0 : weekday === 6 ? -1 : 1));
  }
  return local.toISOString().slice(0, 10);
}

/**
 * The instant trading day `day` (YYYY-MM-DD) starts: its date at the reset's local time, or
 * under CME trade dates the weekday before's (Monday's starts on Sunday).
 */
export function resetInstantOf(day: string, time: string, timeZone: string, tradeDate: "reset_date" | "next_weekday" = "reset_date"): number {
  const [year, month, named] = day.split("-").map(Number) as [number, number, number];
  const date = tradeDate === "next_weekday" ? named - 1 : named;
  const [hour, minute] = time.split(":").map(Number) as [number, number];
  const wall = Date.UTC(year, month - 1, date, hour, minute);
  // The zone's offset at a first guess, then at the instant it gives (a change between the two).
  const first = wall - offsetAt(wall, timeZone);
  return wall - offsetAt(first, timeZone);
}

/** How far `timeZone`'s wall clock is ahead of UTC at `at`, in ms (whole minutes). */
function offsetAt(at: number, timeZone: string): number {
  const parts = wallParts(at, timeZone);
  const wall = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute));
  return wall - Math.floor(at / 60_000) * 60_000;
}

/** The local date and time of `at` in `timeZone`, as the formatter's parts (cached per zone). */
function wallParts(at: number, timeZone: string): Record<string, string> {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    formats.set(timeZone, format);
  }
  return Object.fromEntries(format.formatToParts(at).map((part) => [part.type, part.value]));
}
