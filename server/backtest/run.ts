import type { Position } from "../engine/accounting";
import { conversionOf, perUnitFrom, quoteCurrencyOf } from "../engine/currency";
import { applyFill, floatingPnl } from "../engine/accounting";
import type { EngineConfig, Instruments } from "../engine/config";
import { AccountId, OrderId } from "../engine/ids";
import type { SymbolId } from "../engine/ids";
import { Intent } from "../engine/intent";
import type { Decision, FillTrigger } from "../engine/types";
import { AccountSpec } from "../engine/types";
import type { Preset } from "../engine/preset";
import type { AccountView } from "../engine/views";
import type { EquityPoint } from "../equity-history";
import { EquityHistory } from "../equity-history";
import { defaultPipelineOptions, ExecutionPipeline } from "../execution/pipeline";
import type { AllowedOrder } from "../execution/orders";
import { orderFromDecision } from "../execution/orders";
import type { PriceRange, SimulatedVenueParams } from "../execution/simulated-venue";
import { defaultVenueParams, SimulatedVenue } from "../execution/simulated-venue";
import type { VenueReport } from "../execution/venue";
import type { LedgerRecord } from "../ledger";
import { Runtime } from "../runtime";
import { Random } from "../sim/random";
import { VirtualScheduler } from "../sim/scheduler";
import type { Bar, BarData, BarRow } from "./csv";
import { MemoryLedger } from "./memory-ledger";
import { backtestSetup, presetResolver, UNLIMITED_PIPELINE } from "./setup";
import type { BacktestAccount, BacktestStrategy, IntentDraft, StrategyFactory } from "./strategy";

/**
 * A backtest run: the bars of a file on a virtual clock, a strategy's turn after each, and its
 * intents executed on the simulated venue, either through the engine (`runBacktest`: the
 * runtime with the preset's rules on an in-memory ledger, the execution pipeline, the venue:
 * the live path) or without it (`runRaw`: the strategy's orders straight to the same venue, the
 * fills booked with the engine's money math). Both share one driver, so they make the same calls
 * in the same order; with `--risk off` they must agree to the last bit (numerical parity).
 *
 * Each bar, in order: the clock runs to the bar's close (the venue's answers due by then, and
 * through the engine each daily reset at its instant); the bars are recorded (RecordMarket, so
 * the statistics fold them), the venue checking its protective orders against the bars: inside
 * an OHLC bar from its high and low before its close is recorded (the stop first when the bar
 * reaches both), in a file of closes at the close after it is recorded; the
 * equity row is taken; the strategy takes its turn and its intents are submitted. After the last
 * bar the clock runs one more minute so that the last orders fill.
 */

export type Risk = "on" | "off";

export type BacktestOptions = {
  readonly data: BarData;
  readonly preset: Preset;
  readonly strategy: StrategyFactory;
  readonly risk: Risk;
  readonly seed: number;
  readonly initialBalanceUsd: number;
  /** The account's currency (ISO 4217; default: the preset's, else USD): every amount of the run is in it. */
  readonly currency?: string;
  readonly venue?: SimulatedVenueParams;
  /** The firm's engine configuration (RISKGATE_ENGINE_CONFIG; default: the built-in instruments and defaults). */
  readonly firm?: EngineConfig;
  /** The run's instruments file, over the firm's instruments. */
  readonly instruments?: Instruments;
  /** Called after every bar (the CLI's progress bar). */
  readonly onProgress?: (done: number, total: number) => void;
};

/** The account after a bar. Equity is exact (the engine's figure); the rest in cents. Floors are null without the engine. */
export type EquityRow = {
  readonly at: number;
  readonly equity: number;
  readonly balance: number;
  readonly baseline: number | null;
  readonly dailyLossFloor: number | null;
  readonly maxLossFloor: number | null;
};

