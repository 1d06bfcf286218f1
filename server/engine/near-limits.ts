import type { Conversion } from "./currency";
import type { AccountId, SymbolId } from "./ids";
import type { PersistentMap } from "./persistent-map";
import type { AccountState, EngineState, Leg, MarketState } from "./state";
import { configOf, equityOf, equityOfLegs, floorsOf, legsOf } from "./state";

/**
 * Which holders of a repriced symbol can be at a limit: a filter in front of the loss checks and
 * the trailing high-water marks, so that a tick costs a scan of two arrays of numbers rather than
 * a valuation of each holder.
 *
 * Each account gets a certificate at some state: its equity E, the equity L at or below which a
 * loss check can fire (`limitEquityOf`) and, under `trailing_intraday`, its high-water mark H;
 * then a band around the price of every symbol its equity reads (its positions, and the pairs
 * that convert their quote currencies) so narrow that, while every one of those prices stays
 * inside its band, equity can neither fall by E − L nor rise by H − E (see `bandsOf`): the account
 * is neither at a limit nor past its mark. An account at a limit (or past its mark) gets bands no
 * price is inside on the symbols it holds (it is looked at on every tick of them) and bands every
 * price is inside on the pairs it only reads (their ticks do not make it a holder); a missing price (a position marked at entry, a
 * rate not known yet) gives a band that only a missing price is inside.
 *
 * Bound (ε ≤ 0.1): a position of q units of contract size s, entry e, at price p0 with rate r0
 * (quote currency to the account's, 1 when they are the same; a product of n pair prices, each
 * direct or inverted, so within ±k·ε of r0 while each price is within ±ε, k = 2 for one pair, 4.4
 * for two through USD) moves by at most |q|·s·r0·ε·((1 + 0.1·k)·p0 + k·|p0 − e|) — |q|·s·p0·ε
 * without a conversion. The ε of each direction is chosen so that the sum over the positions is
 * half that direction's margin.
 *
 * The bands live in one table per symbol (two arrays of numbers, a slot per account whose equity
 * reads the symbol), kept valid at one state. To answer for another state, the tables are brought
 * to it by difference, whatever lineage it is on (a fork, a dry-run, an older state): the accounts
 * whose state differs (`PersistentMap.changedSince`, by shard) and the accounts whose band on a
 * symbol whose price differs (or that was just repriced) no longer holds are the suspects; each
 * gets a new certificate at the new state. Every other account has the state and, for each
 * symbol it reads, a price inside the band it was certified with: it is not at a limit. The caller
 * runs the exact checks on the suspects that hold a repriced symbol, as it did on every holder
 * before, and the exact checks decide, so the outcome is the same to the bit.
 */

/** The bands of the accounts whose equity reads one symbol; a missing price inside [NaN, NaN]. */
class Table {
  ids: AccountId[] = [];
  lo = new Float64Array(64);
  hi = new Float64Array(64);
  readonly slots = new Map<AccountId, number>();

  put(accountId: AccountId, lo: number, hi: number): void {
    let slot = this.slots.get(accountId);
    if (slot === undefined) {
      slot = this.ids.length;
      if (slot === this.lo.length) {
        const lows = new Float64Array(slot * 2);
        const highs = new Float64Array(slot * 2);
        lows.set(this.lo);
        highs.set(this.hi);
        this.lo = lows;
        this.hi = highs;
      }
      this.ids.push(accountId);
      this.slots.set(accountId, slot);
    }
    this.lo[slot] = lo;
    this.hi[slot] = hi;
  }

  remove(accountId: AccountId): void {
    const slot = this.slots.get(accountId);
    if (slot === undefined) return;
    const last = this.ids.length - 1;
    const moved = this.ids[last]!;
    this.ids[slot] = moved;
    this.lo[slot] = this.lo[last]!;
    this.hi[slot] = this.hi[last]!;
    this.slots.set(moved, slot);
    this.ids.pop();
    this.slots.delete(accountId);
  }

  /** Adds to `into` every account whose band does not hold `price` (NaN: missing). */
  outside(price: number, into: Set<AccountId>): void {
    const { ids, lo, hi } = this;
    const missing = price !== price;
    for (let i = 0; i < ids.length; i++) {
      const low = lo[i]!;
      if (low !== low ? !missing : !(price >= low && price <= hi[i]!)) into.add(ids[i]!);
    }
  }
}

