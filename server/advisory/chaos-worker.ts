/**
 * A chaos worker (node:worker_threads): simulates the blocks of paths it is sent and sends the
 * values back (transferred, not copied). Started by chaos-pool.ts; loads under tsx.
 */
import { parentPort } from "node:worker_threads";
import type { ChaosRequest } from "./chaos";
import { simulatePaths } from "./chaos";

export type ChaosJob = { readonly id: number; readonly request: ChaosRequest; readonly fromBlock: number; readonly toBlock: number };
export type ChaosJobResult = { readonly id: number; readonly values: Float64Array } | { readonly id: number; readonly error: string };

if (!parentPort) throw new Error("chaos-worker.ts runs as a worker thread (see chaos-pool.ts)");
const port = parentPort;
port.on("message", (job: ChaosJob) => {
  try {
    const values = simulatePaths(job.request, job.fromBlock, job.toBlock);
    port.postMessage({ id: job.id, values } satisfies ChaosJobResult, [values.buffer as ArrayBuffer]);
  } catch (error) {
    port.postMessage({ id: job.id, error: error instanceof Error ? error.message : String(error) } satisfies ChaosJobResult);
  }
});
