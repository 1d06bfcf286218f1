import http from "node:http";
import v8 from "node:v8";
import { refuseMethod } from "./http/methods";
import path from "node:path";
import next from "next";
import { ConfigError, loadConfig } from "./config";
import { openDatabase } from "./db/database";
import { migrate } from "./db/migrate";
import { demoAccounts, demoOptions, httpIntentClient, startSimulation } from "./demo";
import type { Simulation } from "./demo";
import { WallClockScheduler } from "./sim/scheduler";
import { Ledger, LedgerWriter, WriterLockHeld } from "./ledger";
import type { Database } from "./db/database";
import { scheduleClock } from "./clock";
import { attachRealtime } from "./realtime";
import { AlertDispatcher, alertSinksFromConfig } from "./alerts";
import { Metrics } from "./metrics";
import { Runtime } from "./runtime";
import { PresetStore, readPresetFiles } from "./presets";
import { installServices } from "./services";
import { Auth, CLIENT_IP_HEADER } from "./auth/auth";
import { IdempotencyStore } from "./http/idempotency";
import { SnapshotStore } from "./snapshots";
import { serveFast } from "./http/fast-path";
import { textCompression } from "./http/compress";
import { BacktestJobs } from "./backtest/jobs";
import { chaosPool } from "./advisory/chaos-pool";
import { createLlmReviewer } from "./advisory/llm-reviewer";
import { createRuleReviewer } from "./advisory/rule-reviewer";
import type { ReviewRequest } from "./reviewer";
import { passwordBox } from "./first-start";
import { log, logFormat } from "./log";
import { overviewOf } from "./overview";
import type { LedgerRecord } from "./ledger";

/** How long a deal memo worked out after a decision may take. */
const MEMO_TIMEOUT_MS = 30_000;

const projectRoot = path.join(import.meta.dirname, "..");
const DEMO_TOKEN_NAME = "demo strategies";
/** How often a read-only stream node folds what the deciding server committed. */
const FOLLOW_INTERVAL_MS = 200;

/**
 * How far V8 lets the old generation grow past what a major collection left before the next one:
 * 200 % (three times the live heap). V8's own factor is as low as 1.1 for a server that spends
 * little of its time in GC, and at 10,000 accounts (about 200 MB live, 12 MB/s reaching the old
 * generation) that made a major collection every 10 s, each holding the decisions for 50–200 ms
 * (`--trace-gc`, bench:firm); at 200 % they came 21 s apart for a heap of about 460 MB at most
 * (the server's RSS stayed at about 700 MB). Read at each collection, so set here; a
 * `--heap-growing-percent` given to node itself wins.
 */
const HEAP_GROWING_PERCENT = 200;
if (!process.execArgv.some((arg) => arg.startsWith("--heap-growing-percent") || arg.startsWith("--heap_growing_percent"))) {
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}

/** Open until the process ends; closed (and the embedded PostgreSQL stopped) by a failed start too. */
let openedDb: Database | null = null;

