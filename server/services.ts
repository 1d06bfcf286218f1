import type { Auth } from "./auth/auth";
import type { BacktestJobs } from "./backtest/jobs";
import type { EquityHistory } from "./equity-history";
import type { IdempotencyStore } from "./http/idempotency";
import type { Metrics } from "./metrics";
import type { PresetStore } from "./presets";
import type { Runtime } from "./runtime";

/**
 * Route handlers are bundled apart from the server entry, so module singletons are not shared
 * with it. The server installs its services here, on a global symbol, and handlers read them
 * through `services()`. Type-only imports keep the runtime out of the handlers' bundle.
 */
export type Services = {
  readonly runtime: Runtime;
  readonly databaseKind: "embedded" | "postgresql";
  readonly startedAt: number;
  readonly dashboards: () => number;
  readonly metrics: Metrics;
  readonly auth: Auth;
  readonly idempotency: IdempotencyStore;
  readonly equity: EquityHistory;
  readonly presets: PresetStore;
  /** Backtests run from the console and the API, each in a worker thread. */
  readonly backtests: BacktestJobs;
  /** Health of the parts beside the database: alert delivery, the stream's fan-out. */
  readonly health: () => Record<string, unknown>;
};

const KEY = Symbol.for("riskgate.services");
type Holder = { [KEY]?: Services };

export function installServices(services: Services): void {
  (globalThis as Holder)[KEY] = services;
}

export function services(): Services {
  const installed = (globalThis as Holder)[KEY];
  if (!installed) throw new Error("Riskgate services are not running: start the server with `npm start` or `npm run dev`");
  return installed;
}
