// npm run bench:firm -- [--accounts N] [--seconds S] [--quick] — the desk at firm scale (issue
// 15): the real server (`server/main.ts`, production build of Next, a child process) on the
// embedded PostgreSQL in a temporary folder, run twice in one go, first with 100 accounts (a
// fresh folder and server), then with N (default 10,000), under the same load:
//   the book   N accounts opened in bulk (`POST /api/v1/accounts/bulk`; one by one when the server
//              has no bulk endpoint) under eight shipped presets, each at its preset's size, all
//              `execution: "external"`; 2–3 positions each (fills through `POST /api/v1/executions`)
//              over nine symbols; every 100th account a "breach account", long the crash symbol,
//              sized from its view so that one step of the scripted fall takes it through its
//              highest floor (see firm-book.ts);
//   the load   for S seconds (default 30), after a warm-up: ticks on 10 symbols at 10 Hz each (one
//              POST a tick), intents at 500/s open loop over every account in turn (0.01 lots,
//              three entries to one partial exit; latency from each intent's scheduled send, so
//              a stall is not hidden), 20 overview dashboards
//              (a window of 100 rows) and 20 account-page dashboards (real socket.io-client; see
//              firm-dashboards.ts), and the fall: the crash symbol down 1% a step in 5 steps from
//              35% of the window on, one step every 10% of it, each a tick POST of its own;
//   after      the server's RSS; then (N only) SIGTERM and a start on the same folder, timed until
//              GET /api/health answers ok, and the accounts counted.
// Breach reaction: per breach account and dashboard that shows it (its account page, every
// overview), from the send of the step's tick that should take it through a floor (or the last
// step sent before, when it went through earlier) to the dashboard's receipt of the lock-out,
// the breaker trip or the state change.
// CPU over the window (from /proc): the server, its PostgreSQL, this process, the whole machine.
// Where the slow decisions were: the window's half-seconds with the most intents over the
// decision goal, with the crash steps sent in or just before them (a burst of breaches or a stall).
// The server's event loop: a probe preloaded into it (monitorEventLoopDelay, 10 ms resolution,
// reset at the window's start, read at its end; the delay beyond the interval, as bench:stream);
// its /api/metrics figure (since its start) is printed too.
// Prints figures, a table against the goals, and as its last line one JSON object with
// `accounts`, `decision_p50_ms`, `decision_p99_ms`, `decision_p99_ratio_vs_100`, `loop_p99_ms`,
// `breach_reaction_p99_ms`, `overview_kb_per_s`, `account_page_kb_per_s` (the busiest dashboard
// of its kind; kB = 1,000 bytes), `overview_join_ms` (the slowest of the 20), `bulk_open_per_s`,
// `rss_mb`, `restart_healthy_s`, `server_cpu_pct`, `machine_busy_pct`, and more. A figure that could not be measured is null and why is
// printed. `--quick`: 200 accounts, 5 s, for development.
// Needs a production build: `NEXT_TELEMETRY_DISABLED=1 npx next build`, or into a folder of its
// own with RISKGATE_NEXT_DIST_DIR=.next-firm (set it for this script too: the server reads it).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { BookAccount, BreachPlan } from "./firm-book";
import { CRASH_STEPS, CRASH_SYMBOL, PRICES, SYMBOLS, bookOf, crashPrice, expectedSteps, minimumOrder, openBook, ordinaryFills, planBreaches, postFills } from "./firm-book";
import { Dashboard } from "./firm-dashboards";
import type { Answer } from "./http-client";
import { HttpClient, bodyOf } from "./http-client";
import type { ServerProcess } from "./support";
import { ROOT, TOKEN, cleanUp, cleanups, cpuSpent, embeddedPostmasterPid, fixed, machineCpu, postgresCpu, procStat, quantile, runBenchmark, startServerProcess } from "./support";

const argument = (name: string) => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
};
const QUICK = process.argv.includes("--quick");
const ACCOUNTS = Number(argument("--accounts") ?? (QUICK ? 200 : 10_000));
const SECONDS = Number(argument("--seconds") ?? (QUICK ? 5 : 30));
const BASELINE_ACCOUNTS = 100;
if (!Number.isInteger(ACCOUNTS) || ACCOUNTS < 1 || ACCOUNTS > 100_000) throw new Error("--accounts takes an integer from 1 to 100,000");
if (!(SECONDS >= 1 && SECONDS <= 600)) throw new Error("--seconds takes a number from 1 to 600");

const INTENTS_PER_SEC = 500;
const TICK_HZ = 10;
/** Connections the load may hold open: intents (open loop, the rest wait in order), ticks. */
const INTENT_CONNECTIONS = 128;
const TICK_CONNECTIONS = 16;
const OVERVIEW_DASHBOARDS = 20;
const ACCOUNT_DASHBOARDS = 20;
const WARMUP_MS = QUICK ? 1_000 : 3_000;
/** After the window: how long late answers and breach receipts may still arrive. */
const DRAIN_MS = 5_000;
/** Bounds on the slow steps, so that a slow server gives a report, not a hang. */
const SETUP_TIMEOUT_MS = 15 * 60_000;
const JOIN_TIMEOUT_MS = 60_000;
const HEALTH_TIMEOUT_MS = 180_000;
const RESOLUTION_MS = 10;
const GOALS = {
  decisionP99Ms: 10,
  ratio: 1.5,
  loopP99Ms: 20,
  breachP99Ms: 250,
  overviewKbPerSec: 64,
  accountKbPerSec: 8,
  overviewJoinMs: 1_000,
  bulkOpenPerSec: 2_000,
  rssMb: 2_000,
  restartS: 15,
};
const DIST_DIR = process.env.RISKGATE_NEXT_DIST_DIR ?? ".next";

