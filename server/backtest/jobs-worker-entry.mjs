// Entry of a backtest worker thread: registers tsx's loader in the worker, then loads the
// TypeScript worker (as server/advisory/chaos-worker-entry.mjs does; see jobs.ts).
import { register } from "tsx/esm/api";

register();
await import("./jobs-worker.ts");
