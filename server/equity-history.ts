import os from "node:os";
import { z } from "zod";
import { LazyArray } from "./engine/snapshot";

/**
 * Equity history per account for the dashboard's equity chart (ranges 1h / 1d / 1w / all, about
 * one point per pixel): recorded on every equity change, kept in bounded tiers, read back
 * downsampled with LTTB.
 *
 * Conflation. Each tier cuts time into buckets aligned to the epoch. Of all the points recorded
 * in one bucket it keeps up to three real points: the one with the lowest equity, the one with
 * the highest, and the last, in time order (one point when they coincide, as on a flat account).
 * The lowest keeps a drawdown spike, the highest a run-up, the last the value the bucket closed
 * on. Points are never averaged or synthesized, so a stored point carries the baseline and floors
 * that held when its equity was seen.
 *
 * Tiers. A point enters the 1 s tier; a point older than a tier's retention (measured from the
 * newest point that tier has received) moves on to the next tier, which folds it into its own,
 * coarser buckets the same way; the last tier drops it. Each chart range reads from a tier that
 * is finer than its pixels: 1h (3.6 s a pixel at 1,000 px) from 1 s, 1d (86 s) from 10 s, 1w
 * (10 min) from 1 min, all from 1 h.
 *
 *   tier   bucket   retention      buckets   points (3 a bucket, +1 bucket of slack)
 *   0      1 s      1 h              3,600     10,803
 *   1      10 s     24 h             8,640     25,923
 *   2      1 min    7 d             10,080     30,243
 *   3      1 h      365 d            8,760     26,283
 *
 * Bound. A tier's closed points lie in the buckets of its last `retention` (at most
 * retention / bucket + 1 buckets of at most 3 points), so every tier holds at most
 * 3 * (retention / bucket + 1) closed points plus 3 in its open bucket; the same figure is
 * enforced as a hard cap (the oldest point is pushed on when a tier is full), so the bound holds
 * for any input. An account holds at most {@link MAX_POINTS_PER_ACCOUNT} = 93,264 points,
 * 40 bytes each (five float64) = 3.7 MB, whatever the run's length or the rate of recording; a
 * flat account keeps one point a bucket, a third of that. The oldest history covered is about
 * 1 h + 24 h + 7 d + 365 d; older points are dropped.
 *
 * Budget. A book's history is bounded as a whole as well: at most `budgetBytes` of points
 * (RISKGATE_EQUITY_HISTORY_MB, default {@link DEFAULT_BUDGET_MB} MB). While the accounts' bounds
 * add up to more than that, every tier of every account keeps the same share of its retention
 * (1 h, 24 h, 7 d and 365 d scaled by one factor, in steps of about 19 %, never below one bucket),
 * so each account keeps at most its share of the budget, whatever the book's size: 10,000 accounts
 * that move all day would otherwise hold about 1.5 MB each, 15 GB in all. The factor only goes
 * down as the book grows; each history already recorded is cut to it when it is next recorded,
 * read or written to a snapshot (its oldest points pass on to the coarser tiers, as ageing does). A chart then reads a range from the tiers
 * that hold it: a shorter finest tier means more of the range comes from the coarser ones.
 *
 * Time. Points must come in non-decreasing time. A point older than the last recorded one is
 * recorded at the last one's time, i.e. merged into the newest bucket: a clock stepping back
 * neither reorders the series nor loses the values seen meanwhile. A point with any non-finite
 * field is ignored (it would poison min and max and cannot be stored as JSON).
 */
export type EquityPoint = {
  /** ms since the epoch */
  at: number;
  equity: number;
  baseline: number;
  dailyLossFloor: number;
  maxLossFloor: number;
};

export class EquityHistoryError extends Error {
  override name = "EquityHistoryError";
}

/**
 * Largest-Triangle-Three-Buckets (Steinarsson, 2013): picks `threshold` of the points so that
 * the line through them keeps the shape of the line through all of them. Keeps the first and the
 * last point; in each of the `threshold - 2` buckets between them, keeps the point that makes the
 * largest triangle with the point kept before it and the average of the next bucket. Returns
 * exactly min(threshold, n) points of the input, in input order; O(n), deterministic. A
 * threshold of 2 gives the first and last point, 1 the last (the newest, on a time series), 0 none.
 * `points` must be sorted by `x`.
 */