/** Loaded into the server with `--import`: its event-loop delay since the last SIGUSR2, printed on SIGUSR2 (as bench:stream). */
const LOOP_PROBE = `data:text/javascript,${encodeURIComponent(`
import { monitorEventLoopDelay } from "node:perf_hooks";
const loop = monitorEventLoopDelay({ resolution: ${RESOLUTION_MS} });
loop.enable();
process.on("SIGUSR2", () => {
  const ms = (ns) => ns / 1e6;
  process.stdout.write("BENCH_LOOP " + JSON.stringify({ p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max), samples: loop.count }) + "\\n");
  loop.reset();
});`)}`;

type LoopFigures = { p50: number; p99: number; max: number; samples: number };

type Server = ServerProcess & { loop: () => Promise<LoopFigures> };

async function startServer(env: Record<string, string>): Promise<Server> {
  const server = await startServerProcess(env, ["--import", LOOP_PROBE]);
  const waiting: ((figures: LoopFigures) => void)[] = [];
  let partial = "";
  server.child.stdout!.on("data", (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split("\n");
    partial = lines.pop()!;
    for (const line of lines) if (line.startsWith("BENCH_LOOP ")) waiting.shift()?.(JSON.parse(line.slice("BENCH_LOOP ".length)) as LoopFigures);
  });
  const loop = () =>
    new Promise<LoopFigures>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the server's loop probe did not answer")), 10_000);
      waiting.push((figures) => {
        clearTimeout(timer);
        resolve(figures);
      });
      server.child.kill("SIGUSR2");
    });
  return { ...server, loop };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no end after ${ms / 1_000} s`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function check(answer: Answer, what: string, status = 200): void {
  if (answer.status !== status) throw new Error(`${what}: ${answer.status} ${answer.body.slice(0, 300)}`);
}

/** The server's RSS and peak RSS in MB, from /proc. */
function memoryOf(pid: number): { rssMb: number; peakMb: number } | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
    return { rssMb: fixed(kb("VmRSS") / 1_024, 0), peakMb: fixed(kb("VmHWM") / 1_024, 0) };
  } catch {
    return null;
  }
}

async function metricsLoopP99Ms(client: HttpClient): Promise<number | null> {
  const text = (await client.request("GET", "/api/metrics")).body;
  const value = /^riskgate_event_loop_delay_seconds\{quantile="0\.99"\} (\S+)$/m.exec(text)?.[1];
  return value === undefined ? null : fixed(Number(value) * 1_000);
}

// --- the load --------------------------------------------------------------------------------

/**
 * At most `width` requests in flight (each on a keep-alive connection of its own), the rest
 * waiting here in order: when the server falls behind, an open loop with no bound would open a
 * connection per waiting request (thousands), overflow the server's accept queue and stall this
 * process. A waiting request's latency still counts from its scheduled send.
 */
class BoundedClient {
  private readonly client: HttpClient;
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    port: number,
    private readonly width: number,
  ) {
    this.client = new HttpClient(port, TOKEN);
  }

  async request(method: string, route: string, body?: unknown): Promise<Answer> {
    if (this.inFlight >= this.width) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.inFlight++;
    try {
      return await this.client.request(method, route, body);
    } finally {
      this.inFlight--;
      this.waiting.shift()?.();
    }
  }

  close(): void {
    this.client.close();
  }
}

/**
 * Intents at INTENTS_PER_SEC and ticks at TICK_HZ on each symbol, each sent at its scheduled time
 * (or as soon after as this loop can), until `stop`. Intent latencies are kept for those
 * scheduled inside the window.
 */
class Driver {
  private readonly startedAt = performance.now() + 5;
  private intents = 0;
  private ticks = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private windowFrom = Infinity;
  private windowTo = Infinity;
  private readonly pending = new Map<number, number>();
  readonly latenciesMs: number[] = [];
  /** Each latency's scheduled send (performance.now()), in the same order. */
  readonly scheduledAt: number[] = [];
  readonly outcomes = new Map<string, number>();
  tickFailures = 0;
  /** Measured intents whose connection failed (not in the latencies). */
  failed = 0;
  ticksSent = 0;
  maxSendLagMs = 0;
  /** The crash symbol's step (0 before the fall). */
  crashStep = 0;
  /** When each step's tick was sent (index: step). */
  readonly crashSentAt: number[] = [];

  /** Intents and the feed's ticks on connections of their own, as a strategy and a feed would be. */
  private readonly intentClient: BoundedClient;
  private readonly tickClient: BoundedClient;

  constructor(
    private readonly port: number,
    private readonly book: BookAccount[],
    private readonly label: string,
  ) {
    this.intentClient = new BoundedClient(port, INTENT_CONNECTIONS);
    this.tickClient = new BoundedClient(port, TICK_CONNECTIONS);
  }

  start(): void {
    this.timer = setTimeout(() => this.step(), 5);
  }

  window(fromMs: number, toMs: number): void {
    this.windowFrom = fromMs;
    this.windowTo = toMs;
  }

  /** Stops sending; answers still missing after `drainMs` count with their wait so far. */
  async stop(drainMs: number): Promise<{ unanswered: number }> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    cleanups.push(() => {
      this.intentClient.close();
      this.tickClient.close();
    });
    const until = performance.now() + drainMs;
    while (this.pending.size > 0 && performance.now() < until) await sleep(20);
    const now = performance.now();
    for (const scheduled of this.pending.values()) {
      this.latenciesMs.push(now - scheduled);
      this.scheduledAt.push(scheduled);
    }
    const unanswered = this.pending.size;
    this.pending.clear();
    return { unanswered };
  }

  /** The crash symbol's next step, in a tick POST of its own; when it was sent. */
  crash(step: number): void {
    this.crashStep = step;
    // On a connection of its own: a kept-alive one idle for a while may be closing at the server.
    const client = new HttpClient(this.port, TOKEN);
    this.crashSentAt[step] = performance.now();
    client
      .request("POST", "/api/v1/market", { ticks: [{ symbol: CRASH_SYMBOL, price: crashPrice(step) }] })
      .then(
        (answer) => answer.status !== 200 && console.error(`the fall's step ${step} was refused: ${answer.status} ${answer.body.slice(0, 200)}`),
        (error: unknown) => console.error(`the fall's step ${step}: ${(error as Error).message}`),
      )
      .finally(() => client.close());
  }

  private step(): void {
    if (this.stopped) return;
    const now = performance.now();
    const intentDue = (n: number) => this.startedAt + (n * 1_000) / INTENTS_PER_SEC;
    const tickDue = (m: number) => this.startedAt + (m * 1_000) / (TICK_HZ * SYMBOLS.length);
    for (; intentDue(this.intents) <= now; this.intents++) this.sendIntent(this.intents, intentDue(this.intents), now);
    for (; tickDue(this.ticks) <= now; this.ticks++) this.sendTick(this.ticks);
    this.timer = setTimeout(() => this.step(), Math.max(0, Math.min(intentDue(this.intents), tickDue(this.ticks)) - performance.now()));
  }

  private sendIntent(n: number, scheduled: number, now: number): void {
    const account = this.book[n % this.book.length]!;
    const k = Math.floor(n / this.book.length) % account.symbols.length;
    const symbol = account.symbols[k]!;
    // Entries of either side; one intent in four an exit of part of the position held.
    const close = n % 4 === 3;
    const side = close ? (account.sides[k] === "BUY" ? "SELL" : "BUY") : n % 2 === 0 ? "BUY" : "SELL";
    const measured = scheduled >= this.windowFrom && scheduled < this.windowTo;
    if (measured) {
      this.maxSendLagMs = Math.max(this.maxSendLagMs, now - scheduled);
      this.pending.set(n, scheduled);
    }
    this.intentClient
      .request("POST", "/api/v1/intents", {
        intentId: `firm-${this.label}-${process.pid}-${n}`,
        accountId: account.accountId,
        symbol,
        action: close ? "CLOSE" : "OPEN",
        side,
        quantity: minimumOrder(symbol),
        provenance: { runId: "bench-firm", strategyId: "bench-firm", regimeId: "bench" },
      })
      .then(
        (answer) => {
          if (measured && this.pending.delete(n)) {
            this.latenciesMs.push(performance.now() - scheduled);
            this.scheduledAt.push(scheduled);
          }
          if (!measured) return;
          let key = `HTTP ${answer.status}`;
          if (answer.status === 200) {
            const { decision } = bodyOf("submitIntent", answer);
            key = decision.outcome === "allowed" ? "allowed" : `denied by ${decision.guard}`;
          }
          this.outcomes.set(key, (this.outcomes.get(key) ?? 0) + 1);
        },
        () => {
          // The connection closed under the request (the server's keep-alive timeout on an idle
          // one, or the server went away): no answer to time; counted apart.
          if (!measured) return;
          this.pending.delete(n);
          this.failed++;
          this.outcomes.set("failed (connection closed)", (this.outcomes.get("failed (connection closed)") ?? 0) + 1);
        },
      );
  }

  private sendTick(m: number): void {
    const symbol = SYMBOLS[m % SYMBOLS.length]!;
    const base = symbol === CRASH_SYMBOL ? crashPrice(this.crashStep) : PRICES[symbol]!;
    // A wobble of at most 0.05%: nowhere near a floor for the ordinary accounts.
    const price = Number((base * (1 + 0.0005 * Math.sin(m * 0.37))).toPrecision(8));
    this.ticksSent++;
    this.tickClient.request("POST", "/api/v1/market", { ticks: [{ symbol, price }] }).then(
      (answer) => answer.status !== 200 && this.tickFailures++,
      () => this.tickFailures++,
    );
  }
}

