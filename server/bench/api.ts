// npm run bench:api — intents over HTTP on loopback against the real server (`server/main.ts`,
// production build of Next, a child process), next to a floor measured in the same run.
//   Riskgate, embedded: the default deployment: DATABASE_URL unset, RISKGATE_DATA_DIR a temporary
//     folder, so the server starts its own PostgreSQL 18 there (fsync and synchronous_commit on).
//   Floor, embedded: server/bench/floor.ts, a child process: plain node:http, the same body through
//     JSON.parse and the same zod Intent schema, appended to the same ledger table of a fresh
//     embedded PostgreSQL the same way (Ledger.append, one INSERT per group commit), answered after
//     the commit; no engine. Riskgate's figures are given as ratios to it.
//   Riskgate, PostgreSQL: a fresh database on postgresql://postgres@127.0.0.1:5432 (or
//     BENCH_POSTGRES_URL), dropped afterwards; skipped when unreachable.
// Riskgate and the floor run side by side and their phases alternate, so that both see the same
// background load (the machine is shared): compare the ratios of one run, not figures across runs.
// The throttle is lifted so that the demo accounts' rate limit does not answer instead of the
// gate. Keep-alive connections (a lean client, http-client.ts: this process shares the CPUs
// with the servers), bearer token. A feed posts a EURUSD tick every 500 ms so that
// entries pass price sanity; intents are 3 entries to 1 exit over the three demo accounts (no
// venue runs, so exits have nothing to close and are denied: decisions too).
//   Phase 1: open loop, BENCH_OFFERED intents/s (1,000) for 10 s; latency from each intent's
//            scheduled send time to its answer (no coordinated omission).
//   Phase 2: closed loop, C concurrent clients (BENCH_CLIENTS, "16,64,128") for 8 s each: the
//            sustained rate is the best of them.
// Where the time goes, per phase: a probe preloaded into each server (server/bench/probe.ts)
// times each request inside the process, `Runtime.submitIntent`, `Ledger.append` (the commit) and
// the batch's key lookup; /api/metrics gives the engine's decide time; /proc gives the CPU time
// of the server, of its PostgreSQL's processes, of this client and of the whole machine.
// Prints figures, and as its last line one JSON object:
// {"bench":"api.intents","p99_ms":…,"max_per_sec":…,"floor_p99_ms":…,"floor_per_sec":…,
//  "p99_ratio":…,"throughput_ratio":…,"postgres_p99_ms":…,…}; both ratios read "times worse
// than the floor": p99_ratio = Riskgate's p99 / the floor's, throughput_ratio = the floor's
// sustained rate / Riskgate's (goal: <= 1.5 each).
// BENCH_SERVER_NODE_ARGS go to the servers' node (e.g. "--cpu-prof --cpu-prof-dir=/tmp/p");
// BENCH_DATABASES ("embedded,postgresql") chooses the databases; BENCH_FLOOR=0 skips the floor;
// BENCH_OPEN_MS and BENCH_CLOSED_MS set the phases' lengths; BENCH_PROFILE=1 adds each server's
// CPU profile per phase, by place (see probe.ts).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Answer } from "./http-client";
import { HttpClient, bodyOf } from "./http-client";
import type { ProbeReport } from "./probe";
import type { ServerProcess } from "./support";
import { ACCOUNTS, ROOT, TOKEN, cleanUp, cleanups, cpuSpent, embeddedPostmasterPid, fixed, freshPostgresDatabase, machineCpu, postgresCpu, quantile, runBenchmark, startNodeProcess, startServerProcess } from "./support";

const OFFERED_PER_SEC = Number(process.env.BENCH_OFFERED ?? 1_000);
const OPEN_LOOP_MS = Number(process.env.BENCH_OPEN_MS ?? 10_000);
const CLOSED_LOOP_MS = Number(process.env.BENCH_CLOSED_MS ?? 8_000);
const CLIENTS = (process.env.BENCH_CLIENTS ?? "16,64,128").split(",").map(Number);
/** How long the open loop waits for answers after its last send; then for stragglers, before the next phase. */
const DRAIN_MS = 5_000;
const STRAGGLERS_MS = 10_000;
const WARMUP_MS = 3_000;
/** Which databases Riskgate runs on ("embedded,postgresql"); the floor runs on the embedded one. */
const DATABASES = (process.env.BENCH_DATABASES ?? "embedded,postgresql").split(",");
const WITH_FLOOR = process.env.BENCH_FLOOR !== "0";
const TARGETS = { p99Ms: 5, perSec: 3_000, ratio: 1.5 };
const PROBE = path.join(ROOT, "server", "bench", "probe.ts");