export function lttb<T>(points: readonly T[], threshold: number, x: (p: T) => number, y: (p: T) => number): T[] {
  if (Number.isNaN(threshold)) throw new RangeError("lttb: threshold is NaN");
  const n = points.length;
  const target = Math.max(0, Math.floor(threshold));
  if (target >= n) return points.slice();
  if (target === 0) return [];
  if (target === 1) return [points[n - 1]!];
  if (target === 2) return [points[0]!, points[n - 1]!];

  const xs = new Float64Array(n);
  const ys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    xs[i] = x(points[i]!);
    ys[i] = y(points[i]!);
  }

  const sampled: T[] = [points[0]!];
  // Buckets of `every` points between the first and the last; bucket i is [start(i), start(i + 1)).
  // Integer arithmetic first, so that start(target - 2) is exactly n - 1.
  const buckets = target - 2;
  const start = (i: number) => Math.floor((i * (n - 2)) / buckets) + 1;
  let a = 0;
  for (let i = 0; i < buckets; i++) {
    // The average of the next bucket; after the last bucket, the last point.
    const nextFrom = start(i + 1);
    const nextTo = i + 1 < buckets ? start(i + 2) : n;
    let avgX = 0;
    let avgY = 0;
    for (let j = nextFrom; j < nextTo; j++) {
      avgX += xs[j]!;
      avgY += ys[j]!;
    }
    const count = nextTo - nextFrom;
    avgX /= count;
    avgY /= count;

    const ax = xs[a]!;
    const ay = ys[a]!;
    const from = start(i);
    const to = nextFrom;
    let chosen = from;
    let maxArea = -1;
    for (let j = from; j < to; j++) {
      // Twice the triangle's area; the factor does not change which is largest.
      const area = Math.abs((ax - avgX) * (ys[j]! - ay) - (ax - xs[j]!) * (avgY - ay));
      if (area > maxArea) {
        maxArea = area;
        chosen = j;
      }
    }
    sampled.push(points[chosen]!);
    a = chosen;
  }
  sampled.push(points[n - 1]!);
  return sampled;
}

/** Numbers a point: at, equity, baseline, dailyLossFloor, maxLossFloor. */
const FIELDS = 5;
const AT = 0;
const EQUITY = 1;
/** The points a bucket keeps at most: lowest equity, highest equity, last. */
const PER_BUCKET = 3;

/** Copies one point's fields (a loop, not `set(subarray(…))`: no allocation on the hot path). */
function copyPoint(target: Float64Array, to: number, source: Float64Array, from: number): void {
  for (let k = 0; k < FIELDS; k++) target[to + k] = source[from + k]!;
}

const SECOND_MS = 1_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export const TIERS = [
  { bucketMs: SECOND_MS, retainMs: HOUR_MS },
  { bucketMs: 10 * SECOND_MS, retainMs: DAY_MS },
  { bucketMs: 60 * SECOND_MS, retainMs: 7 * DAY_MS },
  { bucketMs: HOUR_MS, retainMs: 365 * DAY_MS },
] as const;

const closedCap = (tier: { bucketMs: number; retainMs: number }) => PER_BUCKET * (Math.floor(tier.retainMs / tier.bucketMs) + 1);

/** Bytes a stored point takes (five float64). */
export const POINT_BYTES = FIELDS * 8;

/** The whole book's history at most (RISKGATE_EQUITY_HISTORY_MB). */
export const DEFAULT_BUDGET_MB = 512;

/** Points one account holds at most when each tier keeps `scale` of its retention (never less than a bucket). */
export function pointsPerAccount(scale: number): number {
  return TIERS.reduce((sum, tier) => sum + closedCap({ bucketMs: tier.bucketMs, retainMs: Math.max(tier.bucketMs, tier.retainMs * scale) }) + PER_BUCKET, 0);
}

/** Below this share every tier is down to one bucket: a smaller one holds no fewer points. */
const SMALLEST_SCALE = Math.min(...TIERS.map((tier) => tier.bucketMs / tier.retainMs));

/**
 * The share of each tier's retention that keeps `accounts` accounts within `budgetBytes`: 1 while
 * they fit, else the largest power of 2^(1/4) under which their bounds fit (steps, so that a
 * growing book cuts the histories it holds a few dozen times, not at every account it opens).
 * When even a bucket a tier does not fit, the share where every tier is down to one bucket.
 */