export type FillRow = {
  readonly at: number;
  readonly symbol: SymbolId;
  readonly side: "BUY" | "SELL";
  readonly quantity: number;
  readonly price: number;
  readonly feeUsd: number;
  readonly trigger: FillTrigger;
  /** The order filled; null for a protective order's fill. */
  readonly orderId: string | null;
};

export type RunResult = {
  readonly accountId: AccountId;
  /** The account's currency: every amount of the run (equity, balance, fees, floors) is in it. */
  readonly currency: string;
  readonly strategyId: string;
  readonly equity: readonly EquityRow[];
  /** After the last orders settled. */
  readonly final: { readonly at: number; readonly equity: number; readonly balance: number };
  readonly fills: readonly FillRow[];
  readonly intents: { readonly submitted: number; readonly invalid: number };
  readonly orders: number;
  /** The ledger (engine runs only). */
  readonly records: readonly LedgerRecord[];
  /** What the run had to guess (instruments, volumes), one line each. */
  readonly warnings: readonly string[];
};

export const ACCOUNT_ID = AccountId.parse("backtest");
/** The account opens this long before the first bar closes. */
const OPEN_BEFORE_MS = 60_000;
/** How long the clock runs after the last bar, for the last orders to fill. */
const SETTLE_MS = 60_000;

const cents = (usd: number) => Math.round(usd * 100) / 100;

/** Where a run's intents go and where its account is kept: the engine, or the raw books. */
interface Desk {
  readonly venue: SimulatedVenue;
  /** Runs the virtual clock to `at`. */
  advanceTo(at: number): Promise<void>;
  recordBars(row: BarRow): Promise<void>;
  account(): BacktestAccount;
  /** The equity row at `at`, with `account` just taken. */
  equity(at: number, account: BacktestAccount): EquityRow;
  submit(intent: Intent): Promise<void>;
  fills(): FillRow[];
  orders(): number;
  records(): readonly LedgerRecord[];
}

/** The run through the engine, the execution pipeline and the venue (the live path). */
export async function runBacktest(options: BacktestOptions): Promise<RunResult> {
  const { engine, warnings } = backtestSetup(options);
  const marks = new Map<SymbolId, number>();
  const desk = await EngineDesk.open(options, engine, marks);
  return { ...(await drive(options, engine, desk, marks)), warnings };
}

/** The same strategy on the same venue without the engine: the reference a `--risk off` run must equal. */
export async function runRaw(options: BacktestOptions): Promise<RunResult> {
  const { engine, warnings } = backtestSetup(options);
  const marks = new Map<SymbolId, number>();
  const desk = new RawDesk(options, engine, marks);
  return { ...(await drive(options, engine, desk, marks)), warnings };
}

/** The run's account currency: the one stated, else the preset's, else USD. */
export function accountCurrency(options: Pick<BacktestOptions, "currency" | "preset">): string {
  return options.currency ?? options.preset.currency ?? "USD";
}

const startOf = (data: BarData) => data.rows[0]!.closedAt - OPEN_BEFORE_MS;

function venueFor(options: BacktestOptions, scheduler: VirtualScheduler, marks: ReadonlyMap<SymbolId, number>, config: () => EngineConfig): SimulatedVenue {
  // The quote is the last close on both sides; the venue adds its slippage and fees.
  const quote = (symbol: SymbolId) => {
    const close = marks.get(symbol);
    return close === undefined ? null : { bid: close, ask: close };
  };
  // One account, whose currency the run states: its fees are charged in it.
  const currency = accountCurrency(options);
  return new SimulatedVenue(scheduler, new Random(options.seed).fork("venue"), quote, config, options.venue ?? defaultVenueParams, () => currency);
}