// --- one run ---------------------------------------------------------------------------------

type Run = {
  accounts: number;
  openedHow: string;
  openSeconds: number;
  bulkOpenPerSec: number;
  fills: number;
  setupSeconds: number;
  decision: { p50: number; p99: number; p999: number; max: number; answered: number; unanswered: number; maxSendLagMs: number };
  outcomes: string;
  ticks: { sent: number; failed: number };
  loop: { p50: number; p99: number; max: number } | null;
  metricsLoopP99Ms: number | null;
  benchLoopP99Ms: number;
  breach: { expected: number; onServer: number; observed: number; samples: number; lowerBounds: number; p50: number | null; p99: number | null; max: number | null; missed: string[] };
  overviewKbPerSec: { max: number; mean: number } | null;
  accountKbPerSec: { max: number; mean: number } | null;
  overviewJoinMs: { max: number | null; p50: number | null; failed: number };
  accountJoinMs: { max: number | null; failed: number };
  memory: { rssMb: number; peakMb: number } | null;
  restart: { healthySeconds: number; accountsAfter: number | null } | null;
  /** CPU over the window, in % of one CPU (the machine: % of all its CPUs). */
  cpu: { serverPct: number; postgresPct: number | null; clientPct: number; machinePct: number };
};

async function run(label: string, accounts: number, restart: boolean, env: Record<string, string>): Promise<Run> {
  const section = cleanups.length;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `riskgate-bench-firm-${label}-`));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const serverEnv = { ...env, RISKGATE_DATA_DIR: path.join(dir, "data") };
  const server = await startServer(serverEnv);
  cleanups.push(() => server.stop());
  const client = new HttpClient(server.port, TOKEN);
  cleanups.push(() => client.close());
  console.log(`${label}: server up on port ${server.port} (pid ${server.child.pid}); opening ${accounts} accounts`);

  // --- the book ---
  const setupStarted = performance.now();
  check(await client.request("POST", "/api/v1/market", { ticks: SYMBOLS.map((symbol) => ({ symbol, price: PRICES[symbol]! })) }), "first prices");
  const book = bookOf(accounts);
  const openStarted = performance.now();
  const openedHow = await within(SETUP_TIMEOUT_MS, "opening the accounts", openBook(client, book));
  const openSeconds = (performance.now() - openStarted) / 1_000;
  console.log(`${label}: ${accounts} accounts opened ${openedHow} in ${fixed(openSeconds, 2)} s (${Math.round(accounts / openSeconds)}/s)`);
  const fills = ordinaryFills(book);
  await within(SETUP_TIMEOUT_MS, "the positions' fills", postFills(client, fills));
  const { fills: crashFills, plans } = await within(SETUP_TIMEOUT_MS, "reading the breach accounts", planBreaches(client, book));
  await within(SETUP_TIMEOUT_MS, "the crash positions' fills", postFills(client, crashFills));
  await within(SETUP_TIMEOUT_MS, "reading the breach accounts again", expectedSteps(client, plans));
  const setupSeconds = (performance.now() - setupStarted) / 1_000;
  const steps = plans.map((plan) => plan.expectedStep);
  console.log(
    `${label}: ${fills.length + crashFills.length} fills; ${plans.length} breach accounts long ${CRASH_SYMBOL}, expected through a floor at steps ${[...new Set(steps)].sort().join(", ")}; setup ${fixed(setupSeconds, 1)} s`,
  );

  // --- the load, the dashboards joining under it ---
  const driver = new Driver(server.port, book, label);
  driver.start();
  let stopped = false;
  cleanups.push(() => void (stopped || driver.stop(0)));
  const breachIds = new Set(plans.map((plan) => plan.accountId));
  const url = `http://127.0.0.1:${server.port}`;
  // Account pages: the breach accounts first, then ordinary ones spread over the book.
  const pageAccounts = [...plans.map((plan) => plan.accountId)];
  for (let index = 0; pageAccounts.length < ACCOUNT_DASHBOARDS && index < book.length; index += Math.max(1, Math.floor(book.length / ACCOUNT_DASHBOARDS))) {
    if (!book[index]!.breach) pageAccounts.push(book[index]!.accountId);
  }
  const dashboards = [
    ...Array.from({ length: OVERVIEW_DASHBOARDS }, () => new Dashboard(url, "overview", null, breachIds)),
    ...pageAccounts.slice(0, ACCOUNT_DASHBOARDS).map((accountId) => new Dashboard(url, "account", accountId, breachIds)),
  ];
  cleanups.push(() => dashboards.forEach((dashboard) => dashboard.close()));
  const joins = await Promise.allSettled(dashboards.map((dashboard) => dashboard.ready(JOIN_TIMEOUT_MS)));
  const joinErrors = new Set(joins.flatMap((join) => (join.status === "rejected" ? [(join.reason as Error).message] : [])));
  for (const error of joinErrors) console.log(`${label}: ${error}`);
  const reportProblems = () => {
    const problems = new Set(dashboards.flatMap((dashboard) => dashboard.problems));
    for (const problem of problems) console.log(`${label}: a dashboard was told: ${problem}`);
  };
  const overviews = dashboards.filter((dashboard) => dashboard.kind === "overview");
  const pages = dashboards.filter((dashboard) => dashboard.kind === "account");
  const joinTimes = (list: Dashboard[]) => Float64Array.from(list.flatMap((dashboard) => (dashboard.joinMs === null ? [] : [dashboard.joinMs]))).sort();
  const overviewJoins = joinTimes(overviews);
  const pageJoins = joinTimes(pages);
  console.log(
    `${label}: dashboards joined under load: overview first rows p50 ${fixed(quantile(overviewJoins, 0.5))} ms, slowest ${fixed(overviewJoins[overviewJoins.length - 1] ?? NaN)} ms ` +
      `(${overviews.length - overviewJoins.length} without rows); account pages slowest ${fixed(pageJoins[pageJoins.length - 1] ?? NaN)} ms (${pages.length - pageJoins.length} without a view)`,
  );
  await sleep(WARMUP_MS);

  // --- the window ---
  await server.loop(); // opens the server's loop window
  const benchLoop = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  benchLoop.enable();
  const bytesBefore = dashboards.map((dashboard) => dashboard.bytes);
  // CPU over the window: the server, its PostgreSQL, this process (the load and the dashboards), the machine.
  const postmaster = embeddedPostmasterPid(serverEnv.RISKGATE_DATA_DIR);
  const cpuBefore = { server: procStat(server.child.pid!)?.cpuMs ?? 0, postgres: postgresCpu(postmaster), client: process.cpuUsage(), machine: machineCpu() };
  const windowFrom = performance.now();
  const windowMs = SECONDS * 1_000;
  driver.window(windowFrom, windowFrom + windowMs);
  const crashTimers = Array.from({ length: CRASH_STEPS }, (_, k) =>
    setTimeout(() => {
      if (k === 0) dashboards.forEach((dashboard) => (dashboard.watching = true));
      driver.crash(k + 1);
    }, windowMs * (0.35 + 0.1 * k)),
  );
  cleanups.push(() => crashTimers.forEach(clearTimeout));
  await sleep(windowMs);
  const windowSeconds = (performance.now() - windowFrom) / 1_000;
  const machineAfter = machineCpu();
  const cpu = {
    serverPct: fixed((((procStat(server.child.pid!)?.cpuMs ?? 0) - cpuBefore.server) / (windowSeconds * 1_000)) * 100, 0),
    postgresPct: postmaster === null ? null : fixed((cpuSpent(cpuBefore.postgres, postgresCpu(postmaster)) / (windowSeconds * 1_000)) * 100, 0),
    clientPct: fixed((((process.cpuUsage(cpuBefore.client).user + process.cpuUsage(cpuBefore.client).system) / 1_000) / (windowSeconds * 1_000)) * 100, 0),
    machinePct: fixed(((machineAfter.busyMs - cpuBefore.machine.busyMs) / (machineAfter.totalMs - cpuBefore.machine.totalMs)) * 100, 0),
  };
  benchLoop.disable();
  const bytesAfter = dashboards.map((dashboard) => dashboard.bytes);
  const loop = await server.loop().catch((error: unknown) => {
    console.log(`${label}: ${(error as Error).message}`);
    return null;
  });
  const { unanswered } = await driver.stop(DRAIN_MS);
  stopped = true;
  const metricsLoop = await metricsLoopP99Ms(client).catch(() => null);
  const memory = memoryOf(server.child.pid!);

  // --- figures ---
  const latencies = Float64Array.from(driver.latenciesMs).sort();
  const decision = {
    p50: fixed(quantile(latencies, 0.5)),
    p99: fixed(quantile(latencies, 0.99)),
    p999: fixed(quantile(latencies, 0.999)),
    max: fixed(latencies[latencies.length - 1] ?? NaN),
    answered: latencies.length - unanswered,
    unanswered,
    maxSendLagMs: fixed(driver.maxSendLagMs),
  };
  const outcomes = [...driver.outcomes].sort((a, b) => b[1] - a[1]).map(([key, count]) => `${key} ${count}`).join(", ");
  const rate = (list: Dashboard[]) => {
    const perSecond = list.map((dashboard) => (bytesAfter[dashboards.indexOf(dashboard)]! - bytesBefore[dashboards.indexOf(dashboard)]!) / 1_000 / windowSeconds);
    return perSecond.length === 0 ? null : { max: fixed(Math.max(...perSecond)), mean: fixed(perSecond.reduce((sum, value) => sum + value, 0) / perSecond.length) };
  };

  // What the server says about the breach accounts now.
  const outOnServer = new Set<string>();
  for (const plan of plans) {
    const answer = await client.request("GET", `/api/v1/accounts/${plan.accountId}`);
    if (answer.status === 200 && bodyOf("getAccount", answer).account.tradingState !== "ACTIVE") outOnServer.add(plan.accountId);
  }
  const breach = breachFigures(plans, dashboards, driver.crashSentAt, outOnServer);
  const onServer = outOnServer.size;
  const notActiveBefore = plans.filter((plan) => plan.stateBeforeFall !== "ACTIVE").length;

  console.log(
    `${label}: window ${fixed(windowSeconds, 1)} s: ${decision.answered} intents answered (${Math.round(decision.answered / windowSeconds)}/s of ${INTENTS_PER_SEC}/s offered)` +
      `${unanswered > 0 ? `, ${unanswered} unanswered ${DRAIN_MS / 1_000} s after the window (counted with their wait so far)` : ""}` +
      `${driver.failed > 0 ? `, ${driver.failed} lost with their connection (not counted)` : ""}; ` +
      `decision latency from the scheduled send p50 ${decision.p50} ms, p99 ${decision.p99} ms, p99.9 ${decision.p999} ms, max ${decision.max} ms (sender lag up to ${decision.maxSendLagMs} ms)`,
  );
  console.log(`${label}:   ${outcomes}`);
  console.log(`${label}:   ${slowestSpans(driver, windowFrom)}`);
  console.log(
    `${label}:   CPU over the window: server ${cpu.serverPct}% of one CPU, its PostgreSQL ${cpu.postgresPct ?? "?"}%, this process (load, dashboards) ${cpu.clientPct}%; ` +
      `the machine ${cpu.machinePct}% busy of ${os.cpus().length} CPUs`,
  );
  console.log(`${label}:   ticks: ${driver.ticksSent} sent over the run (${TICK_HZ} Hz x ${SYMBOLS.length} symbols), ${driver.tickFailures} failed`);
  if (loop) {
    console.log(
      `${label}:   server event loop over the window (beyond the ${RESOLUTION_MS} ms interval): p50 ${excess(loop.p50)} ms, p99 ${excess(loop.p99)} ms, max ${excess(loop.max)} ms; /api/metrics p99 since start ${metricsLoop ?? "?"} ms`,
    );
  }
  console.log(
    `${label}:   breaches: ${breach.expected} accounts planned, ${onServer} out of ACTIVE on the server, ${breach.observed} seen by a dashboard; ${breach.samples} receipts, ` +
      `reaction p50 ${breach.p50 ?? "-"} ms, p99 ${breach.p99 ?? "-"} ms, max ${breach.max ?? "-"} ms` +
      `${breach.lowerBounds > 0 ? ` (${breach.lowerBounds} of them lower bounds: account pages that never received a breach the server shows, counted with their wait so far)` : ""}` +
      `${notActiveBefore > 0 ? `; ${notActiveBefore} were not ACTIVE before the fall (a setup error)` : ""}${breach.missed.length > 0 ? `; never seen: ${breach.missed.slice(0, 5).join(", ")}${breach.missed.length > 5 ? "…" : ""}` : ""}`,
  );
  const overviewRate = rate(overviews);
  const accountRate = rate(pages);
  console.log(
    `${label}:   this process's event loop (load and dashboards) over the window, beyond the interval: p99 ${excess(benchLoop.percentile(99) / 1e6)} ms, max ${excess(benchLoop.max / 1e6)} ms (${benchLoop.count} samples)`,
  );
  console.log(
    `${label}:   received per dashboard: overview mean ${overviewRate?.mean ?? "-"} kB/s, busiest ${overviewRate?.max ?? "-"} kB/s; account page mean ${accountRate?.mean ?? "-"} kB/s, busiest ${accountRate?.max ?? "-"} kB/s`,
  );
  if (memory) console.log(`${label}:   server RSS ${memory.rssMb} MB (peak ${memory.peakMb} MB)`);

  reportProblems();
  dashboards.forEach((dashboard) => dashboard.close());

  // --- restart on the same folder ---
  let restartFigures: Run["restart"] = null;
  if (restart) restartFigures = await restartOn(label, serverEnv, accounts, async () => {
    client.close();
    await server.stop();
  });
  await cleanUp(section);

  return {
    accounts,
    openedHow,
    openSeconds: fixed(openSeconds, 2),
    bulkOpenPerSec: Math.round(accounts / openSeconds),
    fills: fills.length + crashFills.length,
    setupSeconds: fixed(setupSeconds, 1),
    decision,
    outcomes,
    ticks: { sent: driver.ticksSent, failed: driver.tickFailures },
    loop: loop ? { p50: excess(loop.p50), p99: excess(loop.p99), max: excess(loop.max) } : null,
    metricsLoopP99Ms: metricsLoop,
    benchLoopP99Ms: excess(benchLoop.percentile(99) / 1e6),
    breach: { ...breach, onServer },
    overviewKbPerSec: overviewRate,
    accountKbPerSec: accountRate,
    overviewJoinMs: { max: overviewJoins.length ? fixed(overviewJoins[overviewJoins.length - 1]!) : null, p50: overviewJoins.length ? fixed(quantile(overviewJoins, 0.5)) : null, failed: overviews.length - overviewJoins.length },
    accountJoinMs: { max: pageJoins.length ? fixed(pageJoins[pageJoins.length - 1]!) : null, failed: pages.length - pageJoins.length },
    memory,
    restart: restartFigures,
    cpu,
  };
}

