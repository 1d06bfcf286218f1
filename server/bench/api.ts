// npm run bench:api — intents over HTTP on loopback, against the real server (`server/main.ts`,
// production build of Next, a child process) on PGlite, then on PostgreSQL (a fresh database on
// postgresql://postgres@127.0.0.1:5432, or BENCH_POSTGRES_URL; dropped afterwards; skipped when
// unreachable). The throttle is lifted so that the demo accounts' rate limit does not answer
// instead of the gate. Keep-alive connections, bearer token. A feed posts a EURUSD tick every
// 500 ms so that entries pass price sanity; intents are 3 entries to 1 exit, over the three demo
// accounts (no venue runs, so exits have nothing to close and are denied: decisions too).
//   Phase 1: open loop, 1,000 intents/s offered for 10 s; latency from each intent's scheduled
//            send time to its answer (no coordinated omission).
//   Phase 2: closed loop, C concurrent clients for 8 s each, C rising: the sustained rate.
// Before them, a floor: authenticated GETs of /api/v1/firm (Next's routing and auth, no database).
// Prints figures, and as its last line one JSON object:
// {"bench":"api.intents","p99_ms":…,"max_per_sec":…,…} (PGlite; postgres_* for PostgreSQL).
// BENCH_SERVER_NODE_ARGS go to the server's node (e.g. "--cpu-prof --cpu-prof-dir=/tmp/p");
// BENCH_DATABASES=pglite measures PGlite only; BENCH_OFFERED sets the open loop's rate (1,000/s).
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { ACCOUNTS, ROOT, cleanUp, cleanups, fixed, freshPostgresDatabase, quantile, runBenchmark, startServerProcess, TOKEN } from "./support";

const OFFERED_PER_SEC = Number(process.env.BENCH_OFFERED ?? 1_000);
const OPEN_LOOP_MS = 10_000;
const CLOSED_LOOP_MS = 8_000;
/** How long the open loop waits for answers after its last send; then for stragglers, before the next phase. */
const DRAIN_MS = 5_000;
const STRAGGLERS_MS = 10_000;
const FLOOR_MS = 3_000;
const CLIENTS = [16, 64];
/** Which databases to measure ("pglite,postgresql"). */
const DATABASES = (process.env.BENCH_DATABASES ?? "pglite,postgresql").split(",");
const TARGETS = { p99Ms: 5, perSec: 3_000 };



type Answer = { status: number; body: string };