async function drive(options: BacktestOptions, engine: EngineConfig, desk: Desk, marks: Map<SymbolId, number>): Promise<Omit<RunResult, "warnings">> {
  const { data } = options;
  const strategy = makeStrategy(options, engine);
  const history = new Map<SymbolId, Bar[]>(data.symbols.map((symbol) => [symbol, []]));
  const runId = `bt-${options.seed}`;
  const known = new Set<string>(data.symbols);
  const equity: EquityRow[] = [];
  let submitted = 0;
  let invalid = 0;
  for (const [index, row] of data.rows.entries()) {
    await desk.advanceTo(row.closedAt);
    for (const bar of row.bars) {
      marks.set(bar.symbol, bar.close);
      history.get(bar.symbol)!.push(bar);
    }
    // Inside an OHLC bar the protective orders trigger from its high and low, before its close is
    // recorded (a stop hit inside the bar closed the position before the close marked it); in a
    // file of closes they are checked at the close, once it is recorded.
    if (data.format === "ohlcv") await desk.venue.onMarket(rangesOf(row));
    await desk.recordBars(row);
    if (data.format === "closes") await desk.venue.onMarket();
    const account = desk.account();
    equity.push(desk.equity(row.closedAt, account));
    const drafts = strategy.onBar({ now: row.closedAt, index, symbols: data.symbols, bars: row.bars, history, account });
    for (const draft of drafts) {
      const intent = toIntent(draft, `${runId}-${submitted + invalid + 1}`, runId, strategy.id, known);
      if (typeof intent === "string") {
        if (invalid++ < 3) console.error(`backtest: bar ${index}: ${strategy.id} sent an invalid intent (${intent}); it is refused as the API would refuse it`);
        continue;
      }
      submitted++;
      await desk.submit(intent);
    }
    options.onProgress?.(index + 1, data.rows.length);
  }
  const end = data.rows[data.rows.length - 1]!.closedAt + SETTLE_MS;
  await desk.advanceTo(end);
  const last = desk.equity(end, desk.account());
  return {
    accountId: ACCOUNT_ID,
    currency: accountCurrency(options),
    strategyId: strategy.id,
    equity,
    final: { at: end, equity: last.equity, balance: last.balance },
    fills: desk.fills(),
    intents: { submitted, invalid },
    orders: desk.orders(),
    records: desk.records(),
  };
}

/** The bars' ranges, for stops and targets inside them (a file of closes has none: its stops are checked at the closes). */
function rangesOf(row: BarRow): ReadonlyMap<SymbolId, PriceRange> {
  return new Map(row.bars.map(({ symbol, open, high, low }) => [symbol, { open, high, low }]));
}

function makeStrategy(options: BacktestOptions, engine: EngineConfig): BacktestStrategy {
  const contractSize = new Map(options.data.symbols.map((symbol) => [symbol, engine.instruments[symbol]?.contractSize ?? 1]));
  const tickSize = new Map(options.data.symbols.flatMap((symbol) => (engine.instruments[symbol] ? [[symbol, engine.instruments[symbol].tickSize] as const] : [])));
  return options.strategy({ symbols: options.data.symbols, contractSize, tickSize, random: new Random(options.seed).fork("strategy") });
}

/**
 * A strategy's draft as the intent a client would send; a string saying what is wrong when the
 * API would refuse it (422): a malformed field, or a symbol the file does not have. Quantities
 * are carried to 12 significant digits, as the engine approves them.
 */
function toIntent(draft: IntentDraft, intentId: string, runId: string, strategyId: string, symbols: ReadonlySet<string>): Intent | string {
  if (!symbols.has(draft.symbol)) return `symbol: ${String(draft.symbol)} is not in the data`;
  const quantity = typeof draft.quantity === "number" && Number.isFinite(draft.quantity) ? Number(draft.quantity.toPrecision(12)) : draft.quantity;
  const parsed = Intent.safeParse({
    ...draft,
    ...(quantity !== undefined ? { quantity } : {}),
    intentId,
    accountId: ACCOUNT_ID,
    provenance: { runId, strategyId: safeId(strategyId), regimeId: "backtest" },
  });
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  return `${issue.path.join(".") || "intent"}: ${issue.message}`;
}