/** Outcomes of the answers: allowed or denied by a guard (Riskgate), recorded (the floor), or an HTTP status other than 200. */
class Outcomes {
  private readonly counts = new Map<string, number>();
  record(answer: Answer): void {
    let key = `HTTP ${answer.status}`;
    if (answer.status === 200) {
      // Intents answer a decision; fills and prices only what they recorded.
      const { decision } = bodyOf("submitIntent", answer) as Partial<ReturnType<typeof bodyOf<"submitIntent">>>;
      key = !decision ? "recorded" : decision.outcome === "allowed" ? "allowed" : `denied by ${decision.guard}`;
    }
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

// --- the servers -----------------------------------------------------------------------------

type Target = {
  label: string;
  riskgate: boolean;
  server: ServerProcess;
  client: HttpClient;
  /** The PostgreSQL this server writes to: its postmaster's pid (null: not on this machine). */
  postmaster: () => number | null;
  /** The probe's figures since the previous call. */
  probe: () => Promise<ProbeReport>;
};

/** Reads the probe's reports (one `BENCH_PROBE` line per SIGUSR2) from the server's output. */
function probeOf(server: ServerProcess): () => Promise<ProbeReport> {
  const waiting: ((report: ProbeReport) => void)[] = [];
  let partial = "";
  server.child.stdout!.on("data", (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split("\n");
    partial = lines.pop()!;
    for (const line of lines) if (line.startsWith("BENCH_PROBE ")) waiting.shift()?.(JSON.parse(line.slice("BENCH_PROBE ".length)) as ProbeReport);
  });
  return () =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the server's probe did not answer")), 10_000);
      waiting.push((report) => {
        clearTimeout(timer);
        resolve(report);
      });
      server.child.kill("SIGUSR2");
    });
}

async function startRiskgate(label: string, env: Record<string, string>, postmasterPid: number | null): Promise<Target> {
  const server = await startServerProcess(env, ["--import", PROBE]);
  cleanups.push(() => server.stop());
  const client = new HttpClient(server.port, TOKEN);
  cleanups.push(() => client.close());
  // The feed: a fresh EURUSD price every 500 ms (price sanity refuses prices older than 10 s).
  const tick = async () => {
    const answer = await client.request("POST", "/api/v1/market", { ticks: [{ symbol: "EURUSD", price: 1.085 }] });
    if (answer.status !== 200) throw new Error(`the tick was refused: ${answer.status} ${answer.body}`);
  };
  await tick();
  let feeding = true;
  const alive = () => server.child.exitCode === null && server.child.signalCode === null;
  const feed = setInterval(() => alive() && void tick().catch((error: unknown) => feeding && alive() && console.error(`feed: ${(error as Error).message}`)), 500);
  cleanups.push(() => {
    feeding = false;
    clearInterval(feed);
  });
  const dataDir = server.dataDir;
  return {
    label,
    riskgate: true,
    server,
    client,
    postmaster: () => (dataDir ? embeddedPostmasterPid(dataDir) : postmasterPid),
    probe: probeOf(server),
  };
}

async function startFloor(dataDir: string): Promise<Target> {
  const server = await startNodeProcess("server/bench/floor.ts", { FLOOR_TOKEN: TOKEN, FLOOR_DATA_DIR: dataDir, PORT: "0" }, ["--import", PROBE], /floor listening on http:\/\/127\.0\.0\.1:(\d+)/, dataDir);
  cleanups.push(() => server.stop());
  const client = new HttpClient(server.port, TOKEN);
  cleanups.push(() => client.close());
  return { label: "floor, embedded", riskgate: false, server, client, postmaster: () => embeddedPostmasterPid(dataDir), probe: probeOf(server) };
}