export function retentionScale(accounts: number, budgetBytes: number): number {
  const n = Math.max(1, accounts);
  const fits = (scale: number) => n * pointsPerAccount(scale) * POINT_BYTES <= budgetBytes;
  if (fits(1)) return 1;
  // The closed form first; a tier's slack bucket and open bucket do not scale, so step on down until it fits.
  let step = Math.floor(4 * Math.log2(budgetBytes / (n * pointsPerAccount(1) * POINT_BYTES)));
  while (!fits(2 ** (step / 4)) && 2 ** (step / 4) > SMALLEST_SCALE) step--;
  return 2 ** (step / 4);
}

/** The most points one account holds: every tier's closed cap plus its open bucket. */
export const MAX_POINTS_PER_ACCOUNT = TIERS.reduce((sum, tier) => sum + closedCap(tier) + PER_BUCKET, 0);

/** A ring of points, oldest first, in one Float64Array that doubles as it fills, up to `cap`. */
class PointRing {
  private data = new Float64Array(FIELDS * 16);
  private head = 0;
  size = 0;

  constructor(public cap: number) {}

  /** Storage for `cap` points at most (after a cut): the ring's points rounded up to a power of two, but never past the cap. */
  fit(): void {
    let slots = 16;
    while (slots < this.size) slots *= 2;
    slots = Math.max(this.size, Math.min(slots, this.cap));
    if (slots >= this.slots()) return;
    const data = new Float64Array(slots * FIELDS);
    for (let i = 0; i < this.size; i++) copyPoint(data, i * FIELDS, this.data, this.offset(i));
    this.data = data;
    this.head = 0;
  }

  private slots(): number {
    return this.data.length / FIELDS;
  }

  /** Where the `i`-th oldest point's fields start in {@link data}. */
  offset(i: number): number {
    return ((this.head + i) % this.slots()) * FIELDS;
  }

  get array(): Float64Array {
    return this.data;
  }

  atOf(i: number): number {
    return this.data[this.offset(i) + AT]!;
  }

  /** The caller makes room first: `size < cap`. */
  push(source: Float64Array, from: number): void {
    if (this.size === this.slots()) this.grow();
    copyPoint(this.data, this.offset(this.size), source, from);
    this.size++;
  }

  /** Drops the oldest point; read it with `offset(0)` before. */
  shift(): void {
    this.head = (this.head + 1) % this.slots();
    this.size--;
  }

  private grow(): void {
    const slots = Math.min(this.slots() * 2, this.cap);
    const data = new Float64Array(slots * FIELDS);
    for (let i = 0; i < this.size; i++) copyPoint(data, i * FIELDS, this.data, this.offset(i));
    this.data = data;
    this.head = 0;
  }
}

/**
 * One resolution: closed points in a ring, and the open (newest) bucket as three slots — lowest
 * equity, highest equity, last — each with the sequence number of the point it holds, which
 * orders the slots in time and tells when two slots hold the same point.
 */
class Tier {
  readonly closed: PointRing;
  private readonly open = new Float64Array(PER_BUCKET * FIELDS);
  private readonly openSeq = [0, 0, 0];
  private openBucket = Number.NaN;
  private seq = 0;

  constructor(
    readonly bucketMs: number,
    private retainMs: number,
    private readonly next: Tier | null,
  ) {
    this.closed = new PointRing(closedCap({ bucketMs, retainMs }));
  }

  /** Keeps `retainMs` from now on (at least a bucket): what a shorter retention no longer holds passes on to the next tier now. */
  retain(retainMs: number): void {
    this.retainMs = Math.max(this.bucketMs, retainMs);
    this.closed.cap = closedCap({ bucketMs: this.bucketMs, retainMs: this.retainMs });
    while (this.closed.size > this.closed.cap) this.evictOldest();
    const newest = this.closed.size > 0 ? this.closed.atOf(this.closed.size - 1) : Number.NaN;
    while (this.closed.size > 0 && this.closed.atOf(0) < newest - this.retainMs) this.evictOldest();
    this.closed.fit();
  }

