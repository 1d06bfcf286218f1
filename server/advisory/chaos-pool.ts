/**
 * Runs the chaos engine off the event loop: a small pool of worker threads (reused across
 * requests) each simulating a contiguous range of the request's blocks. Because block b always
 * draws from mixSeed(seed, b), the report is identical to `simulateChaos` for any pool size.
 * The imperative shell of chaos.ts.
 */
import os from "node:os";
import { Worker } from "node:worker_threads";
import type { ChaosReport, ChaosRequest } from "./chaos";
import { ChaosRequest as ChaosRequestSchema, VALUES_PER_PATH, blockCount, summarizeChaos } from "./chaos";
import type { ChaosJob, ChaosJobResult } from "./chaos-worker";

type Pending = { resolve: (values: Float64Array) => void; reject: (error: Error) => void };

class PooledWorker {
  readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private failed: Error | null = null;

  constructor() {
    // The worker is TypeScript: its entry registers tsx in the worker, whether or not this process runs under tsx.
    this.worker = new Worker(new URL("./chaos-worker-entry.mjs", import.meta.url), { execArgv: [] });
    this.worker.unref();
    this.worker.on("message", (result: ChaosJobResult) => {
      const pending = this.pending.get(result.id);
      if (!pending) return;
      this.settle(result.id);
      if ("error" in result) pending.reject(new Error(`chaos worker: ${result.error}`));
      else pending.resolve(result.values);
    });
    const fail = (error: Error) => {
      this.failed = error;
      for (const [id, pending] of this.pending) {
        this.settle(id);
        pending.reject(error);
      }
    };
    this.worker.on("error", fail);
    this.worker.on("exit", (code) => fail(new Error(`chaos worker exited (${code})`)));
  }

  get alive(): boolean {
    return this.failed === null;
  }

  run(job: ChaosJob): Promise<Float64Array> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      // Keep the process alive while a job is out; let it exit when the pool is idle.
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(job.id, { resolve, reject });
      this.worker.postMessage(job);
    });
  }

  private settle(id: number): void {
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
  }
}

export class ChaosPool {
  private workers: PooledWorker[] = [];
  private nextJob = 1;
  private closed = false;

  /** `size` workers (default: the available parallelism, at most 4), started on first use. */
  constructor(readonly size: number = Math.max(1, Math.min(4, os.availableParallelism()))) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`pool size must be a positive integer: ${size}`);
  }

  /** Starts the workers now (they take a few hundred ms to load), so the first request does not pay for it. */
  async warm(): Promise<void> {
    const probe = ChaosRequestSchema.parse({
      seed: 0,
      paths: 1,
      steps: 1,
      horizonPeriods: 1,
      model: { muPerPeriod: 0, sigmaPerPeriod: 0.01, jumpsPerPeriod: 0, jumpLogMean: 0, jumpLogStd: 0, observations: 0, jumpObservations: 0, tailSigmas: 3 },
      position: { side: "long", quantity: 1, price: 1, contractSize: 1 },
      account: { equity: 1, dailyLossFloor: 0, maxLossFloor: 0 },
      flashCrashPct: 0,
      gapDownPct: 0,
    });
    await Promise.all(this.ensureWorkers().map((worker) => worker.run({ id: this.nextJob++, request: probe, fromBlock: 0, toBlock: 1 })));
  }

  async run(request: ChaosRequest): Promise<ChaosReport> {
    ChaosRequestSchema.parse(request); // fail closed on a non-finite or out-of-range input, before any worker sees it
    const workers = this.ensureWorkers();
    const blocks = blockCount(request.paths);
    const shares = Math.min(workers.length, blocks);
    const jobs: Promise<Float64Array>[] = [];
    for (let i = 0; i < shares; i++) {
      const fromBlock = Math.floor((i * blocks) / shares);
      const toBlock = Math.floor(((i + 1) * blocks) / shares);
      jobs.push(workers[i]!.run({ id: this.nextJob++, request, fromBlock, toBlock }));
    }
    const parts = await Promise.all(jobs);
    const values = new Float64Array(request.paths * VALUES_PER_PATH);
    let offset = 0;
    for (const part of parts) {
      values.set(part, offset);
      offset += part.length;
    }
    return summarizeChaos(request, values);
  }

  async close(): Promise<void> {
    this.closed = true;
    const workers = this.workers.splice(0);
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }

  private ensureWorkers(): PooledWorker[] {
    if (this.closed) throw new Error("the chaos pool is closed");
    this.workers = this.workers.filter((worker) => worker.alive);
    while (this.workers.length < this.size) this.workers.push(new PooledWorker());
    return this.workers;
  }
}

const POOL = Symbol.for("riskgate.advisory.chaosPool");
type PoolHolder = { [POOL]?: ChaosPool };

/** The process-wide pool (on globalThis, so bundles that load this module twice share it). */
export function chaosPool(): ChaosPool {
  const holder = globalThis as PoolHolder;
  return (holder[POOL] ??= new ChaosPool());
}

/** The chaos report of `request`, computed on the process-wide worker pool. */
export function runChaos(request: ChaosRequest): Promise<ChaosReport> {
  return chaosPool().run(request);
}