/** The engine's decide time (`riskgate_evaluation_seconds`) from /api/metrics. */
async function evaluationMetrics(target: Target): Promise<{ count: number; seconds: number }> {
  const text = (await target.client.request("GET", "/api/metrics")).body;
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? NaN);
  return { count: value("riskgate_evaluation_seconds_count"), seconds: value("riskgate_evaluation_seconds_sum") };
}

type Accounting = {
  probe: ProbeReport;
  decideMsPerIntent: number | null;
  serverCpuMs: number;
  postgresCpuMs: number | null;
  clientCpuMs: number;
  machine: { busyMs: number; totalMs: number };
};

/** Runs `work` with the server's probe, its PostgreSQL's and this process's CPU time, and the machine's, read around it. */
async function accounted<T>(target: Target, work: () => Promise<T>): Promise<T & { accounting: Accounting }> {
  const evaluationBefore = target.riskgate ? await evaluationMetrics(target) : null;
  await target.probe();
  const postmaster = target.postmaster();
  const postgresBefore = postgresCpu(postmaster);
  const clientBefore = process.cpuUsage();
  const machineBefore = machineCpu();
  const result = await work();
  const probe = await target.probe();
  const machineAfter = machineCpu();
  const client = process.cpuUsage(clientBefore);
  const postgresCpuMs = postmaster === null ? null : cpuSpent(postgresBefore, postgresCpu(postmaster));
  const evaluationAfter = evaluationBefore ? await evaluationMetrics(target) : null;
  const decided = evaluationAfter && evaluationBefore ? evaluationAfter.count - evaluationBefore.count : 0;
  return {
    ...result,
    accounting: {
      probe,
      decideMsPerIntent: evaluationAfter && evaluationBefore && decided > 0 ? ((evaluationAfter.seconds - evaluationBefore.seconds) * 1_000) / decided : null,
      serverCpuMs: probe.cpuUserMs + probe.cpuSystemMs,
      postgresCpuMs,
      clientCpuMs: (client.user + client.system) / 1_000,
      machine: { busyMs: machineAfter.busyMs - machineBefore.busyMs, totalMs: machineAfter.totalMs - machineBefore.totalMs },
    },
  };
}

/**
 * Where an intent's time goes: its mean time split between the client's side, the HTTP path and
 * the runtime (the key lookup, the engine, the commit); the CPU time per intent of the server,
 * its PostgreSQL, this client and everything else on the machine; with BENCH_PROFILE, the
 * server's wall time per intent by place.
 */
