/**
 * Long background work (a pass over the book's rows, a snapshot, a sort) done in slices of about
 * `SLICE_MS`, the event loop served between them: a decision waits at most about one slice for
 * it, whatever the book's size.
 */
export const SLICE_MS = 3;

/** The rest after a slice of the periodic passes (the overview's refresh, the equity points), as a multiple of the slice: at most half the loop. */
export const BACKGROUND_REST = 1;

/**
 * How long a background slice waits at most for the commands in flight to be answered before it
 * runs anyway: background work yields to the decisions first, and is never starved for longer.
 */
export const FOREGROUND_WAIT_MS = 25;
/**
 * The same for work someone waits for (`Slicer.hurry`): none, a turn of the loop between slices
 * only (the commands' steps interleave with them); a first page of 10,000 rows is some 100 slices.
 */
const HURRIED_FOREGROUND_WAIT_MS = 0;

/**
 * The slice of work someone waits for: longer than a background one, so that it needs fewer turns
 * of a busy loop (a turn serving 500 intents/s and 40 dashboards takes 10–30 ms at 10,000
 * accounts: a first page's 100 ms of rows in 3 ms slices took 300–2,000 ms to join). A decision
 * arriving meanwhile waits at most this long, and only while a pass is hurried (at most once a
 * second, see overview.ts).
 */
export const HURRIED_SLICE_MS = 10;

/**
 * The commands in flight (queued, being decided or committing): background slices start when
 * there are none, so a decision's steps (decide, append, answer) do not wait behind them. Under a
 * load that never lets the queue empty, a slice waits at most FOREGROUND_WAIT_MS.
 */
class Foreground {
  private inFlight = 0;
  /** Slices waiting for the commands to be answered (one that times out leaves). */
  private readonly waiters = new Set<() => void>();

  /** A command entered the queue; `end` when it is answered (or failed). */
  begin(): void {
    this.inFlight++;
  }

  end(): void {
    if (--this.inFlight > 0) return;
    this.inFlight = 0;
    for (const wake of [...this.waiters]) wake();
  }

  get busy(): boolean {
    return this.inFlight > 0;
  }

  /** Slices waiting now (for tests: none is left behind by a wait that timed out). */
  get waiting(): number {
    return this.waiters.size;
  }

  /** Resolves when no command is in flight, or after `maxMs`. */
  idle(maxMs = FOREGROUND_WAIT_MS): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let done = false;
      const wake = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, maxMs);
      this.waiters.add(wake);
    });
  }
}

export const foreground = new Foreground();

/** One turn of the event loop: timers, I/O and the requests that arrived go first. */
export const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Waits `ms` (timers, I/O and immediates all run meanwhile). */
export const rest = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** No background slice (of a Slicer with a rest) starts before this time: the rest the last one earned. */
let backgroundFreeAt = 0;

/**
 * Times the slices of one piece of work: check `due` after each item (cheap) and, when it is
 * true, `await next()`. With a `restRatio`, each slice is followed by a rest that long times the
 * slice (3: the work takes at most a quarter of the loop), so that background work at firm scale
 * never crowds out the decisions, only spreads out. The rests are shared: a slice of any work
 * with a rest waits for the rest any other one earned.
 */
export class Slicer {
  private from = performance.now();
  /** Time spent in slices so far (not in the pauses between them). */
  busyMs = 0;

  constructor(
    private readonly pause: () => Promise<void> = yieldToLoop,
    private budgetMs = SLICE_MS,
    private restRatio = 0,
  ) {}

  /** Someone waits for this work: longer slices, no more rests and no waiting for the commands in flight, only a turn of the loop between slices. */
  hurry(): void {
    this.restRatio = 0;
    this.foregroundWaitMs = HURRIED_FOREGROUND_WAIT_MS;
    this.budgetMs = Math.max(this.budgetMs, HURRIED_SLICE_MS);
  }

  private foregroundWaitMs = FOREGROUND_WAIT_MS;

  /** Whether this slice has had its time. */
  get due(): boolean {
    return performance.now() - this.from >= this.budgetMs;
  }

  /**
   * Serves the event loop (for a rest, with a ratio), then starts the next slice once the
   * commands in flight are answered (or FOREGROUND_WAIT_MS has passed).
   */
  async next(): Promise<void> {
    const ran = performance.now() - this.from;
    this.busyMs += ran;
    if (this.restRatio > 0) {
      // The rest is the background's as a whole: no background slice starts in it, whichever
      // work it belongs to (two passes at once still take half the loop at most, not all of it).
      backgroundFreeAt = Math.max(backgroundFreeAt, performance.now() + Math.max(1, ran * this.restRatio));
      do {
        await rest(Math.max(1, backgroundFreeAt - performance.now()));
        await foreground.idle();
      } while (performance.now() < backgroundFreeAt);
    } else {
      await this.pause();
      if (this.foregroundWaitMs > 0) await foreground.idle(this.foregroundWaitMs);
    }
    this.from = performance.now();
  }

  /** `next()` if this slice has had its time. */
  async step(): Promise<void> {
    if (this.due) await this.next();
  }

  /** Ends the work: its last slice is counted. */
  end(): number {
    const ran = performance.now() - this.from;
    this.busyMs += ran;
    if (this.restRatio > 0) backgroundFreeAt = Math.max(backgroundFreeAt, performance.now() + ran * this.restRatio);
    this.from = performance.now();
    return this.busyMs;
  }
}

/** Runs sorted at once by `Array.prototype.sort` before they are merged (each well under a slice). */
const RUN = 512;

/**
 * `[...items].sort(compare)`, a slice at a time (a merge sort: runs of RUN sorted at once, then
 * merged pass by pass, the slicer checked as it goes). Stable, as `Array.prototype.sort`. The
 * items and `compare` must not change meanwhile: sort keys taken beforehand, not live figures.
 */
export async function sortInSlices<T>(items: readonly T[], compare: (a: T, b: T) => number, slicer: Slicer): Promise<T[]> {
  let from = items.slice();
  const n = from.length;
  if (n <= RUN) return from.sort(compare);
  for (let at = 0; at < n; at += RUN) {
    const run = from.slice(at, at + RUN).sort(compare);
    for (let i = 0; i < run.length; i++) from[at + i] = run[i]!;
    if (slicer.due) await slicer.next();
  }
  let to = new Array<T>(n);
  for (let width = RUN; width < n; width *= 2) {
    for (let left = 0; left < n; left += 2 * width) {
      const middle = Math.min(left + width, n);
      const right = Math.min(left + 2 * width, n);
      let i = left;
      let j = middle;
      let k = left;
      while (i < middle && j < right) {
        to[k++] = compare(from[j]!, from[i]!) < 0 ? from[j++]! : from[i++]!;
        if ((k & 1023) === 0 && slicer.due) await slicer.next();
      }
      while (i < middle) to[k++] = from[i++]!;
      while (j < right) to[k++] = from[j++]!;
    }
    [from, to] = [to, from];
  }
  return from;
}
