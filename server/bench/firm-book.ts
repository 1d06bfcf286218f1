// The book of `npm run bench:firm`: N accounts under the shipped presets, each holding 2–3
// positions, and about 1% of them ("breach accounts") leveraged on one symbol so that a scripted
// fall of its price takes each of them through a floor at a known step of the fall.
import { defaultInstruments } from "../instruments";
import type { HttpClient } from "./http-client";

/** The ten symbols the feed ticks, with the prices they move around. */
export const PRICES: Record<string, number> = {
  EURUSD: 1.085,
  GBPUSD: 1.27,
  USDJPY: 151.2,
  XAUUSD: 2_400,
  US500: 5_200,
  NAS100: 18_000,
  BTCUSD: 65_000,
  DAX: 18_000,
  FTSE: 8_000,
  CAC: 7_500,
};
export const SYMBOLS = Object.keys(PRICES);
/** The symbol whose price falls; only the breach accounts hold it. */
export const CRASH_SYMBOL = "XAUUSD";
/** The other nine: the ordinary accounts' positions are spread over them. */
const HELD = SYMBOLS.filter((symbol) => symbol !== CRASH_SYMBOL);
const contractSize = (symbol: string) => defaultInstruments[symbol]?.contractSize ?? 1;
/** The smallest order the server takes on the symbol (on its lot step). */
export const minimumOrder = (symbol: string) => defaultInstruments[symbol]?.minQuantity ?? 0.01;

/** The fall: CRASH_STEPS ticks, each CRASH_STEP_PCT % below the price before the fall. */
export const CRASH_STEPS = 5;
export const CRASH_STEP_PCT = 1;
export const crashPrice = (step: number) => PRICES[CRASH_SYMBOL]! * (1 - (step * CRASH_STEP_PCT) / 100);

/** Shipped presets and the sizes they are opened at (a preset written for one size gets that size). */
const PRESETS: { presetId: string; initialBalanceUsd: number }[] = [
  { presetId: "ftmo-2step-100k", initialBalanceUsd: 100_000 },
  { presetId: "ftmo-1step-100k", initialBalanceUsd: 100_000 },
  { presetId: "e8-one", initialBalanceUsd: 50_000 },
  { presetId: "the5ers-high-stakes", initialBalanceUsd: 100_000 },
  { presetId: "fundednext-stellar-2step", initialBalanceUsd: 25_000 },
  { presetId: "topstep-50k", initialBalanceUsd: 50_000 },
  { presetId: "topstep-100k", initialBalanceUsd: 100_000 },
  { presetId: "topstep-150k", initialBalanceUsd: 150_000 },
];

export type BookAccount = {
  accountId: string;
  name: string;
  presetId: string;
  initialBalanceUsd: number;
  execution: "external";
  /** The symbols it holds (the crash symbol first for a breach account), and the side of each position. */
  symbols: string[];
  sides: ("BUY" | "SELL")[];
  breach: boolean;
};

/** Every 100th account (at least one) is a breach account. */
export function bookOf(accounts: number): BookAccount[] {
  return Array.from({ length: accounts }, (_, index) => {
    const preset = PRESETS[index % PRESETS.length]!;
    const breach = index % 100 === 50 % Math.min(100, accounts);
    const count = breach ? 1 : 2 + (index % 2);
    const start = index % HELD.length;
    const symbols = Array.from({ length: count }, (_, k) => HELD[(start + k * 3) % HELD.length]!);
    const accountId = `firm-${String(index).padStart(5, "0")}`;
    const held = breach ? [CRASH_SYMBOL, ...symbols] : symbols;
    const sides = held.map((symbol, k): "BUY" | "SELL" => (symbol === CRASH_SYMBOL || (index + k) % 2 === 0 ? "BUY" : "SELL"));
    return { accountId, name: `Firm ${index}`, ...preset, execution: "external" as const, symbols: held, sides, breach };
  });
}

const round = (quantity: number) => Number(quantity.toPrecision(4));

/** A position worth `shareOfBalance` of the balance at the symbol's price. */
function quantityFor(symbol: string, balance: number, shareOfBalance: number): number {
  return round((balance * shareOfBalance) / (PRICES[symbol]! * contractSize(symbol)));
}

type Fill = { accountId: string; symbol: string; side: "BUY" | "SELL"; quantity: number; price: number };

/**
 * The ordinary positions: each worth 20% of the balance, long or short, at the current price.
 * A breach account holds one of them (5%) besides its crash position, which comes later.
 */
export function ordinaryFills(book: BookAccount[]): Fill[] {
  const fills: Fill[] = [];
  book.forEach((account) => {
    for (const [k, symbol] of account.symbols.entries()) {
      if (symbol === CRASH_SYMBOL) continue;
      fills.push({
        accountId: account.accountId,
        symbol,
        side: account.sides[k]!,
        quantity: quantityFor(symbol, account.initialBalanceUsd, account.breach ? 0.05 : 0.2),
        price: PRICES[symbol]!,
      });
    }
  });
  return fills;
}