function describe(accounting: Accounting, answered: number, meanMs: number): string {
  const { probe } = accounting;
  const ms = (value: number) => `${fixed(value, 2)} ms`;
  const perSecond = (count: number) => Math.round(count / probe.seconds);
  const inside = probe.requests.meanMs;
  const parts = [`at the client ${ms(meanMs)} = outside the server process ${ms(Math.max(0, meanMs - inside))} (client, kernel, the wait for the server's event loop) + inside ${ms(inside)} (p50 ${ms(probe.requests.p50Ms)}, p99 ${ms(probe.requests.p99Ms)})`];
  const append = `append (commit) ${ms(probe.appends.meanMs)} each, p99 ${ms(probe.appends.p99Ms)}, ${perSecond(probe.appends.count)}/s of ${fixed(probe.appendedEvents / Math.max(1, probe.appends.count), 1)} events`;
  if (probe.intents.count > 0) {
    const runtime = probe.intents.meanMs;
    const lookup = probe.lookups.count > 0 ? `key lookup ${ms(probe.lookups.meanMs)} per batch (${perSecond(probe.lookups.count)}/s), ` : "";
    const decide = accounting.decideMsPerIntent === null ? "" : `engine decide ${ms(accounting.decideMsPerIntent)}, `;
    parts.push(`inside = HTTP path (body, auth, zod, Request/Response) ${ms(Math.max(0, inside - runtime))} + Runtime.submitIntent ${ms(runtime)} [${lookup}${decide}${append}; the rest: queue, the previous batch's commit, adopt]`);
  } else {
    parts.push(`inside = ${append}; the rest: HTTP, JSON.parse + zod, the wait for the batch`);
  }
  const cpu = (value: number) => `${fixed(value / Math.max(1, answered), 3)} ms`;
  const { machine } = accounting;
  const cpus = os.cpus().length;
  const known = accounting.serverCpuMs + (accounting.postgresCpuMs ?? 0) + accounting.clientCpuMs;
  const others = Math.max(0, machine.busyMs - known);
  parts.push(
    `CPU per intent: server ${cpu(accounting.serverCpuMs)} (${Math.round((probe.cpuSystemMs / Math.max(1e-9, accounting.serverCpuMs)) * 100)}% in the kernel; event loop ${Math.round(probe.loopUtilization * 100)}% busy), ` +
      `PostgreSQL ${accounting.postgresCpuMs === null ? "not measured" : cpu(accounting.postgresCpuMs)}, this client ${cpu(accounting.clientCpuMs)}; ` +
      `machine ${Math.round((machine.busyMs / Math.max(1, machine.totalMs)) * 100)}% busy of ${cpus} CPUs, ${Math.round((others / Math.max(1, machine.totalMs)) * 100)}% by other processes`,
  );
  if (probe.profile) {
    // A share of the window's wall time, as ms per intent; idle as a share.
    const { byCaller, byLeaf } = probe.profile;
    const perIntent = (shares: [string, number][]) =>
      shares
        .filter(([place, share]) => place !== "(idle)" && share >= 0.01)
        .slice(0, 12)
        .map(([place, share]) => `${place} ${fixed((share * probe.seconds * 1_000) / Math.max(1, answered), 3)}`)
        .join(", ");
    const idle = byCaller.find(([place]) => place === "(idle)")?.[1] ?? 0;
    parts.push(`server's wall time per intent in ms, by the project file that caused it (BENCH_PROFILE; idle ${Math.round(idle * 100)}%): ${perIntent(byCaller)}`);
    parts.push(`  and by the code running: ${perIntent(byLeaf)}`);
  }
  return parts.map((part) => `    ${part}`).join("\n");
}

// --- the loads -------------------------------------------------------------------------------

/**
 * Offers `perSec` intents a second for `ms`, each sent at its scheduled time (or as soon after as
 * the loop can). Answers still missing DRAIN_MS after the last send count with their wait so far
 * (a lower bound) and as unanswered.
 */
async function openLoop(client: HttpClient, perSec: number, ms: number) {
  const total = Math.round((perSec * ms) / 1_000);
  const latenciesMs: number[] = [];
  const outcomes = new Outcomes();
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
    answered,
    achieved: Math.round(answered / seconds),
    unanswered,
    mean: latenciesMs.reduce((sum, value) => sum + value, 0) / Math.max(1, latenciesMs.length),
    p50: fixed(quantile(latenciesMs, 0.5)),
    p99: fixed(quantile(latenciesMs, 0.99)),
    p999: fixed(quantile(latenciesMs, 0.999)),
    max: fixed(latenciesMs[latenciesMs.length - 1]!),
    maxSendLagMs: fixed(maxLagMs),
    outcomes,
  };
}

/** `clients` callers sending intents back to back for `ms`. */
async function closedLoop(client: HttpClient, clients: number, ms: number) {
  const latenciesMs: number[] = [];
  const outcomes = new Outcomes();
  const startedAt = performance.now();
  const endAt = startedAt + ms;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < endAt) {
        const sentAt = performance.now();
        outcomes.record(await client.request("POST", "/api/v1/intents", nextIntent()));
        latenciesMs.push(performance.now() - sentAt);
      }
    }),
  );
  const seconds = (performance.now() - startedAt) / 1_000;
  latenciesMs.sort((a, b) => a - b);
  return {
    clients,
    answered: latenciesMs.length,
    perSec: Math.round(latenciesMs.length / seconds),
    mean: latenciesMs.reduce((sum, value) => sum + value, 0) / Math.max(1, latenciesMs.length),
    p50: fixed(quantile(latenciesMs, 0.5)),
    p99: fixed(quantile(latenciesMs, 0.99)),
    outcomes,
  };
}