const safeId = (id: string) => id.replace(/[^A-Za-z0-9._:-]/g, "-").replace(/^[^A-Za-z0-9]+/, "").slice(0, 64) || "strategy";

/** Keeps the latest equity point the runtime records after each commit (the engine's exact figures). */
class LatestEquity extends EquityHistory {
  latest: EquityPoint | null = null;

  override record(_accountId: string, point: EquityPoint): void {
    this.latest = point;
  }
}

class EngineDesk implements Desk {
  /** The account as of the last commit that touched it (the runtime's own view, made for its listeners). */
  private view: AccountView | null = null;
  private deadline = Number.NEGATIVE_INFINITY;
  private deadlineClockEvents = -1;

  private constructor(
    private readonly runtime: Runtime,
    private readonly ledger: MemoryLedger,
    private readonly scheduler: VirtualScheduler,
    readonly venue: SimulatedVenue,
    private readonly tap: LatestEquity,
  ) {
    runtime.subscribe((committed) => {
      const mine = committed.accounts.find((account) => account.accountId === ACCOUNT_ID);
      if (mine) this.view = mine;
    });
  }

  static async open(options: BacktestOptions, engine: EngineConfig, marks: ReadonlyMap<SymbolId, number>): Promise<EngineDesk> {
    const scheduler = new VirtualScheduler(startOf(options.data));
    const ledger = new MemoryLedger();
    const runtime = await Runtime.load(ledger, engine, () => scheduler.now(), { presets: presetResolver(engine, options.preset, options.risk) });
    const tap = new LatestEquity();
    runtime.equity = tap;
    const venue = venueFor(options, scheduler, marks, () => runtime.config);
    const pipeline = new ExecutionPipeline(runtime, venue, scheduler, options.risk === "off" ? UNLIMITED_PIPELINE : defaultPipelineOptions);
    await pipeline.start();
    const desk = new EngineDesk(runtime, ledger, scheduler, venue, tap);
    await runtime.openAccount(
      AccountSpec.parse({ accountId: ACCOUNT_ID, name: "Backtest", presetId: options.preset.id, initialBalanceUsd: options.initialBalanceUsd, execution: "simulated", currency: accountCurrency(options) }),
      "backtest",
    );
    return desk;
  }

  /** The clock to `at`, with the engine's daily resets (and automatic breaker resets) at their instants on the way. */
  async advanceTo(at: number): Promise<void> {
    let previous = Number.NaN;
    for (;;) {
      const deadline = Math.max(this.nextDeadline(), this.scheduler.now());
      if (deadline > at || deadline === previous) break;
      previous = deadline;
      await this.scheduler.runUntil(deadline);
      await this.runtime.advanceClock();
    }
    await this.scheduler.runUntil(at);
  }

  /**
   * The runtime's next deadline, worked out again only when the clock has reached it or an event
   * that can move it was recorded (time-zone arithmetic is the costliest part of a bar otherwise).
   */
  private nextDeadline(): number {
    if (this.ledger.clockEvents !== this.deadlineClockEvents || this.scheduler.now() >= this.deadline) {
      this.deadline = this.runtime.nextDeadline();
      this.deadlineClockEvents = this.ledger.clockEvents;
    }
    return this.deadline;
  }

  async recordBars(row: BarRow): Promise<void> {
    await this.runtime.recordMarket(row.bars.map((bar) => ({ kind: "bar", closedAt: row.closedAt, ...bar })));
  }

  account(): BacktestAccount {
    const view = this.view ?? this.runtime.account(ACCOUNT_ID);
    const now = this.scheduler.now();
    // Locks count only where the veto registry is on (with risk off it records them but denies nothing).
    const locking = view.rules.guards.vetoRegistry.enabled;
    return {
      accountId: view.accountId,
      balance: view.balance,
      equity: view.equity,
      tradingState: view.tradingState,
      positions: new Map(view.positions.map(({ symbol, quantity, avgPrice }) => [symbol, { quantity, avgPrice }])),
      lockedSymbols: new Set(locking ? view.vetoes.filter((veto) => veto.expiresAt === null || veto.expiresAt > now).map((veto) => veto.symbol) : []),
    };
  }