/**
 * SIGTERM to the server (it stops its PostgreSQL), then a new server on the same folder, timed
 * from its spawn until GET /api/health answers ok; then the accounts it holds are counted. A
 * failure is printed and gives no figure (the run's other figures stand).
 */
async function restartOn(label: string, serverEnv: Record<string, string>, accounts: number, stopFirst: () => Promise<void>): Promise<Run["restart"]> {
  const section = cleanups.length;
  try {
    await stopFirst();
    const started = performance.now();
    const server = await startServer(serverEnv);
    cleanups.push(() => server.stop());
    const client = new HttpClient(server.port, TOKEN);
    cleanups.push(() => client.close());
    const deadline = started + HEALTH_TIMEOUT_MS;
    let healthySeconds: number | null = null;
    while (performance.now() < deadline) {
      const answer = await client.request("GET", "/api/health").catch(() => null);
      if (answer?.status === 200 && bodyOf("health", answer).status === "ok") {
        healthySeconds = (performance.now() - started) / 1_000;
        break;
      }
      await sleep(100);
    }
    if (healthySeconds === null) throw new Error(`not healthy after ${HEALTH_TIMEOUT_MS / 1_000} s`);
    const accountsAfter = await countAccounts(client);
    console.log(
      `${label}: restart on the same folder: healthy ${fixed(healthySeconds, 2)} s after the new process was spawned (GET /api/health ok); ${accountsAfter ?? "?"} accounts loaded` +
        (accountsAfter === accounts ? "" : ` (MISSING: ${accounts} were open)`),
    );
    return { healthySeconds: fixed(healthySeconds, 2), accountsAfter };
  } catch (error) {
    console.log(`${label}: restart FAILED: ${(error as Error).message}`);
    return null;
  } finally {
    await cleanUp(section);
  }
}