/** What the account view says about the money left before its highest floor. */
type View = {
  tradingState: string;
  equity: number;
  baseline: number;
  dailyLossFloor: number;
  maxLossFloor: number;
  rules: { breakers?: { dailyDrawdown?: { maxPct?: number } } };
};

/** The equity at which the first of the account's floors (max loss, daily loss, daily-drawdown breaker) is crossed. */
function highestFloorUsd(view: View): number {
  const drawdownPct = view.rules.breakers?.dailyDrawdown?.maxPct;
  const breaker = drawdownPct === undefined ? -Infinity : view.baseline * (1 - drawdownPct / 100);
  return Math.max(view.dailyLossFloor, view.maxLossFloor, breaker);
}

export type BreachPlan = { accountId: string; quantity: number; expectedStep: number; stateBeforeFall: string };

/**
 * The crash position of each breach account: long the crash symbol, sized from its view so that
 * its highest floor is crossed half way between two steps of the fall (the account's place in
 * the book spreads them over the steps). Returns the fills and, read back after them, the step
 * of the fall that should take each account through its floor.
 */
export async function planBreaches(client: HttpClient, book: BookAccount[]): Promise<{ fills: Fill[]; plans: BreachPlan[] }> {
  const breaches = book.filter((account) => account.breach);
  const fills: Fill[] = [];
  const plans: BreachPlan[] = [];
  const p0 = PRICES[CRASH_SYMBOL]!;
  for (const [n, account] of breaches.entries()) {
    const view = await accountView(client, account.accountId);
    const headroomUsd = view.equity - highestFloorUsd(view);
    const step = 1 + (n % CRASH_STEPS);
    // Crossed at the price half way between steps `step - 1` and `step`.
    const fallUsdPerUnit = p0 * ((step - 0.5) * CRASH_STEP_PCT) / 100;
    const quantity = round(headroomUsd / (fallUsdPerUnit * contractSize(CRASH_SYMBOL)));
    fills.push({ accountId: account.accountId, symbol: CRASH_SYMBOL, side: "BUY", quantity, price: p0 });
    plans.push({ accountId: account.accountId, quantity, expectedStep: step, stateBeforeFall: view.tradingState });
  }
  return { fills, plans };
}

/** After the crash fills: the step at which each breach account's equity should cross its highest floor (from its view). */
export async function expectedSteps(client: HttpClient, plans: BreachPlan[]): Promise<void> {
  const p0 = PRICES[CRASH_SYMBOL]!;
  for (const plan of plans) {
    const view = await accountView(client, plan.accountId);
    const thresholdPrice = p0 - (view.equity - highestFloorUsd(view)) / (plan.quantity * contractSize(CRASH_SYMBOL));
    let step = 1;
    while (step < CRASH_STEPS && crashPrice(step) > thresholdPrice) step++;
    plan.expectedStep = step;
    plan.stateBeforeFall = view.tradingState;
  }
}

async function accountView(client: HttpClient, accountId: string): Promise<View> {
  const answer = await client.request("GET", `/api/v1/accounts/${accountId}`);
  if (answer.status !== 200) throw new Error(`GET account ${accountId}: ${answer.status} ${answer.body.slice(0, 300)}`);
  return (JSON.parse(answer.body) as { account: View }).account;
}

/** Posts fills in batches of 1,000 (the endpoint's limit), a few at a time. */
export async function postFills(client: HttpClient, fills: Fill[]): Promise<void> {
  const batches: Fill[][] = [];
  for (let at = 0; at < fills.length; at += 1_000) batches.push(fills.slice(at, at + 1_000));
  await inParallel(batches, 4, async (batch) => {
    const answer = await client.request("POST", "/api/v1/executions", { fills: batch, correction: { reason: "bench: the book's positions" } });
    if (answer.status !== 200) throw new Error(`POST /api/v1/executions: ${answer.status} ${answer.body.slice(0, 300)}`);
  });
}

/**
 * Opens the book: `POST /api/v1/accounts/bulk` (up to 10,000 a call) when the server has it,
 * else one `POST /api/v1/accounts` per account, 32 at a time. Returns how it was done.
 */
export async function openBook(client: HttpClient, book: BookAccount[]): Promise<"bulk" | "one by one"> {
  const spec = ({ accountId, name, presetId, initialBalanceUsd, execution }: BookAccount) => ({ accountId, name, presetId, initialBalanceUsd, execution });
  for (let at = 0; at < book.length; at += 10_000) {
    const chunk = book.slice(at, at + 10_000);
    const answer = await client.request("POST", "/api/v1/accounts/bulk", { accounts: chunk.map(spec) });
    if (answer.status === 404 || answer.status === 405) {
      if (at > 0) throw new Error("POST /api/v1/accounts/bulk went away mid-way");
      await inParallel(book, 32, async (account) => {
        const one = await client.request("POST", "/api/v1/accounts", spec(account));
        if (one.status !== 201) throw new Error(`POST /api/v1/accounts ${account.accountId}: ${one.status} ${one.body.slice(0, 300)}`);
      });
      return "one by one";
    }
    if (answer.status !== 201) throw new Error(`POST /api/v1/accounts/bulk: ${answer.status} ${answer.body.slice(0, 500)}`);
  }
  return "bulk";
}

async function inParallel<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}
