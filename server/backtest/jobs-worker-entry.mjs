// Entry of a backtest worker thread: registers tsx's loader in the worker, then loads the
// TypeScript module of its task (as server/advisory/chaos-worker-entry.mjs does; see jobs.ts):
// csv-worker.ts to check an upload, jobs-worker.ts for a run.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.kind === "check" ? "./csv-worker.ts" : "./jobs-worker.ts");