/** Every account's bands, valid at one state. */
class Tables {
  readonly bySymbol = new Map<SymbolId, Table>();
  /** The symbols whose tables hold each account. */
  readonly symbolsOf = new Map<AccountId, readonly SymbolId[]>();
  /** The accounts under `trailing_intraday` holding each symbol: valued at each tick of it (their mark follows every one). */
  readonly trailing = new Map<SymbolId, Set<AccountId>>();
  /** Each trailing account as of the tables' state, with its legs: what a tick values it from (and the symbols it holds there). */
  readonly trailingAccounts = new Map<AccountId, { account: AccountState; legs: readonly Leg[] }>();
  /** The highest equity inside each trailing account's bands: a mark raised up to it leaves the certificate valid. */
  readonly ceilings = new Map<AccountId, number>();
  accounts: PersistentMap<AccountId, AccountState>;
  prices = new Map<SymbolId, number>();
  readonly config: EngineState["config"];

  constructor(state: EngineState) {
    this.config = state.config;
    this.accounts = state.accounts;
    this.prices = pricesOf(state.market);
    for (const accountId of state.accounts.unorderedKeys()) this.certify(state, accountId);
  }

  /** A new certificate for `accountId` at `state` (or none: the account is gone). */
  certify(state: EngineState, accountId: AccountId): void {
    certificates.made++;
    const account = state.accounts.get(accountId);
    const before = this.symbolsOf.get(accountId) ?? [];
    const { bands, ceiling } = account ? bandsOf(state, account) : { bands: [], ceiling: Number.NEGATIVE_INFINITY };
    for (const symbol of before) if (!bands.some((band) => band.symbol === symbol)) this.bySymbol.get(symbol)?.remove(accountId);
    for (const { symbol, lo, hi } of bands) {
      let table = this.bySymbol.get(symbol);
      if (!table) this.bySymbol.set(symbol, (table = new Table()));
      table.put(accountId, lo, hi);
    }
    if (bands.length > 0) this.symbolsOf.set(accountId, bands.map((band) => band.symbol));
    else this.symbolsOf.delete(accountId);
    // Under `trailing_intraday`, the symbols it holds: each tick of one values it against its mark.
    const held = account && configOf(state, account).accountRules.maxLossMode === "trailing_intraday" ? [...account.positions.keys()] : [];
    for (const symbol of this.trailingAccounts.get(accountId)?.account.positions.keys() ?? []) if (!held.includes(symbol)) this.trailing.get(symbol)?.delete(accountId);
    for (const symbol of held) {
      let holders = this.trailing.get(symbol);
      if (!holders) this.trailing.set(symbol, (holders = new Set()));
      holders.add(accountId);
    }
    if (held.length > 0) this.trailingAccounts.set(accountId, { account: account!, legs: legsOf(account!, state.config) });
    else this.trailingAccounts.delete(accountId);
    if (ceiling > Number.NEGATIVE_INFINITY) this.ceilings.set(accountId, ceiling);
    else this.ceilings.delete(accountId);
  }

  /**
   * Whether `accountId`, changed since the tables' state, keeps its certificate: only its mark
   * rose (a tick re-marked it), and no higher than the equity its bands allow, so its bands
   * still hold (see `bandsOf`).
   */
  private stillCertified(accountId: AccountId, after: AccountState | undefined): boolean {
    const ceiling = this.ceilings.get(accountId);
    if (ceiling === undefined || !after || after.highWater > ceiling) return false;
    const before = this.accounts.get(accountId);
    return before !== undefined && onlyMarkRose(before, after);
  }