  add(source: Float64Array, from: number): void {
    const at = source[from + AT]!;
    if (Math.floor(at / this.bucketMs) !== this.openBucket) this.close(at);
    this.fold(source, from);
  }

  /** Adds a point to the open bucket (opening it if there is none); no closing, no ageing. */
  fold(source: Float64Array, from: number): void {
    const seq = ++this.seq;
    if (Number.isNaN(this.openBucket)) {
      this.openBucket = Math.floor(source[from + AT]! / this.bucketMs);
      for (let slot = 0; slot < PER_BUCKET; slot++) this.setSlot(slot, source, from, seq);
      return;
    }
    const equity = source[from + EQUITY]!;
    // Strict comparisons: of equal extremes, the earliest is kept.
    if (equity < this.open[0 * FIELDS + EQUITY]!) this.setSlot(0, source, from, seq);
    if (equity > this.open[1 * FIELDS + EQUITY]!) this.setSlot(1, source, from, seq);
    this.setSlot(2, source, from, seq);
  }

  private setSlot(slot: number, source: Float64Array, from: number, seq: number): void {
    copyPoint(this.open, slot * FIELDS, source, from);
    this.openSeq[slot] = seq;
  }

  /** The open bucket's distinct points in time order, as slot numbers. */
  openSlots(): number[] {
    if (Number.isNaN(this.openBucket)) return [];
    const [low, high, last] = this.openSeq as [number, number, number];
    const slots = low <= high ? [0, 1] : [1, 0];
    if (low === high) slots.pop();
    if (last !== low && last !== high) slots.push(2);
    return slots;
  }

  openPoint(slot: number): Float64Array {
    return this.open.subarray(slot * FIELDS, slot * FIELDS + FIELDS);
  }

  /** Moves the open bucket's points to the closed ring, then ages out what `now` puts beyond retention. */
  private close(now: number): void {
    for (const slot of this.openSlots()) {
      if (this.closed.size === this.closed.cap) this.evictOldest();
      this.closed.push(this.open, slot * FIELDS);
    }
    this.openBucket = Number.NaN;
    while (this.closed.size > 0 && this.closed.atOf(0) < now - this.retainMs) this.evictOldest();
  }

  private evictOldest(): void {
    this.next?.add(this.closed.array, this.closed.offset(0));
    this.closed.shift();
  }
}

const readPoint = (source: Float64Array, from: number): EquityPoint => ({
  at: source[from]!,
  equity: source[from + 1]!,
  baseline: source[from + 2]!,
  dailyLossFloor: source[from + 3]!,
  maxLossFloor: source[from + 4]!,
});

/** One account's tiers, finest first. */
class Series {
  /** Finest first; each tier hands its aged points to the next. */
  readonly tiers: Tier[];
  private readonly scratch = new Float64Array(FIELDS);
  lastAt = -Infinity;

  /** The share of each tier's retention this series keeps (the book's, once it is brought to it). */
  scale: number;

  constructor(scale = 1) {
    this.scale = scale;
    let next: Tier | null = null;
    const tiers: Tier[] = [];
    for (let i = TIERS.length - 1; i >= 0; i--) {
      next = new Tier(TIERS[i]!.bucketMs, Math.max(TIERS[i]!.bucketMs, TIERS[i]!.retainMs * scale), next);
      tiers.unshift(next);
    }
    this.tiers = tiers;
  }

  /** Each tier keeps `scale` of its retention (finest first: what it passes on is then held by the next). */
  retain(scale: number): void {
    this.scale = scale;
    this.tiers.forEach((tier, i) => tier.retain(TIERS[i]!.retainMs * scale));
  }

  record(point: EquityPoint): void {
    const at = Math.max(point.at, this.lastAt);
    this.scratch[0] = at;
    this.scratch[1] = point.equity;
    this.scratch[2] = point.baseline;
    this.scratch[3] = point.dailyLossFloor;
    this.scratch[4] = point.maxLossFloor;
    this.lastAt = at;
    this.tiers[0]!.add(this.scratch, 0);
  }