  equity(at: number, account: BacktestAccount): EquityRow {
    const point = this.tap.latest!;
    return {
      at,
      equity: point.equity,
      balance: account.balance,
      baseline: cents(point.baseline),
      dailyLossFloor: cents(point.dailyLossFloor),
      maxLossFloor: cents(point.maxLossFloor),
    };
  }

  async submit(intent: Intent): Promise<void> {
    await this.runtime.submitIntent(intent, "backtest");
  }

  fills(): FillRow[] {
    return this.ledger.all().flatMap(({ event }) =>
      event.type === "execution.filled"
        ? [{ at: event.at, symbol: event.symbol, side: event.side, quantity: event.quantity, price: event.price, feeUsd: event.feeUsd, trigger: event.trigger, orderId: event.orderId ?? null }]
        : [],
    );
  }

  orders(): number {
    return this.ledger.all().filter(({ event }) => event.type === "order.sent").length;
  }

  records(): readonly LedgerRecord[] {
    return this.ledger.all();
  }
}

type RawOrder = { readonly order: AllowedOrder; filledQuantity: number };

/**
 * No engine: each intent becomes an order at once, on the venue of the engine run (same seed,
 * same quotes), and the venue's fills are booked with the engine's money math (accounting.ts).
 * Orders follow the execution path's own rules, which are not risk: an exit is cut to the
 * position net of the exits already open, and an intent that makes no sense is not sent (an exit
 * with nothing to close, a stop or target on the wrong side of the price).
 */
class RawDesk implements Desk {
  readonly venue: SimulatedVenue;
  private readonly scheduler: VirtualScheduler;
  private readonly positions = new Map<SymbolId, Position>();
  private balance: number;
  private readonly currency: string;
  private readonly open = new Map<string, RawOrder>();
  private readonly booked: FillRow[] = [];
  private sent = 0;

  constructor(
    options: BacktestOptions,
    private readonly engine: EngineConfig,
    private readonly marks: ReadonlyMap<SymbolId, number>,
  ) {
    this.scheduler = new VirtualScheduler(startOf(options.data));
    this.venue = venueFor(options, this.scheduler, marks, () => engine);
    this.venue.onReport(async (report) => this.onReport(report));
    this.balance = options.initialBalanceUsd;
    this.currency = accountCurrency(options);
  }

  async advanceTo(at: number): Promise<void> {
    await this.scheduler.runUntil(at);
  }

  async recordBars(): Promise<void> {}

  account(): BacktestAccount {
    return {
      accountId: ACCOUNT_ID,
      balance: cents(this.balance),
      equity: cents(this.equityOf()),
      tradingState: "ACTIVE",
      positions: new Map([...this.positions].map(([symbol, { quantity, avgPrice }]) => [symbol, { quantity, avgPrice }])),
      lockedSymbols: new Set(),
    };
  }

  equity(at: number, account: BacktestAccount): EquityRow {
    return { at, equity: this.equityOf(), balance: account.balance, baseline: null, dailyLossFloor: null, maxLossFloor: null };
  }

  async submit(intent: Intent): Promise<void> {
    const sized = this.size(intent);
    if (sized === null || !(sized.quantity > 1e-12)) return;
    const allowed: Decision = {
      intentId: intent.intentId,
      accountId: intent.accountId,
      outcome: "allowed",
      approvedQuantity: sized.approved,
      ...(intent.slPrice !== undefined ? { stopPrice: intent.slPrice } : {}),
      guard: null,
      reason: null,
      observed: null,
      limit: null,
      advisories: ["no risk engine: the raw strategy's order"],
    };
    const order = orderFromDecision(OrderId.parse(`raw-${++this.sent}`), intent, allowed, sized.quantity);
    this.open.set(order.orderId, { order, filledQuantity: 0 });
    this.venue.submit(order);
  }

