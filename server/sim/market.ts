import type { MarketUpdate } from "../engine/decide";
import { SymbolId } from "../engine/ids";
import type { Random } from "./random";

/**
 * A seeded market: geometric Brownian motion with jumps per instrument,
 * dS/S = μ dt + σ dW + J dN, the Brownian parts correlated within a cluster through a common
 * factor (correlation `clusterCorrelation`), with an L2 book around the mid and bars aggregated
 * from the path. `timeScale` speeds the clock of the diffusion up (a demo wants a day's moves in
 * minutes); 1 is real time.
 */
export type SimInstrument = {
  readonly symbol: string;
  readonly cluster: string;
  readonly startPrice: number;
  /** Annualized volatility of the diffusion, e.g. 0.08 for EURUSD. */
  readonly volatility: number;
  /** Annualized drift. */
  readonly drift: number;
  /** Expected jumps a year, and their log size (mean, standard deviation). */
  readonly jumpsPerYear: number;
  readonly jumpMean: number;
  readonly jumpStd: number;
  readonly tickSize: number;
  /** Bid/ask spread in basis points of the mid. */
  readonly spreadBps: number;
  /** Typical size of one book level. */
  readonly levelSize: number;
};

export type MarketSimOptions = {
  readonly instruments: readonly SimInstrument[];
  readonly clusterCorrelation: number;
  readonly timeScale: number;
  readonly bookLevels: number;
  /** Length of a bar (ms of the simulation's clock). */
  readonly barMs: number;
};

const YEAR_MS = 365.25 * 24 * 3_600_000;

type Path = { mid: number; open: number; high: number; low: number; volume: number };

export class MarketSimulator {
  private readonly paths = new Map<string, Path>();
  private barStart: number | null = null;

  constructor(
    private readonly options: MarketSimOptions,
    private readonly random: Random,
  ) {
    for (const instrument of options.instruments) {
      const mid = instrument.startPrice;
      this.paths.set(instrument.symbol, { mid, open: mid, high: mid, low: mid, volume: 0 });
    }
  }

  /** The current mid of `symbol`, or null when it is not simulated. */
  mid(symbol: string): number | null {
    return this.paths.get(symbol)?.mid ?? null;
  }

  /** The best bid and ask around the mid. */
  quote(symbol: string): { bid: number; ask: number } | null {
    const instrument = this.options.instruments.find((i) => i.symbol === symbol);
    const path = this.paths.get(symbol);
    if (!instrument || !path) return null;
    const half = Math.max(instrument.tickSize, (path.mid * instrument.spreadBps) / 20_000);
    return { bid: this.round(path.mid - half, instrument), ask: this.round(path.mid + half, instrument) };
  }

  /**
   * Advances every path by `dtMs` to time `at` and returns a tick and a book per instrument,
   * and the bars that closed at or before `at`.
   */
  step(at: number, dtMs: number): MarketUpdate[] {
    const { instruments, clusterCorrelation, timeScale } = this.options;
    const dt = (dtMs * timeScale) / YEAR_MS;
    const factors = new Map<string, number>();
    for (const instrument of instruments) {
      if (!factors.has(instrument.cluster)) factors.set(instrument.cluster, this.random.gaussian());
    }
    this.barStart ??= at - dtMs;
    const updates: MarketUpdate[] = [];
    const barsDue = at - this.barStart >= this.options.barMs;
    for (const instrument of instruments) {
      const path = this.paths.get(instrument.symbol)!;
      const z = Math.sqrt(clusterCorrelation) * factors.get(instrument.cluster)! + Math.sqrt(1 - clusterCorrelation) * this.random.gaussian();
      const sigma = instrument.volatility;
      let logReturn = (instrument.drift - (sigma * sigma) / 2) * dt + sigma * Math.sqrt(dt) * z;
      const jumps = this.random.poisson(instrument.jumpsPerYear * dt);
      for (let k = 0; k < jumps; k++) logReturn += instrument.jumpMean + instrument.jumpStd * this.random.gaussian();
      path.mid = this.round(path.mid * Math.exp(logReturn), instrument);
      path.high = Math.max(path.high, path.mid);
      path.low = Math.min(path.low, path.mid);
      path.volume += Math.round(instrument.levelSize * (1 + this.random.next()));
      const symbol = SymbolId.parse(instrument.symbol);
      updates.push({ kind: "tick", symbol, price: path.mid }, { kind: "book", symbol, ...this.book(instrument, path.mid) });
      if (barsDue) {
        updates.push({ kind: "bar", symbol, closedAt: at, open: path.open, high: path.high, low: path.low, close: path.mid, volume: path.volume });
        Object.assign(path, { open: path.mid, high: path.mid, low: path.mid, volume: 0 });
      }
    }
    if (barsDue) this.barStart = at;
    return updates;
  }

