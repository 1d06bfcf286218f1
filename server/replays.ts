import { AppError } from "./errors";

/**
 * Replays of the ledger the server runs for callers (`explain`, preset dry-runs): optional work
 * that must never stand in front of decisions. At most `concurrent` run at once and at most
 * `waiting` wait (beyond that a caller gets 429 with Retry-After), and each gives the event loop
 * back every `sliceMs` of folding, so that intents are decided between its slices.
 */
export class Replays {
  private running = 0;
  private readonly queue: (() => void)[] = [];

  constructor(
    private readonly concurrent = 1,
    private readonly waiting = 8,
    private readonly sliceMs = 4,
  ) {}

  /** Runs `work` when a slot is free; `work` calls `slice()` between steps of its fold. */
  async run<T>(work: (slice: () => Promise<void>) => Promise<T>): Promise<T> {
    if (this.running >= this.concurrent) {
      if (this.queue.length >= this.waiting) {
        throw new AppError("rate_limited", "the server is busy replaying the ledger for other callers: try again shortly", [], undefined, { retryAfterSeconds: 1 });
      }
      await new Promise<void>((resolve) => this.queue.push(resolve));
    } else {
      this.running++;
    }
    let sliceStart = performance.now();
    const slice = async () => {
      if (performance.now() - sliceStart < this.sliceMs) return;
      await new Promise<void>((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    };
    try {
      return await work(slice);
    } finally {
      // The slot passes to the next caller waiting, or is freed.
      const next = this.queue.shift();
      if (next) next();
      else this.running--;
    }
  }
}
