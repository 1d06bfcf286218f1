import type { AccountId, SymbolId } from "./ids";
import type { AccountState, EngineState, MarketState } from "./state";
import { configOf, equityUsd, floorsOf, legsOf } from "./state";

/**
 * Which of a price's holders can be at a limit: a filter in front of the loss checks and the
 * trailing high-water marks, so that a tick costs a few comparisons per holder rather than a
 * valuation of each.
 *
 * For an account state (immutable) the first look computes, at the prices of that moment, its
 * equity E, the equity L at or below which a loss check can fire (`limitEquityOf`) and, under
 * `trailing_intraday`, its high-water mark H; then a relative band ±ε around the price of every
 * symbol its equity reads (its positions, and the pairs that convert their quote currencies) so
 * wide that, while every one of those prices stays inside its band, equity cannot move by the
 * margin d = min(E − L, H − E): the account is neither at a limit nor past its mark. That
 * certificate names the account state it was made for and is re-checked against the current
 * prices on each later look (no trust in how they got there: it holds on any state with that
 * account state, configuration and prices, so forks, dry-runs and replays get the same answer). A holder whose
 * certificate is missing or broken is returned, and the caller runs the exact checks on it, as
 * it did on every holder before; the exact checks decide, so the outcome is the same to the bit.
 *
 * Bound (ε ≤ 0.1): a position of q units of contract size c, entry e, at price p0 with rate r0
 * (quote currency to USD, 1 for USD; a direct pair's price or an inverse pair's reciprocal, so
 * within ±2ε of r0 while the pair's price is within ±ε) moves by at most
 * |q|·c·r0·ε·(1.2·p0 + 2·|p0 − e|) — and by |q|·c·p0·ε without a conversion. ε is chosen so that
 * the sum over the positions is half the margin. A missing price (a position marked at entry,
 * a rate not known yet) is a dependency that must stay missing; a zero margin has no band.
 */

/** What a certificate needs of one price: inside [lo, hi], or still missing (lo = NaN). */
type Dependency = { readonly symbol: SymbolId; readonly lo: number; readonly hi: number };

type Certificate = {
  /** The account state it was made for. */
  readonly account: AccountState;
  readonly config: EngineState["config"];
  /** Null: no band (the account is at or near a limit, or its mark): always looked at. */
  readonly dependencies: readonly Dependency[] | null;
};

/**
 * The latest certificate of each account id (for the account state it names): a map by id is
 * several times cheaper to read than one by state object, and an account has one current state.
 */
const certificates = new Map<AccountId, Certificate>();
/** A cache: past this many ids (engines of many backtests in one process) it starts again. */
const MAX_CERTIFICATES = 250_000;

const MAX_EPSILON = 0.1;

/**
 * The accounts of `accountIds` (holders of symbols just repriced in `state`) that may be at a
 * loss limit or past their high-water mark in `state`: every account for which that is true is
 * in the answer, in the order given.
 */
export function nearLimits(state: EngineState, accountIds: Iterable<AccountId>): AccountId[] {
  const near: AccountId[] = [];
  const { market, config } = state;
  for (const accountId of accountIds) {
    const account = state.accounts.get(accountId);
    if (!account) continue;
    const certificate = certificates.get(accountId);
    if (certificate !== undefined && certificate.account === account && certificate.config === config && holds(certificate, market)) continue;
    near.push(accountId);
    if (certificates.size >= MAX_CERTIFICATES) certificates.clear();
    certificates.set(accountId, certify(state, account));
  }
  return near;
}

function holds(certificate: Certificate, market: ReadonlyMap<SymbolId, MarketState>): boolean {
  const { dependencies } = certificate;
  if (dependencies === null) return false;
  for (let i = 0; i < dependencies.length; i++) {
    const { symbol, lo, hi } = dependencies[i]!;
    const price = priceOf(market.get(symbol));
    if (lo !== lo) {
      if (price !== null) return false;
    } else if (price === null || !(price >= lo && price <= hi)) {
      return false;
    }
  }
  return true;
}