  /** The size an order would be approved at and the size sent, or null when nothing goes out. */
  private size(intent: Intent): { approved: number; quantity: number } | null {
    const held = this.positions.get(intent.symbol)?.quantity ?? 0;
    if (intent.action === "CLOSE" || intent.action === "FLATTEN") {
      const closes = intent.side === "SELL" ? held > 0 : held < 0;
      if (!closes) return null;
      // As an exit is approved: the size asked for, cut to the position; then, as the queue
      // sends it, cut to what the exits already open leave (all of that for a flatten).
      const approved = Number((intent.quantity !== undefined ? Math.min(intent.quantity, Math.abs(held)) : Math.abs(held)).toPrecision(12));
      let closing = 0;
      for (const { order, filledQuantity } of this.open.values()) {
        if (order.symbol === intent.symbol && order.kind !== "entry" && order.side === intent.side) closing += order.quantity - filledQuantity;
      }
      const closable = Math.max(0, Math.abs(held) - closing);
      return { approved, quantity: intent.action === "FLATTEN" ? closable : Math.min(approved, closable) };
    }
    const price = intent.limitPrice ?? intent.referencePrice ?? this.marks.get(intent.symbol) ?? null;
    // No order while no price converts the symbol's currency (the engine's desk denies it too).
    if (this.perQuote(intent.symbol) === null) return null;
    if (price !== null) {
      const buy = intent.side === "BUY";
      if (intent.slPrice !== undefined && (buy ? intent.slPrice >= price : intent.slPrice <= price)) return null;
      if (intent.tpPrice !== undefined && (buy ? intent.tpPrice <= price : intent.tpPrice >= price)) return null;
    }
    return intent.quantity === undefined ? null : { approved: intent.quantity, quantity: intent.quantity };
  }

  private onReport(report: VenueReport): void {
    if (report.type === "rejected" || report.type === "cancelled") {
      this.open.delete(report.orderId);
      return;
    }
    if (report.type !== "filled") return;
    const { symbol, side, quantity, price, feeUsd, trigger, at, orderId } = report;
    const contractSize = this.engine.instruments[symbol]?.contractSize ?? 1;
    const { position, realized } = applyFill(this.positions.get(symbol), { symbol, side, quantity, price, feeUsd }, contractSize, this.perQuote(symbol) ?? 1);
    if (position) this.positions.set(symbol, position);
    else this.positions.delete(symbol);
    this.balance = this.balance + realized - feeUsd;
    if (orderId !== null) {
      const open = this.open.get(orderId);
      if (open) {
        open.filledQuantity += quantity;
        if (open.filledQuantity >= open.order.quantity - 1e-9) this.open.delete(orderId);
      }
    }
    this.booked.push({ at, symbol, side, quantity, price, feeUsd, trigger, orderId });
  }

  private equityOf(): number {
    let floating = 0;
    for (const [symbol, position] of this.positions) {
      floating += floatingPnl(position, this.marks.get(symbol) ?? null, this.engine.instruments[symbol]?.contractSize ?? 1, this.perQuote(symbol));
    }
    return this.balance + floating;
  }

  /** Units of the account's currency per unit of `symbol`'s quote currency at the marks, as the engine converts (null: no rate yet). */
  private perQuote(symbol: SymbolId): number | null {
    return perUnitFrom(conversionOf(quoteCurrencyOf(symbol, this.engine.instruments[symbol]), this.currency), (pair) => this.marks.get(pair));
  }

  fills(): FillRow[] {
    return this.booked;
  }

  orders(): number {
    return this.sent;
  }

  records(): readonly LedgerRecord[] {
    return [];
  }
}