/** HTTP over keep-alive connections to the server. */
class Client {
  private readonly agent: http.Agent;
  constructor(
    private readonly port: number,
    maxSockets: number,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  request(method: string, route: string, body?: unknown): Promise<Answer> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const request = http.request(
        {
          host: "127.0.0.1",
          port: this.port,
          path: route,
          method,
          agent: this.agent,
          headers: {
            authorization: `Bearer ${TOKEN}`,
            ...(payload === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("end", () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
          response.on("error", reject);
        },
      );
      request.on("error", reject);
      request.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Outcomes of the answers: allowed, denied by guard, or an HTTP status other than 200. */
class Outcomes {
  private readonly counts = new Map<string, number>();
  record(answer: Answer): void {
    let key = `HTTP ${answer.status}`;
    const { decision } = answer.status === 200 ? (JSON.parse(answer.body) as { decision?: { outcome: string; guard: string | null } }) : {};
    if (decision) key = decision.outcome === "allowed" ? "allowed" : `denied by ${decision.guard}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
  get errors(): number {
    return [...this.counts].filter(([key]) => key.startsWith("HTTP")).reduce((sum, [, count]) => sum + count, 0);
  }
  toString(): string {
    return [...this.counts].sort((a, b) => b[1] - a[1]).map(([key, count]) => `${key} ${count}`).join(", ");
  }
}

let intentCount = 0;
function nextIntent() {
  const n = intentCount++;
  return {
    intentId: `bench-${process.pid}-${n}`,
    accountId: ACCOUNTS[n % ACCOUNTS.length],
    symbol: "EURUSD",
    action: n % 4 === 3 ? "CLOSE" : "OPEN",
    side: Math.floor(n / 3) % 2 === 0 ? "BUY" : "SELL",
    quantity: 0.01,
    provenance: { runId: "bench", strategyId: "bench-api", regimeId: "bench" },
  };
}

/** Server-side figures from /api/metrics: ledger commits and the time inside them. */
async function ledgerMetrics(client: Client): Promise<{ commits: number; events: number; appendSeconds: number }> {
  const text = (await client.request("GET", "/api/metrics")).body;
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? NaN);
  return {
    commits: value("riskgate_ledger_append_seconds_count"),
    events: value("riskgate_ledger_events_appended_total"),
    appendSeconds: value("riskgate_ledger_append_seconds_sum"),
  };
}

async function describeCommits(client: Client, before: Awaited<ReturnType<typeof ledgerMetrics>>, seconds: number): Promise<string> {
  const after = await ledgerMetrics(client);
  const commits = after.commits - before.commits;
  return `server: ${Math.round(commits / seconds)} commits/s of ${fixed((after.events - before.events) / Math.max(1, commits), 1)} events, ${Math.round(((after.appendSeconds - before.appendSeconds) / seconds) * 100)}% of the time in append`;
}

/**
 * Offers `perSec` intents a second for `ms`, each sent at its scheduled time (or as soon after as
 * the loop can). Answers still missing DRAIN_MS after the last send count with their wait so far
 * (a lower bound) and as unanswered.
 */
async function openLoop(client: Client, perSec: number, ms: number) {
  const total = Math.round((perSec * ms) / 1_000);
  const latenciesMs: number[] = [];
  const outcomes = new Outcomes();
  const before = await ledgerMetrics(client);
  const startedAt = performance.now() + 5;
  const scheduled = (n: number) => startedAt + (n * 1_000) / perSec;
  const pending = new Set<number>();
  const requests: Promise<unknown>[] = [];
  let maxLagMs = 0;
  let answered = 0;
  await new Promise<void>((resolve, reject) => {
    let sent = 0;
    let deadline: NodeJS.Timeout | null = null;
    const send = () => {
      const now = performance.now();
      for (; sent < total && scheduled(sent) <= now; sent++) {
        const n = sent;
        maxLagMs = Math.max(maxLagMs, now - scheduled(n));
        pending.add(n);
        const request = client.request("POST", "/api/v1/intents", nextIntent()).then((answer) => {
          if (!pending.delete(n)) return;
          latenciesMs.push(performance.now() - scheduled(n));
          outcomes.record(answer);
          if (++answered === total) {
            if (deadline) clearTimeout(deadline);
            resolve();
          }
        }, reject);
        requests.push(request);
      }
      if (sent < total) setTimeout(send, Math.max(0, scheduled(sent) - performance.now()));
      else deadline = setTimeout(resolve, DRAIN_MS);
    };
    setTimeout(send, 5);
  });
  const endedAt = performance.now();
  for (const n of pending) latenciesMs.push(endedAt - scheduled(n));
  const unanswered = pending.size;
  pending.clear();
  // Stragglers would load the next phase: wait for them (at most STRAGGLERS_MS).
  await Promise.race([Promise.allSettled(requests), new Promise((resolve) => setTimeout(resolve, STRAGGLERS_MS))]);
  const seconds = (endedAt - startedAt) / 1_000;
  latenciesMs.sort((a, b) => a - b);
  return {
    offered: perSec,
    achieved: Math.round(answered / seconds),
    unanswered,
    p50: fixed(quantile(latenciesMs, 0.5)),
    p99: fixed(quantile(latenciesMs, 0.99)),
    p999: fixed(quantile(latenciesMs, 0.999)),
    max: fixed(latenciesMs[latenciesMs.length - 1]!),
    maxSendLagMs: fixed(maxLagMs),
    outcomes,
    commits: await describeCommits(client, before, seconds),
  };
}

/** `clients` callers sending intents (or `call`) back to back for `ms`. */
async function closedLoop(client: Client, clients: number, ms: number, call = () => client.request("POST", "/api/v1/intents", nextIntent())) {
  const latenciesMs: number[] = [];
  const outcomes = new Outcomes();
  const before = await ledgerMetrics(client);
  const startedAt = performance.now();
  const endAt = startedAt + ms;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < endAt) {
        const sentAt = performance.now();
        outcomes.record(await call());
        latenciesMs.push(performance.now() - sentAt);
      }
    }),
  );
  const seconds = (performance.now() - startedAt) / 1_000;
  latenciesMs.sort((a, b) => a - b);
  return {
    clients,
    perSec: Math.round(latenciesMs.length / seconds),
    p50: fixed(quantile(latenciesMs, 0.5)),
    p99: fixed(quantile(latenciesMs, 0.99)),
    outcomes,
    commits: await describeCommits(client, before, seconds),
  };
}

async function benchServer(label: string, env: Record<string, string>) {
  const server = await startServerProcess(env);
  cleanups.push(() => server.stop());
  const client = new Client(server.port, 256);
  cleanups.push(() => client.close());

  // The feed: a fresh EURUSD price every 500 ms (price sanity refuses prices older than 10 s).
  const tick = async () => {
    const answer = await client.request("POST", "/api/v1/market", { ticks: [{ symbol: "EURUSD", price: 1.085 }] });
    if (answer.status !== 200) throw new Error(`the tick was refused: ${answer.status} ${answer.body}`);
  };
  await tick();
  let feeding = true;
  const feed = setInterval(() => void tick().catch((error: unknown) => feeding && console.error(`feed: ${(error as Error).message}`)), 500);
  cleanups.push(() => {
    feeding = false;
    clearInterval(feed);
  });

  // Warm-up: the route handlers load and the JIT compiles before anything is measured.
  const warm = await closedLoop(client, 16, 2_000);
  if (warm.outcomes.errors > 0) throw new Error(`intents failed during warm-up: ${warm.outcomes}\n${server.output()}`);

  // The floor: an authenticated GET through Next's route handling that reads memory only.
  const floor = await closedLoop(client, 16, FLOOR_MS, () => client.request("GET", "/api/v1/firm"));
  console.log(`${label}: floor, GET /api/v1/firm (auth + Next routing, no database), 16 clients: ${floor.perSec}/s, p50 ${floor.p50} ms, p99 ${floor.p99} ms`);

  const open = await openLoop(client, OFFERED_PER_SEC, OPEN_LOOP_MS);
  console.log(
    `${label}: open loop, ${open.offered}/s offered for ${OPEN_LOOP_MS / 1_000} s: ${open.achieved}/s answered; latency from the scheduled send ` +
      `p50 ${open.p50} ms, p99 ${open.p99} ms, p99.9 ${open.p999} ms, max ${open.max} ms (sender lag up to ${open.maxSendLagMs} ms)` +
      (open.unanswered > 0 ? `; ${open.unanswered} unanswered ${DRAIN_MS / 1_000} s after the last send (counted with their wait so far)` : ""),
  );
  console.log(`  ${open.outcomes}; ${open.commits}`);

  const closed = [];
  for (const clients of CLIENTS) {
    const run = await closedLoop(client, clients, CLOSED_LOOP_MS);
    closed.push(run);
    console.log(`${label}: closed loop, ${String(clients).padStart(3)} clients: ${run.perSec}/s, answer p50 ${run.p50} ms, p99 ${run.p99} ms; ${run.commits}`);
    console.log(`  ${run.outcomes}`);
  }
  return { open, maxPerSec: Math.max(...closed.map((run) => run.perSec)) };
}

async function main(): Promise<void> {
  if (!fs.existsSync(path.join(ROOT, ".next", "BUILD_ID"))) throw new Error("no production build: run `NEXT_TELEMETRY_DISABLED=1 npx next build` first");
  console.log(`${os.cpus().length} CPUs, load average ${os.loadavg().map((load) => load.toFixed(2)).join(" ")} (this process's client shares them)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "riskgate-bench-api-"));
  process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
  const configFile = path.join(dir, "engine.json");
  fs.writeFileSync(configFile, JSON.stringify({ guards: { throttle: { maxIntentsPerSecond: 1_000_000 } } }));

  const onPglite = await benchServer("pglite", { RISKGATE_DATA_DIR: path.join(dir, "data"), RISKGATE_ENGINE_CONFIG: configFile });
  await cleanUp();

  let onPostgres: Awaited<ReturnType<typeof benchServer>> | null = null;
  const database = DATABASES.includes("postgresql") ? await freshPostgresDatabase() : { unreachable: "BENCH_DATABASES leaves it out" };
  if ("unreachable" in database) {
    console.log(`postgresql: skipped, ${database.unreachable}`);
  } else {
    onPostgres = await benchServer("postgresql", { DATABASE_URL: database.url, RISKGATE_DATA_DIR: path.join(dir, "unused"), RISKGATE_ENGINE_CONFIG: configFile });
    await cleanUp();
  }

  const verdict = (met: boolean) => (met ? "met" : "MISSED");
  console.log(
    `targets on PGlite: p99 at ${OFFERED_PER_SEC}/s ${onPglite.open.p99} ms (<= ${TARGETS.p99Ms} ms: ${verdict(onPglite.open.p99 <= TARGETS.p99Ms)}), ` +
      `sustained ${onPglite.maxPerSec}/s (>= ${TARGETS.perSec}/s: ${verdict(onPglite.maxPerSec >= TARGETS.perSec)})`,
  );
  console.log(
    JSON.stringify({
      bench: "api.intents",
      offered_per_sec: OFFERED_PER_SEC,
      achieved_per_sec: onPglite.open.achieved,
      p50_ms: onPglite.open.p50,
      p99_ms: onPglite.open.p99,
      p999_ms: onPglite.open.p999,
      max_ms: onPglite.open.max,
      max_per_sec: onPglite.maxPerSec,
      postgres_p99_ms: onPostgres?.open.p99 ?? null,
      postgres_p999_ms: onPostgres?.open.p999 ?? null,
      postgres_max_per_sec: onPostgres?.maxPerSec ?? null,
    }),
  );
}

runBenchmark(main);