  /** Brings the tables to `state`, whose accounts differ from theirs in `changed`; answers the accounts certified anew (the suspects). */
  bringTo(state: EngineState, repriced: readonly SymbolId[], changed: readonly AccountId[]): Set<AccountId> {
    const suspects = new Set<AccountId>();
    for (const accountId of changed) {
      const account = state.accounts.get(accountId);
      const kept = account && this.stillCertified(accountId, account) ? this.trailingAccounts.get(accountId) : undefined;
      if (kept) kept.account = account!; // its mark rose: same positions, same legs
      else suspects.add(accountId);
    }
    const prices = pricesOf(state.market);
    const scanned = new Set<SymbolId>(repriced);
    for (const [symbol, price] of prices) if (!Object.is(this.prices.get(symbol), price)) scanned.add(symbol);
    for (const symbol of this.prices.keys()) if (!prices.has(symbol)) scanned.add(symbol);
    for (const symbol of scanned) this.bySymbol.get(symbol)?.outside(prices.get(symbol) ?? Number.NaN, suspects);
    for (const accountId of suspects) this.certify(state, accountId);
    this.accounts = state.accounts;
    this.prices = prices;
    return suspects;
  }
}

/** Certificates made so far (each a valuation of one account): what the filter costs, for tests and profiles. */
export const certificates = { made: 0 };

/** A few sets of tables, for states of different lineages (the live book, a backtest's, a dry-run's). */
const families: Tables[] = [];
const FAMILIES = 4;

/**
 * The holders of `repriced` (symbols just priced in `state`) that may be at a loss limit or past
 * their high-water mark in `state`: every holder for which that is true is among them.
 */
export function nearLimits(state: EngineState, repriced: readonly SymbolId[]): AccountId[] {
  const { suspects, tables } = suspectsAt(state, repriced);
  const near: AccountId[] = [];
  const taken = new Set<AccountId>();
  for (const accountId of suspects) {
    const account = state.accounts.get(accountId);
    if (!account) continue;
    for (const symbol of repriced) {
      if (!account.positions.has(symbol)) continue;
      near.push(accountId);
      taken.add(accountId);
      break;
    }
  }
  // The trailing holders of a repriced symbol past their mark: valued one by one (no band can
  // spare them: their mark follows every tick).
  if (tables) {
    for (const symbol of repriced) {
      for (const accountId of tables.trailing.get(symbol) ?? []) {
        if (taken.has(accountId)) continue;
        const { account, legs } = tables.trailingAccounts.get(accountId)!;
        if (!(equityOfLegs(account.balance, legs, state) > account.highWater)) continue;
        near.push(accountId);
        taken.add(accountId);
      }
    }
  }
  return near;
}

/** The suspects at `state`, and the tables brought there (null: new tables, every account a suspect). */
function suspectsAt(state: EngineState, repriced: readonly SymbolId[]): { suspects: Iterable<AccountId>; tables: Tables | null } {
  // The family whose state is nearest: the fewest accounts changed since.
  let best: Tables | null = null;
  let bestChanged: readonly AccountId[] | null = null;
  for (const tables of families) {
    if (tables.config !== state.config) continue;
    const changed = tables.accounts === state.accounts ? [] : state.accounts.changedSince(tables.accounts);
    if (changed !== null && (bestChanged === null || changed.length < bestChanged.length)) [best, bestChanged] = [tables, changed];
    if (changed?.length === 0) break;
  }
  // A state far from every family (more than a quarter of its accounts changed) starts its own.
  if (best && bestChanged && bestChanged.length <= Math.max(64, state.accounts.size / 4)) {
    families.splice(families.indexOf(best), 1);
    families.push(best); // the most recently used last
    return { suspects: best.bringTo(state, repriced, bestChanged), tables: best };
  }
  if (families.length >= FAMILIES) families.shift();
  families.push(new Tables(state));
  return { suspects: state.accounts.unorderedKeys(), tables: null };
}

/** `after` is `before` with a higher (or the same) high-water mark and nothing else changed. */
function onlyMarkRose(before: AccountState, after: AccountState): boolean {
  if (after.highWater < before.highWater) return false;
  const a = before as unknown as Record<string, unknown>;
  const b = after as unknown as Record<string, unknown>;
  let keys = 0;
  for (const key in b) {
    keys++;
    if (key !== "highWater" && a[key] !== b[key]) return false;
  }
  for (const key in a) keys--;
  return keys === 0;
}

/** The last price of each symbol as the valuation reads it (set and timed). */
function pricesOf(market: ReadonlyMap<SymbolId, MarketState>): Map<SymbolId, number> {
  const prices = new Map<SymbolId, number>();
  for (const [symbol, priced] of market) {
    const price = priceOf(priced);
    if (price !== null) prices.set(symbol, price);
  }
  return prices;
}