  /** Calls `visit` with the array and offset of every stored point from `fromAt` on, oldest first, until it returns false. */
  forEach(visit: (source: Float64Array, from: number) => boolean, fromAt = -Infinity): void {
    for (let t = this.tiers.length - 1; t >= 0; t--) {
      const tier = this.tiers[t]!;
      const ring = tier.closed;
      // The first closed point at or after `fromAt` (binary search: a ring is sorted by time).
      let low = 0;
      let high = ring.size;
      while (low < high) {
        const mid = (low + high) >>> 1;
        if (ring.atOf(mid) < fromAt) low = mid + 1;
        else high = mid;
      }
      for (let i = low; i < ring.size; i++) if (!visit(ring.array, ring.offset(i))) return;
      for (const slot of tier.openSlots()) if (!visit(tier.openPoint(slot), 0)) return;
    }
  }

  size(): number {
    return this.tiers.reduce((sum, tier) => sum + tier.closed.size + tier.openSlots().length, 0);
  }
}

/** Per tier, finest first: points flattened to [at, equity, baseline, dailyLossFloor, maxLossFloor, …]. */
const StoredAccount = <T extends z.ZodType>(points: T) => z.object({ accountId: z.string().min(1), tiers: z.array(z.object({ closed: points, open: points })) });
/** Format 2 stores each run of points as the base64 of its float64s, little-endian: no number is written out in decimal. */
const Base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, "not base64");
const Stored = z.discriminatedUnion("format", [
  z.object({ format: z.literal(1), bucketsMs: z.array(z.number()), accounts: z.array(StoredAccount(z.array(z.number()))) }),
  z.object({ format: z.literal(2), bucketsMs: z.array(z.number()), accounts: z.array(StoredAccount(Base64)) }),
]);

const bigEndian = os.endianness() === "BE";

/** The points' float64s as base64, little-endian. */
function pointsBase64(values: Float64Array): string {
  const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  return (bigEndian ? Buffer.from(bytes).swap64() : bytes).toString("base64");
}

/** What `pointsBase64` wrote; null when it is not a whole number of float64s. */
function pointsOf(base64: string): Float64Array | null {
  const bytes = Buffer.from(base64, "base64");
  if (bytes.length % 8 !== 0) return null;
  const copy = new Uint8Array(bytes.length); // aligned, and not a view of the pooled buffer
  copy.set(bytes);
  const values = new Float64Array(copy.buffer);
  if (bigEndian) Buffer.from(copy.buffer).swap64();
  return values;
}

/** One account's stored points, as `toJSON` writes them (format 2). */
function seriesJSON(accountId: string, series: Series): unknown {
  return {
    accountId,
    tiers: series.tiers.map((tier) => {
      const closed = new Float64Array(tier.closed.size * FIELDS);
      for (let i = 0; i < tier.closed.size; i++) copyPoint(closed, i * FIELDS, tier.closed.array, tier.closed.offset(i));
      const slots = tier.openSlots();
      const open = new Float64Array(slots.length * FIELDS);
      slots.forEach((slot, i) => open.set(tier.openPoint(slot), i * FIELDS));
      return { closed: pointsBase64(closed), open: pointsBase64(open) };
    }),
  };
}

export class EquityHistory {
  private readonly series = new Map<string, Series>();
  /** Called before an account's history is read (the runtime records a conflated point still pending). */
  beforeRead: ((accountId: string) => void) | null = null;
  /** The share of each tier's retention every account keeps (see the module comment's Budget). */
  private scale = 1;

  /** `budgetBytes`: the whole book's points at most (see the module comment's Budget). */
  constructor(readonly budgetBytes = DEFAULT_BUDGET_MB * 1024 * 1024) {
    if (!(budgetBytes > 0)) throw new RangeError(`an equity history's budget must be positive, not ${budgetBytes}`);
  }

  /** The share of each tier's retention kept now (1 while the book fits its budget). */
  get retention(): number {
    return this.scale;
  }

  /** Bytes of the rings that hold the closed points, over the whole book (for tests; brings every account to the book's share). */
  storageBytes(): number {
    let total = 0;
    for (const series of this.series.values()) for (const tier of this.current(series).tiers) total += tier.closed.array.byteLength;
    return total;
  }

  /** Rings whose storage is larger than their cap allows (for tests: always 0; brings every account to the book's share). */
  ringsOverCap(): number {
    let over = 0;
    for (const series of this.series.values()) for (const tier of this.current(series).tiers) if (tier.closed.array.length / FIELDS > Math.max(16, tier.closed.cap)) over++;
    return over;
  }