async function main(): Promise<void> {
  const config = loadConfig();
  const noVolume = Object.entries(config.engine.instruments).flatMap(([symbol, instrument]) => (instrument.averageDailyVolume === undefined ? [symbol] : []));
  if (noVolume.length > 0) log.warn({ symbols: noVolume }, "instruments without averageDailyVolume: the liquidity guard does not check their entries");
  const db = await openDatabase(config.database, (line) => log.info(line));
  openedDb = db;
  // One writer per database: a second server on it stops here, naming the one that decides, or,
  // with REDIS_URL (the stream's fan-out), starts as a read-only stream node.
  let writer: LedgerWriter | null = null;
  let readOnlyBecause: string | null = null;
  try {
    writer = await LedgerWriter.acquire(db);
  } catch (error) {
    if (!(error instanceof WriterLockHeld) || !config.redisUrl) throw error;
    readOnlyBecause = error.message;
    log.info(`read-only stream node: ${error.message}; this server serves reads, logins and the stream (through Redis), and answers commands 503 read_only`);
  }
  const applied = await migrate(db);
  if (applied.length > 0) log.info({ migrations: applied }, `applied migrations: ${applied.join(", ")}`);
  const idempotency = new IdempotencyStore(db);
  const auth = new Auth(db, Date.now, { sessionTtlMs: config.sessionTtlMs });
  const presets = new PresetStore(db);
  /** A first start's one-time admin password: printed last, once the server listens. */
  let generatedPassword: string | null = null;
  if (writer) {
    // Idempotency-Key claims still pending were taken by a server that has stopped (one decides per database).
    const released = await idempotency.releasePending();
    if (released > 0) log.info({ released }, `released ${released} Idempotency-Key claim(s) left pending by the previous server`);
    const seeded = await auth.seed(config.admin);
    generatedPassword = seeded.generatedPassword;
    if (seeded.replacedTokens > 0) log.info({ revoked: seeded.replacedTokens }, `RISKGATE_ADMIN_TOKEN changed: revoked the ${seeded.replacedTokens} admin token(s) it set before`);
    if (seeded.tokenRevoked) log.warn("RISKGATE_ADMIN_TOKEN was revoked through the API: it does not authenticate (set a new value to register one)");
    // Shipped presets are versions in the database; a changed file becomes a new version.
    const synced = await presets.sync(readPresetFiles());
    if (synced.length > 0) log.info({ presets: synced }, `presets recorded: ${synced.join(", ")}`);
  }

  const metrics = new Metrics();
  const startedLoading = performance.now();
  // Guard 18 and the deal memo: the rule reviewer (chaos, stress, hedges on a worker pool), or an
  // LLM reviewer given the same memo when RISKGATE_REVIEWER_URL is set.
  const ruleReviewer = createRuleReviewer({
    config: (request) => request.account.rules.guards.reviewer.advisory,
    marketOf: (request) => request.market ?? null,
  });
  const reviewer = config.reviewer
    ? createLlmReviewer({
        baseUrl: config.reviewer.url,
        model: config.reviewer.model,
        ...(config.reviewer.apiKey ? { apiKey: config.reviewer.apiKey } : {}),
        memoOf: async (request, signal) => (await ruleReviewer.assess(request, signal)).memo,
      })
    : ruleReviewer;
  const advisor = { memo: async (request: ReviewRequest) => (await ruleReviewer.assess(request, AbortSignal.timeout(MEMO_TIMEOUT_MS))).memo };
  const runtime = await Runtime.load(new Ledger(db, writer), config.engine, Date.now, {
    metrics,
    snapshots: { store: new SnapshotStore(db), every: config.snapshotEvery },
    presets,
    reviewer,
    advisor,
    equityIntervalMs: 1_000,
    equityHistoryBytes: config.equityHistoryBytes,
    priceBands: true,
  });
  const from = runtime.startedFromSnapshot === null ? "the whole ledger" : `the snapshot at seq ${runtime.startedFromSnapshot} and the ledger after it`;
  const loadMs = Math.round(performance.now() - startedLoading);
  log.info({ seq: runtime.lastSeq, fromSnapshotSeq: runtime.startedFromSnapshot, loadMs, database: db.kind }, `state rebuilt up to seq ${runtime.lastSeq} from ${from} in ${loadMs} ms (${db.kind})`);
  runtime.readOnlyBecause = readOnlyBecause;
  if (writer && config.demo === "accounts" && runtime.accounts().length === 0) {
    for (const account of demoAccounts) await runtime.openAccount(account, "system");
  }
  // The deciding server runs the clock (daily resets, automatic breaker resets); a read-only node follows the ledger.
  const stopClock = writer ? scheduleClock(runtime) : runtime.follow(FOLLOW_INTERVAL_MS);
  // Breaker trips, lock-outs and operator actions go to the configured sinks, off the decision path.
  const alerts = new AlertDispatcher(alertSinksFromConfig(config.alerts));
  const stopAlerts = runtime.subscribe((committed) => alerts.observe(committed.records));
  // Trips, resets and lock-outs: counted for the metrics and logged, once committed.
  const stopRiskEvents = runtime.subscribe((committed) => {
    metrics.countCommitted(committed.records);
    logRiskEvents(committed.records);
  });

  const app = next({ dev: config.dev, dir: projectRoot, hostname: "localhost", port: config.port });
  await app.prepare();
  const handle = app.getRequestHandler();
  const compress = textCompression();
  const server = http.createServer((request, response) => {
    // The client's address as this server saw it (login rate limit): never what the client claims.
    request.headers[CLIENT_IP_HEADER] = request.socket.remoteAddress ?? "unknown";
    logServerErrors(request, response);
    // A path that is not valid percent-encoded UTF-8 never reaches a route (Next would answer 500).
    if (request.url?.startsWith("/api/") && !decodablePath(request.url)) {
      response.writeHead(400, { "content-type": "application/problem+json" });
      response.end(JSON.stringify({ type: "/problems/invalid-path", title: "Malformed path", status: 400, code: "invalid_path", detail: "the path is not valid percent-encoded UTF-8" }));
      return;
    }
    if (refuseMethod(request, response)) return;
    if (serveFast(request, response)) return;
    // Everything Next serves, compressed here (next.config.ts turns Next's own off: it left the API's JSON as it was).
    compress(request, response, () => void handle(request, response));
  });
  const realtime = await attachRealtime(server, runtime, auth, { redisUrl: config.redisUrl });
  const overview = overviewOf(runtime);
  metrics.watch({
    dashboards: realtime.connectedClients,
    // The overview keeps counts by state; settling first brings the rows a commit touched up to date (one pass, shared with its readers).
    accountsByState: async () => {
      await overview.settle();
      return overview.counts(FIRM).byState;
    },
    alertSinks: () => alerts.sinkStats(),
    ledger: () => {
      const queue = runtime.commitQueue();
      return { seq: runtime.lastSeq, queuedJobs: queue.jobs, oldestQueuedSeconds: queue.oldestWaitMs / 1_000 };
    },
  });
  const backtests = new BacktestJobs(presets, { engine: config.engine });
  installServices({
    runtime,
    databaseKind: db.kind,
    startedAt: Date.now(),
    dashboards: realtime.connectedClients,
    metrics,
    auth,
    idempotency,
    equity: runtime.equity,
    presets,
    backtests,
    health: () => ({ role: writer ? "writer" : "read-only", alerts: alerts.stats(), stream: realtime.health() }),
  });

  // The signal handlers come before the port opens: a client that sees the server listening and
  // stops it at once finds them in place (without one, SIGTERM kills the process outright,
  // leaving the embedded PostgreSQL and the last commits to the next start).
  let simulation: Simulation | null = null;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, `${signal}: shutting down`);
    simulation?.stop();
    stopClock();
    stopAlerts();
    stopRiskEvents();
    metrics.close();
    await backtests.close();
    await chaosPool().close();
    await alerts.close();
    await realtime.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await app.close?.();
    await writer?.close();
    await db.close();
    log.info({ signal }, "stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  log.info({ port, host: config.host, mode: config.dev ? "development" : "production", role: writer ? "writer" : "read-only" }, `Riskgate listening on http://localhost:${port} (${config.dev ? "development" : "production"})`);

  // The live demo sends its strategies' intents through the public API, like any client.
  if (writer && config.demo === "live") {
    // The demo's strategies hold a token of their own, scoped to the demo accounts, new at each start.
    await auth.revokeTokensNamed(DEMO_TOKEN_NAME, "system");
    const { token } = await auth.createToken(DEMO_TOKEN_NAME, { role: "strategy", accounts: demoAccounts.map((account) => account.accountId) }, "system");
    simulation = await startSimulation(runtime, new WallClockScheduler(), httpIntentClient(`http://127.0.0.1:${port}`, token), {
      ...demoOptions,
      seed: config.demoSeed,
    });
    log.info({ accounts: demoAccounts.length, seed: config.demoSeed }, `demo: ${demoAccounts.length} accounts trading on a simulated market (seed ${config.demoSeed}); RISKGATE_DEMO=0 turns it off`);
  }
  // Last, where it cannot be missed: nothing of the start prints after it.
  // On a terminal (pretty logs) the box goes to stdout as before; with JSON logs it goes to
  // stderr, never into the JSON lines, and a line of the log says where it is.
  if (generatedPassword) {
    const box = passwordBox(generatedPassword, `http://localhost:${port}`);
    if (logFormat === "pretty") {
      process.stdout.write(`${box}\n`);
    } else {
      log.warn({ user: "admin" }, "first start: a one-time password for the user admin is printed on stderr (not in this log); set RISKGATE_ADMIN_PASSWORD to choose it");
      process.stderr.write(`${box}\n`);
    }
  }

}