function priceOf(priced: MarketState | undefined): number | null {
  return priced && priced.lastPrice !== null && priced.lastPriceAt !== null ? priced.lastPrice : null;
}

const MAX_EPSILON = 0.1;

type Band = { readonly symbol: SymbolId; readonly lo: number; readonly hi: number };

/**
 * The account's bands at `state`'s prices: one per symbol its equity reads. Two margins: down, to
 * the nearest loss limit, and up, to the high-water mark under `trailing_intraday` (an account at
 * its mark must be looked at when equity rises, not when it falls). A position quoted in the
 * account's currency moves equity one way with its price: a long's band reaches εU up and εD down,
 * a short's the other way round, so that neither sum passes half its margin. A converted position
 * (its rate moves too) gets the narrower of the two each way, as do the pairs of its rate.
 */
function bandsOf(state: EngineState, account: AccountState): { bands: Band[]; ceiling: number } {
  const { market, config } = state;
  // Each price the equity reads (null: missing), the side of each position priced in the
  // account's currency, the symbols a converted position reads, and the weight of their moves.
  const references = new Map<SymbolId, number | null>();
  const sides = new Map<SymbolId, number>();
  const symmetric: SymbolId[] = [];
  let weight = 0;
  for (const { symbol, position, contractSize, conversion } of legsOf(account, config)) {
    const mark = priceOf(market.get(symbol));
    references.set(symbol, mark);
    const units = Math.abs(position.quantity * contractSize);
    if (conversion === null) {
      if (mark === null) continue; // marked at entry until a price comes: it must stay missing
      sides.set(symbol, Math.sign(position.quantity));
      weight += units * mark;
      continue;
    }
    const read = readRate(conversion, market, references, symmetric);
    symmetric.push(symbol);
    if (mark === null || read === null) continue;
    const { rate, factors } = read;
    // The rate is a product of `factors` prices, each direct or inverted: within ±2ε each, within
    // ±c·ε together (c = ((1 + 0.2)^factors − 1) / 0.1 for ε ≤ 0.1).
    const c = (Math.pow(1 + 2 * MAX_EPSILON, factors) - 1) / MAX_EPSILON;
    weight += units * rate * ((1 + c * MAX_EPSILON) * mark + c * Math.abs(mark - position.avgPrice));
  }
  if (references.size === 0) return { bands: [], ceiling: Number.NEGATIVE_INFINITY };
  const margins = marginsOf(state, account);
  const bands: Band[] = [];
  const widthOf = (margin: number) => (margin === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : weight > 0 ? Math.min(MAX_EPSILON, (0.5 * margin) / weight) : MAX_EPSILON);
  const up = margins === null ? 0 : widthOf(margins.up);
  const down = margins === null ? 0 : widthOf(margins.down);
  const both = Math.min(up, down, MAX_EPSILON);
  for (const [symbol, reference] of references) {
    if (reference === null) {
      bands.push({ symbol, lo: Number.NaN, hi: Number.NaN });
      continue;
    }
    if (margins === null) {
      // At a limit or past its mark: looked at on every tick of a symbol it holds. A symbol it
      // only reads (a pair converting a position's quote currency) cannot make it one of a
      // tick's holders, and no other band rests on it: any price of it holds.
      if (account.positions.has(symbol)) bands.push({ symbol, lo: Number.POSITIVE_INFINITY, hi: Number.NEGATIVE_INFINITY });
      else bands.push({ symbol, lo: Number.NEGATIVE_INFINITY, hi: Number.POSITIVE_INFINITY });
      continue;
    }
    let lo = Number.NEGATIVE_INFINITY;
    let hi = Number.POSITIVE_INFINITY;
    const side = sides.get(symbol);
    if (side !== undefined && side !== 0) {
      const [below, above] = side > 0 ? [down, up] : [up, down];
      lo = reference * (1 - Math.min(below, 1));
      hi = reference * (1 + above);
    }
    if (symmetric.includes(symbol)) {
      lo = Math.max(lo, reference * (1 - both));
      hi = Math.min(hi, reference * (1 + both));
    }
    bands.push({ symbol, lo, hi });
  }
  return { bands, ceiling: margins?.ceiling ?? Number.NEGATIVE_INFINITY };
}