/** A price as the valuation reads it: set and timed, else missing. */
function priceOf(priced: MarketState | undefined): number | null {
  return priced && priced.lastPrice !== null && priced.lastPriceAt !== null ? priced.lastPrice : null;
}

const noBand = { dependencies: null } as const;

/** The account's certificate at `state`'s prices. */
function certify(state: EngineState, account: AccountState): Certificate {
  const { market, config } = state;
  const rules = configOf(state, account);
  const equity = equityUsd(account, state);
  const limit = limitEquityOf(state, account);
  // No limit left to reach (locked out, the breaker tripped): only a high-water mark can move.
  let margin = Number.isNaN(limit) || limit === Number.NEGATIVE_INFINITY ? Number.POSITIVE_INFINITY : equity - limit;
  if (rules.accountRules.maxLossMode === "trailing_intraday") margin = Math.min(margin, account.highWaterUsd - equity);
  if (margin === Number.POSITIVE_INFINITY && Number.isFinite(equity)) return { account, config, dependencies: [] };
  if (!(margin > 0) || !Number.isFinite(margin)) return { account, config, ...noBand };
  // Each price the equity reads, with the weight of its move (per unit of ε) in the bound.
  const references = new Map<SymbolId, number | null>();
  let weight = 0;
  for (const { symbol, position, contractSize, conversion } of legsOf(account, config)) {
    const mark = priceOf(market.get(symbol));
    references.set(symbol, mark);
    const units = Math.abs(position.quantity * contractSize);
    let rate = 1;
    if (conversion !== null) {
      const direct = priceOf(market.get(conversion.direct));
      references.set(conversion.direct, direct);
      if (direct !== null) rate = direct;
      else {
        const inverse = priceOf(market.get(conversion.inverse));
        references.set(conversion.inverse, inverse);
        rate = inverse === null ? 0 : 1 / inverse;
      }
    }
    // A missing mark or rate values the position at nothing moved: it must stay missing.
    if (mark === null || rate === 0) continue;
    weight += conversion === null ? units * mark : units * rate * (1.2 * mark + 2 * Math.abs(mark - position.avgPrice));
  }
  const epsilon = weight > 0 ? Math.min(MAX_EPSILON, (0.5 * margin) / weight) : MAX_EPSILON;
  if (!(epsilon > 0) || !Number.isFinite(epsilon)) return { account, config, ...noBand };
  const dependencies: Dependency[] = [];
  for (const [symbol, reference] of references) {
    dependencies.push(reference === null ? { symbol, lo: Number.NaN, hi: Number.NaN } : { symbol, lo: reference * (1 - epsilon), hi: reference * (1 + epsilon) });
  }
  return { account, config, dependencies };
}

/**
 * The equity above which none of the account's loss checks can fire (a little above the exact
 * limits: a quick test that never misses), memoized per account state and firm configuration:
 * the floors move only when the account's state does, not with prices.
 */
export function limitEquityOf(state: EngineState, account: AccountState): number {
  const cached = limitEquity.get(account);
  if (cached?.config === state.config) return cached.equityUsd;
  const config = configOf(state, account);
  let highest = Number.NEGATIVE_INFINITY;
  if (!account.lockedOut) {
    const { dailyLossFloorUsd, maxLossFloorUsd } = floorsOf(account, config);
    highest = Math.max(dailyLossFloorUsd, maxLossFloorUsd);
  }
  if (!account.breakers.daily_drawdown.tripped && account.baselineUsd > 0) {
    highest = Math.max(highest, account.baselineUsd * (1 - config.breakers.dailyDrawdown.maxPct / 100));
  }
  const equityUsd = highest + 1e-6 * Math.max(1, Math.abs(highest));
  limitEquity.set(account, { config: state.config, equityUsd });
  return equityUsd;
}
const limitEquity = new WeakMap<AccountState, { config: EngineState["config"]; equityUsd: number }>();
