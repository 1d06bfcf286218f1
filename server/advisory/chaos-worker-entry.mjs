// Entry of a chaos worker thread: registers tsx's loader in the worker, then loads the
// TypeScript worker. (A worker does not reliably inherit `--import tsx` from its parent, and
// under Vitest there is none to inherit.) See chaos-pool.ts.
import { register } from "tsx/esm/api";

register();
await import("./chaos-worker.ts");