type OpenRun = Awaited<ReturnType<typeof openLoop>> & { accounting: Accounting };
type ClosedRun = Awaited<ReturnType<typeof closedLoop>> & { accounting: Accounting };
type Figures = { open: OpenRun; closed: ClosedRun[]; maxPerSec: number };

async function warmUp(target: Target): Promise<void> {
  // The route handlers load and the JIT compiles before anything is measured.
  const warm = await closedLoop(target.client, 16, WARMUP_MS);
  if (warm.outcomes.errors > 0) throw new Error(`${target.label}: intents failed during warm-up: ${warm.outcomes}\n${target.server.output()}`);
}

async function measureOpen(target: Target): Promise<OpenRun> {
  const open = await accounted(target, () => openLoop(target.client, OFFERED_PER_SEC, OPEN_LOOP_MS));
  console.log(
    `${target.label}: open loop, ${open.offered}/s offered for ${OPEN_LOOP_MS / 1_000} s: ${open.achieved}/s answered; latency from the scheduled send ` +
      `p50 ${open.p50} ms, p99 ${open.p99} ms, p99.9 ${open.p999} ms, max ${open.max} ms (sender lag up to ${open.maxSendLagMs} ms)` +
      (open.unanswered > 0 ? `; ${open.unanswered} unanswered ${DRAIN_MS / 1_000} s after the last send (counted with their wait so far)` : ""),
  );
  console.log(`  ${open.outcomes}`);
  console.log(describe(open.accounting, open.answered, open.mean));
  if (open.outcomes.errors > 0) throw new Error(`${target.label}: errors in the open loop: ${open.outcomes}\n${target.server.output()}`);
  return open;
}

async function measureClosed(target: Target, clients: number): Promise<ClosedRun> {
  const run = await accounted(target, () => closedLoop(target.client, clients, CLOSED_LOOP_MS));
  console.log(`${target.label}: closed loop, ${String(clients).padStart(3)} clients: ${run.perSec}/s, answer p50 ${run.p50} ms, p99 ${run.p99} ms; ${run.outcomes}`);
  console.log(describe(run.accounting, run.answered, run.mean));
  if (run.outcomes.errors > 0) throw new Error(`${target.label}: errors in the closed loop: ${run.outcomes}\n${target.server.output()}`);
  return run;
}

/**
 * Every phase on each target in turn (the order alternates from phase to phase): the targets run
 * side by side, so that a burst of background load falls on both rather than on one.
 */
async function benchSideBySide(targets: Target[]): Promise<Figures[]> {
  for (const target of targets) await warmUp(target);
  const turn = (phase: number) => (phase % 2 === 0 ? targets : [...targets].reverse());
  const opens = new Map<Target, OpenRun>();
  for (const target of turn(0)) opens.set(target, await measureOpen(target));
  const closed = new Map<Target, ClosedRun[]>(targets.map((target) => [target, []]));
  for (const [index, clients] of CLIENTS.entries()) {
    for (const target of turn(index + 1)) closed.get(target)!.push(await measureClosed(target, clients));
  }
  return targets.map((target) => ({ open: opens.get(target)!, closed: closed.get(target)!, maxPerSec: Math.max(...closed.get(target)!.map((run) => run.perSec)) }));
}