  /** Points held over the whole book (for metrics and tests; brings every account to the book's share). */
  totalPoints(): number {
    let total = 0;
    for (const series of this.series.values()) total += this.current(series).size();
    return total;
  }

  /**
   * Lowers the book's share of each tier's retention to what its size leaves (only ever down).
   * Each account's history is cut to it when it is next recorded, read or written to a snapshot
   * (a snapshot writes every account's, a slice at a time): cutting 10,000 full histories at once
   * would hold the event loop for seconds.
   */
  private rescale(): void {
    this.scale = Math.min(this.scale, retentionScale(this.series.size, this.budgetBytes));
  }

  /** `series`, cut to the book's share first if the book has grown since it was last. */
  private current(series: Series): Series {
    if (series.scale !== this.scale) series.retain(this.scale);
    return series;
  }

  /** The time of the account's latest point (-Infinity before the first). */
  lastAt(accountId: string): number {
    return this.series.get(accountId)?.lastAt ?? Number.NEGATIVE_INFINITY;
  }

  /** Cheap enough for every equity change: a map lookup and a few float copies. See the module comment. */
  record(accountId: string, point: EquityPoint): void {
    if (
      !Number.isFinite(point.at) ||
      !Number.isFinite(point.equity) ||
      !Number.isFinite(point.baseline) ||
      !Number.isFinite(point.dailyLossFloor) ||
      !Number.isFinite(point.maxLossFloor)
    ) {
      return;
    }
    let series = this.series.get(accountId);
    if (!series) {
      this.series.set(accountId, (series = new Series(this.scale)));
      this.rescale();
    }
    this.current(series).record(point);
  }

  /**
   * The account's points in [from, to], at most `points` of them. When there are more, they are
   * first conflated into `points` equal spans of time (lowest, highest and last point of each,
   * as the tiers do), so the recent, finer tiers do not take most of the chart's width; LTTB on
   * equity then picks `points` of those.
   */
  query(accountId: string, options: { from?: number; to?: number; points: number }): EquityPoint[] {
    this.beforeRead?.(accountId);
    const kept = this.series.get(accountId);
    if (!kept) return [];
    const series = this.current(kept);
    const from = options.from ?? -Infinity;
    const to = options.to ?? Infinity;
    const inRange: EquityPoint[] = [];
    series.forEach((source, offset) => {
      const at = source[offset + AT]!;
      if (at > to) return false;
      if (at >= from) inRange.push(readPoint(source, offset));
      return true;
    }, from);
    if (Number.isNaN(options.points)) throw new RangeError("query: points is NaN");
    const target = Math.max(0, Math.floor(options.points));
    if (inRange.length <= target) return inRange;
    const spans = conflate(inRange, target);
    return lttb(spans, target, (p) => p.at, (p) => p.equity);
  }

  accounts(): string[] {
    return [...this.series.keys()];
  }

  /** Points stored for the account (for tests and metrics); at most {@link MAX_POINTS_PER_ACCOUNT}. */
  size(accountId: string): number {
    const series = this.series.get(accountId);
    return series ? this.current(series).size() : 0;
  }

  toJSON(): unknown {
    return { format: 2, bucketsMs: TIERS.map((tier) => tier.bucketMs), accounts: [...this.series].map(([accountId, series]) => seriesJSON(accountId, this.current(series))) };
  }

  /**
   * `toJSON` with the accounts as a {@link LazyArray}: each account's entry is made as a snapshot
   * writes it (a slice at a time), from the history as it is then, so the history of a large
   * book is never held whole beside the live one.
   */
  toJSONLazily(): unknown {
    return { format: 2, bucketsMs: TIERS.map((tier) => tier.bucketMs), accounts: new LazyArray(() => this.accountsJSON()) };
  }

  private *accountsJSON(): Generator<unknown> {
    for (const [accountId, kept] of [...this.series]) yield seriesJSON(accountId, this.current(kept));
  }