const excess = (ms: number) => fixed(Math.max(0, ms - RESOLUTION_MS));

/**
 * Breach reaction samples: each (dashboard, breach account) receipt by a dashboard that shows the
 * account (its account page; every overview), measured from the send of the step's tick that
 * should take the account through its floor, or the last step sent before the receipt when that
 * came earlier.
 */
function breachFigures(plans: BreachPlan[], dashboards: Dashboard[], crashSentAt: number[], outOnServer: Set<string>) {
  const samples: number[] = [];
  const observed = new Set<string>();
  let lowerBounds = 0;
  const expected = new Map(plans.map((plan) => [plan.accountId, plan.expectedStep]));
  const now = performance.now();
  for (const dashboard of dashboards) {
    // An account page that never received the breach of its account which the server shows.
    const accountId = dashboard.accountId;
    if (dashboard.kind === "account" && accountId !== null && outOnServer.has(accountId) && !dashboard.breachesSeen.has(accountId)) {
      const step = Math.min(expected.get(accountId) ?? 1, crashSentAt.length - 1);
      if (step >= 1) {
        samples.push(now - crashSentAt[step]!);
        lowerBounds++;
      }
    }
    for (const [accountId, at] of dashboard.breachesSeen) {
      if (dashboard.kind === "account" && dashboard.accountId !== accountId) continue;
      let last = 0;
      for (let step = 1; step < crashSentAt.length; step++) if (crashSentAt[step]! <= at) last = step;
      if (last === 0) continue; // the dashboards watch from the first step on
      const step = Math.min(expected.get(accountId) ?? last, last);
      samples.push(at - crashSentAt[step]!);
      observed.add(accountId);
    }
  }
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number) => (sorted.length ? fixed(quantile(sorted, q)) : null);
  return {
    expected: plans.length,
    observed: observed.size,
    samples: samples.length,
    lowerBounds,
    p50: at(0.5),
    p99: at(0.99),
    max: sorted.length ? fixed(sorted[sorted.length - 1]!) : null,
    missed: plans.map((plan) => plan.accountId).filter((accountId) => !observed.has(accountId)),
  };
}