/** The firm-wide view of the overview's counts (no account scope). */
const FIRM = { accounts: null } as const;

/** Logs a response the server answered 5xx: method, path (never the query), status, time taken. */
function logServerErrors(request: http.IncomingMessage, response: http.ServerResponse): void {
  const started = performance.now();
  response.once("finish", () => {
    if (response.statusCode < 500) return;
    const path = (request.url ?? "").split("?")[0];
    log.error({ method: request.method, path, status: response.statusCode, ms: Math.round(performance.now() - started) }, `${response.statusCode} ${request.method} ${path}`);
  });
}

/** One line per breaker trip or reset, lock-out, reopening, firm halt or resume the ledger committed. */
function logRiskEvents(records: readonly LedgerRecord[]): void {
  for (const { seq, event } of records) {
    switch (event.type) {
      case "breaker.tripped":
        log.warn({ event: event.type, seq, accountId: event.accountId, breaker: event.breaker, reason: event.reason, by: event.by }, `breaker tripped: ${event.accountId} (${event.breaker})`);
        break;
      case "breaker.reset":
        log.info({ event: event.type, seq, accountId: event.accountId, breaker: event.breaker, reason: event.reason, by: event.by }, `breaker reset: ${event.accountId} (${event.breaker})`);
        break;
      case "account.locked_out":
        log.warn({ event: event.type, seq, accountId: event.accountId, rule: event.rule, equity: event.equity, floor: event.floor }, `account locked out: ${event.accountId} (${event.rule})`);
        break;
      case "account.reopened":
        log.info({ event: event.type, seq, accountId: event.accountId, reason: event.reason, by: event.by }, `account reopened: ${event.accountId}`);
        break;
      case "firm.halted":
        log.warn({ event: event.type, seq, reason: event.reason, by: event.by }, "firm halted");
        break;
      case "firm.resumed":
        log.info({ event: event.type, seq, reason: event.reason, by: event.by }, "firm resumed");
        break;
    }
  }
}

function decodablePath(url: string): boolean {
  try {
    decodeURIComponent(url.split("?")[0]!);
    return true;
  } catch {
    return false;
  }
}

main().catch(async (error: unknown) => {
  if (error instanceof ConfigError) {
    log.fatal(error.message);
  } else {
    log.fatal({ error: error instanceof Error ? error.message : String(error) }, `Riskgate failed to start: ${error instanceof Error ? error.message : String(error)}`);
  }
  await openedDb?.close().catch(() => undefined);
  process.exit(1);
});