  /** Restores what {@link toJSON} wrote, cut to `budgetBytes`' share; throws an {@link EquityHistoryError} on anything else. */
  static fromJSON(value: unknown, budgetBytes?: number): EquityHistory {
    const parsed = Stored.safeParse(value);
    if (!parsed.success) throw new EquityHistoryError(`equity history: ${z.prettifyError(parsed.error)}`);
    const stored = parsed.data;
    const bucketsMs = TIERS.map((tier) => tier.bucketMs);
    if (stored.bucketsMs.length !== bucketsMs.length || stored.bucketsMs.some((ms, i) => ms !== bucketsMs[i])) {
      throw new EquityHistoryError(`equity history: stored with buckets of ${stored.bucketsMs.join(", ")} ms, expected ${bucketsMs.join(", ")} ms`);
    }
    const history = new EquityHistory(budgetBytes);
    for (const { accountId, tiers } of stored.accounts) {
      const fail = (message: string) => new EquityHistoryError(`equity history: account ${accountId}: ${message}`);
      if (history.series.has(accountId)) throw fail("appears twice");
      if (tiers.length !== TIERS.length) throw fail(`${tiers.length} tiers, expected ${TIERS.length}`);
      const series = new Series();
      // Oldest first: coarsest tier, closed then open, down to the finest.
      for (let t = TIERS.length - 1; t >= 0; t--) {
        const stored = tiers[t]!;
        const tier = series.tiers[t]!;
        const closedPoints = typeof stored.closed === "string" ? pointsOf(stored.closed) : Float64Array.from(stored.closed);
        const openPoints = typeof stored.open === "string" ? pointsOf(stored.open) : Float64Array.from(stored.open);
        if (!closedPoints || !openPoints || closedPoints.length % FIELDS !== 0 || openPoints.length % FIELDS !== 0) throw fail(`tier ${t}: not a whole number of points`);
        if (!closedPoints.every(Number.isFinite) || !openPoints.every(Number.isFinite)) throw fail(`tier ${t}: a point that is not a finite number`);
        if (closedPoints.length / FIELDS > tier.closed.cap) throw fail(`tier ${t}: more than ${tier.closed.cap} closed points`);
        if (openPoints.length / FIELDS > PER_BUCKET) throw fail(`tier ${t}: more than ${PER_BUCKET} open points`);
        const openBucket = openPoints.length > 0 ? Math.floor(openPoints[AT]! / tier.bucketMs) : Number.NaN;
        for (let from = 0; from < closedPoints.length; from += FIELDS) {
          if (closedPoints[from + AT]! < series.lastAt) throw fail("points out of time order");
          series.lastAt = closedPoints[from + AT]!;
          tier.closed.push(closedPoints, from);
        }
        // Folding the open bucket's points again gives back its lowest, highest and last.
        for (let from = 0; from < openPoints.length; from += FIELDS) {
          if (openPoints[from + AT]! < series.lastAt) throw fail("points out of time order");
          if (Math.floor(openPoints[from + AT]! / tier.bucketMs) !== openBucket) throw fail(`tier ${t}: open points span more than one bucket`);
          series.lastAt = openPoints[from + AT]!;
          tier.fold(openPoints, from);
        }
      }
      history.series.set(accountId, series);
    }
    // Stored under another budget (or none): cut to this one's share now (a start, nothing else waits).
    history.rescale();
    for (const series of history.series.values()) history.current(series);
    return history;
  }
}

/** Conflates time-sorted points into `spans` equal spans of time: each span's lowest, highest and last point, in time order. */
function conflate(points: readonly EquityPoint[], spans: number): EquityPoint[] {
  const first = points[0]!.at;
  const widthMs = (points[points.length - 1]!.at - first) / spans;
  if (!(widthMs > 0)) return points.slice();
  const out: EquityPoint[] = [];
  let span = Number.NaN;
  let low = 0;
  let high = 0;
  let last = 0;
  const flush = () => {
    if (Number.isNaN(span)) return;
    const [a, b] = low <= high ? [low, high] : [high, low];
    out.push(points[a]!);
    if (b !== a) out.push(points[b]!);
    if (last !== a && last !== b) out.push(points[last]!);
  };
  for (let i = 0; i < points.length; i++) {
    const s = Math.min(Math.floor((points[i]!.at - first) / widthMs), spans - 1);
    if (s !== span) {
      flush();
      span = s;
      low = high = last = i;
      continue;
    }
    if (points[i]!.equity < points[low]!.equity) low = i;
    if (points[i]!.equity > points[high]!.equity) high = i;
    last = i;
  }
  flush();
  return out;
}