  /** Levels a tick apart from the best bid and ask; sizes vary, now and then lopsided. */
  private book(instrument: SimInstrument, mid: number): { bids: { price: number; size: number }[]; asks: { price: number; size: number }[] } {
    const quote = this.quote(instrument.symbol)!;
    const step = Math.max(instrument.tickSize, (mid * instrument.spreadBps) / 20_000);
    const tilt = 0.6 + 0.8 * this.random.next(); // bid side × tilt, ask side ÷ tilt
    const size = (side: number) => Math.max(1, Math.round(instrument.levelSize * side * (0.5 + this.random.next())));
    const bids = [];
    const asks = [];
    for (let k = 0; k < this.options.bookLevels; k++) {
      bids.push({ price: this.round(quote.bid - k * step, instrument), size: size(tilt) });
      asks.push({ price: this.round(quote.ask + k * step, instrument), size: size(1 / tilt) });
    }
    return { bids: bids.filter((level) => level.price > 0), asks };
  }

  private round(price: number, instrument: SimInstrument): number {
    const ticks = Math.max(1, Math.round(price / instrument.tickSize));
    return Number((ticks * instrument.tickSize).toPrecision(12));
  }
}

/** The demo's instruments: a few per cluster, so correlations show. Volatilities are annual. */
export const demoMarket: readonly SimInstrument[] = [
  { symbol: "EURUSD", cluster: "fx-majors", startPrice: 1.085, volatility: 0.08, drift: 0, jumpsPerYear: 4, jumpMean: 0, jumpStd: 0.005, tickSize: 0.00001, spreadBps: 0.8, levelSize: 40 },
  { symbol: "GBPUSD", cluster: "fx-majors", startPrice: 1.27, volatility: 0.09, drift: 0, jumpsPerYear: 4, jumpMean: 0, jumpStd: 0.006, tickSize: 0.00001, spreadBps: 1, levelSize: 30 },
  { symbol: "USDJPY", cluster: "fx-majors", startPrice: 151.2, volatility: 0.09, drift: 0, jumpsPerYear: 4, jumpMean: 0, jumpStd: 0.006, tickSize: 0.001, spreadBps: 1, levelSize: 35 },
  { symbol: "XAUUSD", cluster: "precious-metals", startPrice: 2350, volatility: 0.15, drift: 0.02, jumpsPerYear: 6, jumpMean: 0, jumpStd: 0.01, tickSize: 0.01, spreadBps: 2, levelSize: 15 },
  { symbol: "US500", cluster: "us-equity", startPrice: 5200, volatility: 0.16, drift: 0.06, jumpsPerYear: 8, jumpMean: -0.01, jumpStd: 0.015, tickSize: 0.1, spreadBps: 1, levelSize: 60 },
  { symbol: "NAS100", cluster: "us-equity", startPrice: 18_200, volatility: 0.2, drift: 0.07, jumpsPerYear: 8, jumpMean: -0.012, jumpStd: 0.018, tickSize: 0.1, spreadBps: 1.2, levelSize: 40 },
  { symbol: "BTCUSD", cluster: "crypto", startPrice: 64_000, volatility: 0.6, drift: 0.1, jumpsPerYear: 12, jumpMean: -0.01, jumpStd: 0.04, tickSize: 0.01, spreadBps: 5, levelSize: 2 },
];