/** How many accounts the server holds: the overview's count when it has one, else the account list. */
async function countAccounts(client: HttpClient): Promise<number | null> {
  const overview = await client.request("GET", "/api/v1/overview?offset=0&limit=1");
  if (overview.status === 200) {
    return bodyOf("overview", overview).counts.total;
  }
  const list = await client.request("GET", "/api/v1/accounts");
  return list.status === 200 ? bodyOf("listAccounts", list).accounts.length : null;
}

// --- the report ------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (!fs.existsSync(path.join(ROOT, DIST_DIR, "BUILD_ID"))) {
    throw new Error(`no production build in ${DIST_DIR}: run \`RISKGATE_NEXT_DIST_DIR=${DIST_DIR} NEXT_TELEMETRY_DISABLED=1 npx next build\` first`);
  }
  const commit = (() => {
    try {
      return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
    } catch {
      return null;
    }
  })();
  console.log(
    `${os.cpus().length} CPUs, load average ${os.loadavg().map((load) => load.toFixed(2)).join(" ")}; this process (load, dashboards) shares them with the server; ` +
      `build ${DIST_DIR}, commit ${commit ?? "?"}; ${BASELINE_ACCOUNTS} then ${ACCOUNTS} accounts, ${SECONDS} s each`,
  );
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "riskgate-bench-firm-"));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const configFile = path.join(dir, "engine.json");
  // As bench:api: the throttle is lifted so that the rate limit does not answer instead of the chain.
  fs.writeFileSync(configFile, JSON.stringify({ guards: { throttle: { maxIntentsPerSecond: 1_000_000 } } }));
  const env = { RISKGATE_DEMO: "0", RISKGATE_ENGINE_CONFIG: configFile, RISKGATE_NEXT_DIST_DIR: DIST_DIR };

  const attempt = async (label: string, accounts: number, restart: boolean): Promise<Run | null> => {
    try {
      return await run(label, accounts, restart, env);
    } catch (error) {
      console.log(`${label}: FAILED: ${(error as Error).message}`);
      return null;
    }
  };
  const baseline = ACCOUNTS === BASELINE_ACCOUNTS ? null : await attempt(`${BASELINE_ACCOUNTS}`, BASELINE_ACCOUNTS, false);
  const firm = await attempt(`${ACCOUNTS}`, ACCOUNTS, true);
  const reference = ACCOUNTS === BASELINE_ACCOUNTS ? firm : baseline;
  const ratio = firm && reference && reference.decision.p99 > 0 ? fixed(firm.decision.p99 / reference.decision.p99) : null;

  const rows: [string, number | null, string, boolean | null][] = [
    ["decision p99 (ms)", firm?.decision.p99 ?? null, `<= ${GOALS.decisionP99Ms}`, firm ? firm.decision.p99 <= GOALS.decisionP99Ms : null],
    [`decision p99 vs ${BASELINE_ACCOUNTS} accounts`, ratio, `<= ${GOALS.ratio}`, ratio === null ? null : ratio <= GOALS.ratio],
    ["event loop p99 (ms)", firm?.loop?.p99 ?? null, `<= ${GOALS.loopP99Ms}`, firm?.loop ? firm.loop.p99 <= GOALS.loopP99Ms : null],
    ["breach reaction p99 (ms)", firm?.breach.p99 ?? null, `<= ${GOALS.breachP99Ms}`, firm?.breach.p99 == null ? null : firm.breach.p99 <= GOALS.breachP99Ms && firm.breach.missed.length === 0],
    ["overview kB/s (busiest)", firm?.overviewKbPerSec?.max ?? null, `<= ${GOALS.overviewKbPerSec}`, firm?.overviewKbPerSec ? firm.overviewKbPerSec.max <= GOALS.overviewKbPerSec : null],
    ["account page kB/s (busiest)", firm?.accountKbPerSec?.max ?? null, `<= ${GOALS.accountKbPerSec}`, firm?.accountKbPerSec ? firm.accountKbPerSec.max <= GOALS.accountKbPerSec : null],
    ["overview join (ms, slowest)", firm?.overviewJoinMs.max ?? null, `<= ${GOALS.overviewJoinMs}`, firm ? firm.overviewJoinMs.max !== null && firm.overviewJoinMs.failed === 0 && firm.overviewJoinMs.max <= GOALS.overviewJoinMs : null],
    ["bulk open (accounts/s)", firm?.bulkOpenPerSec ?? null, `>= ${GOALS.bulkOpenPerSec}`, firm ? firm.bulkOpenPerSec >= GOALS.bulkOpenPerSec : null],
    ["server RSS (MB)", firm?.memory?.rssMb ?? null, `<= ${GOALS.rssMb}`, firm?.memory ? firm.memory.rssMb <= GOALS.rssMb : null],
    ["restart to healthy (s)", firm?.restart?.healthySeconds ?? null, `<= ${GOALS.restartS}`, firm?.restart ? firm.restart.healthySeconds <= GOALS.restartS && firm.restart.accountsAfter === ACCOUNTS : null],
  ];
  console.log(`\nat ${ACCOUNTS} accounts (decision p99 at ${BASELINE_ACCOUNTS}: ${reference?.decision.p99 ?? "-"} ms):`);
  console.log(`  ${"figure".padEnd(32)} ${"measured".padStart(10)}  ${"goal".padEnd(9)} verdict`);
  for (const [name, value, goal, met] of rows) console.log(`  ${name.padEnd(32)} ${String(value ?? "-").padStart(10)}  ${goal.padEnd(9)} ${met === null ? "not measured" : met ? "met" : "MISSED"}`);
  if (!firm) process.exitCode = 1;

  console.log(
    JSON.stringify({
      bench: "firm",
      commit,
      seconds: SECONDS,
      accounts: ACCOUNTS,
      decision_p50_ms: firm?.decision.p50 ?? null,
      decision_p99_ms: firm?.decision.p99 ?? null,
      decision_p999_ms: firm?.decision.p999 ?? null,
      decision_p99_ratio_vs_100: ratio,
      decision_p99_at_100_ms: reference?.decision.p99 ?? null,
      intents_unanswered: firm?.decision.unanswered ?? null,
      loop_p99_ms: firm?.loop?.p99 ?? null,
      loop_p99_at_100_ms: reference?.loop?.p99 ?? null,
      bench_loop_p99_ms: firm?.benchLoopP99Ms ?? null,
      breach_reaction_p99_ms: firm?.breach.p99 ?? null,
      breach_reaction_p50_ms: firm?.breach.p50 ?? null,
      breaches_planned: firm?.breach.expected ?? null,
      breaches_on_server: firm?.breach.onServer ?? null,
      breaches_observed: firm?.breach.observed ?? null,
      overview_kb_per_s: firm?.overviewKbPerSec?.max ?? null,
      overview_kb_per_s_mean: firm?.overviewKbPerSec?.mean ?? null,
      account_page_kb_per_s: firm?.accountKbPerSec?.max ?? null,
      account_page_kb_per_s_mean: firm?.accountKbPerSec?.mean ?? null,
      overview_join_ms: firm?.overviewJoinMs.max ?? null,
      overview_join_p50_ms: firm?.overviewJoinMs.p50 ?? null,
      bulk_open_per_s: firm?.bulkOpenPerSec ?? null,
      open_mode: firm?.openedHow ?? null,
      rss_mb: firm?.memory?.rssMb ?? null,
      rss_peak_mb: firm?.memory?.peakMb ?? null,
      restart_healthy_s: firm?.restart?.healthySeconds ?? null,
      accounts_after_restart: firm?.restart?.accountsAfter ?? null,
      server_cpu_pct: firm?.cpu.serverPct ?? null,
      server_cpu_pct_at_100: reference?.cpu.serverPct ?? null,
      postgres_cpu_pct: firm?.cpu.postgresPct ?? null,
      machine_busy_pct: firm?.cpu.machinePct ?? null,
    }),
  );
}