async function main(): Promise<void> {
  if (!fs.existsSync(path.join(ROOT, ".next", "BUILD_ID"))) throw new Error("no production build: run `NEXT_TELEMETRY_DISABLED=1 npx next build` first");
  console.log(`${os.cpus().length} CPUs, load average ${os.loadavg().map((load) => load.toFixed(2)).join(" ")} (this process's client shares them)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "riskgate-bench-api-"));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const configFile = path.join(dir, "engine.json");
  fs.writeFileSync(configFile, JSON.stringify({ guards: { throttle: { maxIntentsPerSecond: 1_000_000 } } }));

  let embedded: Figures | null = null;
  let floor: Figures | null = null;
  // Each section stops its servers (and their PostgreSQL) before the next starts; the folder goes last.
  const section = cleanups.length;
  if (DATABASES.includes("embedded")) {
    const targets = [await startRiskgate("riskgate, embedded", { RISKGATE_DATA_DIR: path.join(dir, "riskgate"), RISKGATE_ENGINE_CONFIG: configFile }, null)];
    if (WITH_FLOOR) targets.push(await startFloor(path.join(dir, "floor")));
    const [riskgate, floorFigures] = await benchSideBySide(targets);
    embedded = riskgate!;
    floor = floorFigures ?? null;
    await cleanUp(section);
  }

  let onPostgres: Figures | null = null;
  const database = DATABASES.includes("postgresql") ? await freshPostgresDatabase() : { unreachable: "BENCH_DATABASES leaves it out" };
  if ("unreachable" in database) {
    console.log(`riskgate, postgresql: skipped, ${database.unreachable}`);
  } else {
    const target = await startRiskgate("riskgate, postgresql", { DATABASE_URL: database.url, RISKGATE_ENGINE_CONFIG: configFile }, database.postmasterPid);
    onPostgres = (await benchSideBySide([target]))[0]!;
  }
  await cleanUp();

  const verdict = (met: boolean) => (met ? "met" : "MISSED");
  const p99Ratio = embedded && floor ? fixed(embedded.open.p99 / floor.open.p99) : null;
  const throughputRatio = embedded && floor ? fixed(floor.maxPerSec / embedded.maxPerSec) : null;
  if (embedded) {
    console.log(
      `targets, embedded: p99 at ${OFFERED_PER_SEC}/s ${embedded.open.p99} ms (<= ${TARGETS.p99Ms} ms: ${verdict(embedded.open.p99 <= TARGETS.p99Ms)}), ` +
        `sustained ${embedded.maxPerSec}/s (>= ${TARGETS.perSec}/s: ${verdict(embedded.maxPerSec >= TARGETS.perSec)})`,
    );
  }
  if (embedded && floor && p99Ratio !== null && throughputRatio !== null) {
    console.log(
      `against the floor (same run, same database kind): p99 ${embedded.open.p99} ms vs ${floor.open.p99} ms = ${p99Ratio}x (<= ${TARGETS.ratio}x: ${verdict(p99Ratio <= TARGETS.ratio)}), ` +
        `sustained ${embedded.maxPerSec}/s vs ${floor.maxPerSec}/s = ${throughputRatio}x fewer (<= ${TARGETS.ratio}x: ${verdict(throughputRatio <= TARGETS.ratio)})`,
    );
  }
  if (onPostgres) console.log(`riskgate, postgresql: p99 at ${OFFERED_PER_SEC}/s ${onPostgres.open.p99} ms, sustained ${onPostgres.maxPerSec}/s`);
  const inside = (figures: Figures | null) => (figures ? fixed(figures.open.accounting.probe.requests.meanMs) : null);
  console.log(
    JSON.stringify({
      bench: "api.intents",
      offered_per_sec: OFFERED_PER_SEC,
      achieved_per_sec: embedded?.open.achieved ?? null,
      p50_ms: embedded?.open.p50 ?? null,
      p99_ms: embedded?.open.p99 ?? null,
      p999_ms: embedded?.open.p999 ?? null,
      max_ms: embedded?.open.max ?? null,
      max_per_sec: embedded?.maxPerSec ?? null,
      floor_p50_ms: floor?.open.p50 ?? null,
      floor_p99_ms: floor?.open.p99 ?? null,
      floor_per_sec: floor?.maxPerSec ?? null,
      p99_ratio: p99Ratio,
      throughput_ratio: throughputRatio,
      server_mean_ms: inside(embedded),
      append_mean_ms: embedded ? fixed(embedded.open.accounting.probe.appends.meanMs) : null,
      floor_server_mean_ms: inside(floor),
      postgres_p99_ms: onPostgres?.open.p99 ?? null,
      postgres_p999_ms: onPostgres?.open.p999 ?? null,
      postgres_max_per_sec: onPostgres?.maxPerSec ?? null,
    }),
  );
}

runBenchmark(main);