/**
 * How far equity may fall before a loss check can fire, and how far it may rise (infinite: as
 * far as it likes); null when it is at a limit. Under `trailing_intraday` the mark (and the floor
 * it carries) follows equity up: the margin m is taken to the limit as if the mark stood at the
 * equity now, and each way gets half of it, so that inside the bands equity moves by m/4 at most
 * either way: however high the mark rises in them (to `ceiling` at most, raising the floor by as
 * much), equity stays m/2 above the limit. Whether the mark is passed is asked of each trailing
 * holder at each tick (`nearLimits`), not of the bands.
 */
function marginsOf(state: EngineState, account: AccountState): { down: number; up: number; ceiling: number } | null {
  const equity = equityOf(account, state);
  if (!Number.isFinite(equity)) return null;
  const trailing = configOf(state, account).accountRules.maxLossMode === "trailing_intraday";
  const limit = trailing ? limitEquityAt(state, account, Math.max(account.highWater, equity)) : limitEquityOf(state, account);
  // No limit left to reach (locked out, the breaker tripped).
  const margin = Number.isNaN(limit) || limit === Number.NEGATIVE_INFINITY ? Number.POSITIVE_INFINITY : equity - limit;
  if (!(margin > 0)) return null;
  if (!trailing) return { down: margin, up: Number.POSITIVE_INFINITY, ceiling: Number.NEGATIVE_INFINITY };
  return { down: margin / 2, up: margin / 2, ceiling: equity + margin / 4 };
}

/**
 * The rate of `conversion` as `perUnit` reads it (the same pairs in the same order), noting in
 * `references` each price it read (null: missing, and it must stay so) and in `read` its symbol,
 * with how many prices it multiplies; null when it has none.
 */
function readRate(
  conversion: NonNullable<Conversion>,
  market: ReadonlyMap<SymbolId, MarketState>,
  references: Map<SymbolId, number | null>,
  read: SymbolId[],
): { rate: number; factors: number } | null {
  const direct = priceOf(market.get(conversion.direct));
  references.set(conversion.direct, direct);
  read.push(conversion.direct);
  if (direct !== null) return { rate: direct, factors: 1 };
  const inverse = priceOf(market.get(conversion.inverse));
  references.set(conversion.inverse, inverse);
  read.push(conversion.inverse);
  if (inverse !== null) return { rate: 1 / inverse, factors: 1 };
  if (conversion.via === null) return null;
  const toUsd = readRate(conversion.via[0], market, references, read);
  if (toUsd === null) return null;
  const fromUsd = readRate(conversion.via[1], market, references, read);
  if (fromUsd === null) return null;
  return { rate: toUsd.rate * fromUsd.rate, factors: toUsd.factors + fromUsd.factors };
}

/**
 * The equity above which none of the account's loss checks can fire (a little above the exact
 * limits: a quick test that never misses), memoized per account state and firm configuration:
 * the floors move only when the account's state does, not with prices.
 */
export function limitEquityOf(state: EngineState, account: AccountState): number {
  const cached = limitEquity.get(account);
  if (cached?.config === state.config) return cached.equity;
  const equity = limitEquityAt(state, account, account.highWater);
  limitEquity.set(account, { config: state.config, equity });
  return equity;
}

/** `limitEquityOf` with the high-water mark at `highWater`. */
function limitEquityAt(state: EngineState, account: AccountState, highWater: number): number {
  const config = configOf(state, account);
  let highest = Number.NEGATIVE_INFINITY;
  if (!account.lockedOut) {
    const { dailyLossFloor, maxLossFloor } = floorsOf(account, config, highWater);
    highest = Math.max(dailyLossFloor, maxLossFloor);
  }
  if (!account.breakers.daily_drawdown.tripped && account.baseline > 0) {
    highest = Math.max(highest, account.baseline * (1 - config.breakers.dailyDrawdown.maxPct / 100));
  }
  return highest + 1e-6 * Math.max(1, Math.abs(highest));
}
const limitEquity = new WeakMap<AccountState, { config: EngineState["config"]; equity: number }>();