runBenchmark(main);

/**
 * Where the slow decisions were: the window cut into half-seconds, the five with the most intents
 * over the decision goal, each with its count, its slowest, and the crash steps sent in it or just
 * before (so that a stall can be told from a breach burst).
 */
function slowestSpans(driver: Driver, windowFrom: number): string {
  const SPAN_MS = 500;
  const spans = new Map<number, { over: number; max: number }>();
  driver.latenciesMs.forEach((latency, i) => {
    if (latency <= GOALS.decisionP99Ms) return;
    const span = Math.floor((driver.scheduledAt[i]! - windowFrom) / SPAN_MS);
    const entry = spans.get(span) ?? { over: 0, max: 0 };
    entry.over++;
    entry.max = Math.max(entry.max, latency);
    spans.set(span, entry);
  });
  const over = [...spans.values()].reduce((sum, span) => sum + span.over, 0);
  const worst = [...spans].sort((a, b) => b[1].over - a[1].over).slice(0, 5);
  const steps = (span: number) =>
    driver.crashSentAt
      .map((at, step) => ({ at, step }))
      .filter(({ at }) => at !== undefined && at >= windowFrom + (span - 1) * SPAN_MS && at < windowFrom + (span + 1) * SPAN_MS)
      .map(({ step }) => `crash step ${step}`);
  return (
    `intents over ${GOALS.decisionP99Ms} ms: ${over} in ${spans.size} of the window's half-seconds; the worst: ` +
    (worst.map(([span, { over: count, max }]) => `${fixed((span * SPAN_MS) / 1_000, 1)} s ${count} (max ${fixed(max)} ms${steps(span).length > 0 ? `, ${steps(span).join(", ")}` : ""})`).join("; ") || "none")
  );
}
