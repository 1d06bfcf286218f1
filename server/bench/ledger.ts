// npm run bench:ledger — durable ledger appends per second, on the embedded PostgreSQL (the
// default deployment: a PostgreSQL 18 started in a temporary data folder, fsync and
// synchronous_commit on) and on an external PostgreSQL (a fresh database on
// postgresql://postgres@127.0.0.1:5432, or BENCH_POSTGRES_URL; dropped afterwards; skipped when
// unreachable). Appends go through the writer's connection (`LedgerWriter`: the advisory lock,
// synchronous_commit on), so each acknowledged append is on disk. Three ways in:
//   1. `Ledger.append` called back to back with batches of 1 to 1,000 events (one statement each);
//   2. the runtime's group commit: N concurrent producers each sending one market tick at a time
//      (`runtime.recordMarket`), every call answered only after its batch committed;
//   3. the same with intents (`runtime.submitIntent`) spread over the three demo accounts.
// The headline figures are path 2 with HEADLINE_PRODUCERS producers: appends acknowledged after
// commit per second. Each line also shows the commits the runtime made and the share of the
// wall time spent inside `Ledger.append` (the rest: deciding, folding, answering). The settings
// that make a commit durable are printed first (fsync, synchronous_commit, wal_sync_method…).
// BENCH_MS sets each measured window (3,000 ms, after 500 ms of warm-up); BENCH_DATABASES
// ("embedded,postgresql") chooses the databases.
// Prints figures, and as its last line one JSON object:
// {"bench":"ledger.append","per_sec":…,"postgres_per_sec":…,"intents_per_sec":…,…}.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Database } from "../db/database";
import { openDatabase } from "../db/database";
import { migrate } from "../db/migrate";
import { demoAccounts } from "../demo";
import { EngineConfig } from "../engine/config";
import type { EngineEvent } from "../engine/events";
import { IntentId, SymbolId } from "../engine/ids";
import { Intent } from "../engine/intent";
import { defaultInstruments } from "../instruments";
import { Ledger, LedgerWriter } from "../ledger";
import type { RuntimeMetrics } from "../metrics";
import { Runtime } from "../runtime";
import { cleanUp, cleanups, fixed, freshPostgresDatabase, quantile, runBenchmark } from "./support";

const WARMUP_MS = 500;
const MEASURE_MS = Number(process.env.BENCH_MS ?? 3_000);
const DIRECT_BATCHES = [1, 10, 100, 1_000];
const TICK_PRODUCERS = [1, 16, 64, 256];
const INTENT_PRODUCERS = [16, 256];
const HEADLINE_PRODUCERS = 256;
const TARGETS = { embedded: 20_000, postgresql: 10_000 };
const DATABASES = (process.env.BENCH_DATABASES ?? "embedded,postgresql").split(",");
/** What makes an acknowledged commit durable, and what could weaken or delay it. */
const DURABILITY_SETTINGS = ["fsync", "synchronous_commit", "wal_sync_method", "full_page_writes", "commit_delay", "data_checksums"];

// The throttle is lifted: this measures the ledger, not the per-account intent rate limit.
const config = EngineConfig.parse({ instruments: defaultInstruments, guards: { throttle: { maxIntentsPerSecond: 1_000_000 } } });
const symbols = Object.keys(defaultInstruments).map((symbol) => SymbolId.parse(symbol));
const EURUSD = SymbolId.parse("EURUSD");

/** What the runtime reports per commit: how many commits, how many events, the time inside `append`. */
class CommitCounter implements RuntimeMetrics {
  commits = 0;
  events = 0;
  appendSeconds = 0;
  observeEvaluation(): void {}
  countDecision(): void {}
  observeAppend(seconds: number, events: number): void {
    this.commits++;
    this.events += events;
    this.appendSeconds += seconds;
  }
  reset(): void {
    this.commits = 0;
    this.events = 0;
    this.appendSeconds = 0;
  }
}

type Run = { label: string; acked: number; events: number; seconds: number; latenciesMs: number[]; commits: number; appendSeconds: number };

const perSec = (count: number, seconds: number) => Math.round(count / seconds);

/**
 * `producers` callers, each awaiting `operation` back to back for WARMUP_MS + MEASURE_MS; only the
 * answers that arrive in the measured window count (and their latencies, call to answer).
 */
async function closedLoop(
  label: string,
  producers: number,
  operation: (producer: number, n: number) => Promise<number>,
  counter: CommitCounter | null,
): Promise<Run> {
  const startedAt = performance.now();
  const measureFrom = startedAt + WARMUP_MS;
  const measureTo = measureFrom + MEASURE_MS;
  let acked = 0;
  let events = 0;
  const latenciesMs: number[] = [];
  // The commit counter is reset when the measured window opens and read when it closes, by the
  // first answer past each edge (no timer: the window's edges are where the answers are).
  let opened = false;
  let closed: { commits: number; appendSeconds: number } | null = null;
  const producer = async (index: number) => {
    for (let n = 0; ; n++) {
      const sent = performance.now();
      if (sent >= measureTo) return;
      const appended = await operation(index, n);
      const answered = performance.now();
      if (!opened && answered >= measureFrom) {
        counter?.reset();
        opened = true;
      }
      if (answered >= measureFrom && answered < measureTo) {
        acked++;
        events += appended;
        latenciesMs.push(answered - sent);
      } else if (answered >= measureTo && closed === null) {
        closed = { commits: counter?.commits ?? 0, appendSeconds: counter?.appendSeconds ?? 0 };
      }
    }
  };
  await Promise.all(Array.from({ length: producers }, (_, index) => producer(index)));
  const { commits, appendSeconds } = closed ?? { commits: 0, appendSeconds: 0 };
  latenciesMs.sort((a, b) => a - b);
  return { label, acked, events, seconds: MEASURE_MS / 1_000, latenciesMs, commits, appendSeconds };
}

function printRun(run: Run): void {
  const commitsPerSec = run.commits / run.seconds;
  const commitShare = run.appendSeconds / run.seconds;
  console.log(
    `  ${run.label.padEnd(34)} ${String(perSec(run.acked, run.seconds)).padStart(7)} acked/s ${String(perSec(run.events, run.seconds)).padStart(7)} events/s` +
      `  answer p50 ${fixed(quantile(run.latenciesMs, 0.5))} ms p99 ${fixed(quantile(run.latenciesMs, 0.99))} ms` +
      (run.commits > 0
        ? `  ${Math.round(commitsPerSec)} commits/s of ${fixed(run.events / Math.max(1, run.commits), 1)} events, ${Math.round(commitShare * 100)}% of the time in append`
        : ""),
  );
}

function tickEvent(n: number, at: number): EngineEvent {
  return { type: "market.tick", at, symbol: symbols[n % symbols.length]!, price: 1 + (n % 100) / 1_000 };
}

/** Back-to-back appends of `batch` events straight to the ledger, one statement each. */
async function direct(ledger: Ledger, batch: number): Promise<Run> {
  const at = Date.now();
  const events = Array.from({ length: batch }, (_, n) => ({ event: tickEvent(n, at) }));
  return closedLoop(`Ledger.append, ${batch} per append`, 1, async () => (await ledger.append(events)).length, null);
}

async function benchDatabase(db: Database): Promise<{ headline: number; intentsPerSec: number; settings: Record<string, string> }> {
  const writer = await LedgerWriter.acquire(db);
  cleanups.push(() => writer.close());
  const settings: Record<string, string> = {};
  for (const name of DURABILITY_SETTINGS) {
    const rows = await db.prisma.$queryRawUnsafe<Record<string, string>[]>(`SHOW ${name}`);
    settings[name] = String(Object.values(rows[0] ?? {})[0]);
  }
  // The server's default; the writer's own session sets synchronous_commit = on whatever it is.
  console.log(`${db.kind}: ${Object.entries(settings).map(([name, value]) => `${name}=${value}`).join(", ")} (the ledger writer's session: synchronous_commit=on)`);
  const ledger = new Ledger(db, writer);
  for (const batch of DIRECT_BATCHES) printRun(await direct(ledger, batch));

  const counter = new CommitCounter();
  const runtime = await Runtime.load(ledger, config, Date.now, { metrics: counter });
  for (const account of demoAccounts) await runtime.openAccount(account, "bench");
  let headline = 0;
  for (const producers of TICK_PRODUCERS) {
    const run = await closedLoop(
      `runtime ticks, ${producers} producers`,
      producers,
      async (producer, n) => (await runtime.recordMarket([{ kind: "tick", symbol: symbols[producer % symbols.length]!, price: 1 + (n % 100) / 1_000 }])).recorded,
      counter,
    );
    printRun(run);
    if (producers === HEADLINE_PRODUCERS) headline = perSec(run.acked, run.seconds);
  }

  // Intents: entries and exits over the three accounts (no venue runs: exits have nothing to
  // close and are denied), a fresh EURUSD price first so that entries pass price sanity. Every
  // intent is new, so `submitIntent` also looks its key up in the ledger before deciding.
  let intentsPerSec = 0;
  const outcomes = new Map<string, number>();
  for (const producers of INTENT_PRODUCERS) {
    await runtime.recordMarket([{ kind: "tick", symbol: EURUSD, price: 1.085 }]);
    const run = await closedLoop(
      `runtime intents, ${producers} producers`,
      producers,
      async (producer, n) => {
        const result = await runtime.submitIntent(
          Intent.parse({
            intentId: IntentId.parse(`bench-${producers}-${producer}-${n}`),
            accountId: demoAccounts[(producer + n) % demoAccounts.length]!.accountId,
            symbol: EURUSD,
            action: n % 2 === 0 ? "OPEN" : "CLOSE",
            side: (producer + n) % 4 < 2 ? "BUY" : "SELL",
            quantity: 0.01,
            provenance: { runId: "bench", strategyId: "bench", regimeId: "bench" },
          }),
        );
        const key = result.decision.outcome === "allowed" ? "allowed" : `denied by ${result.decision.guard}`;
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        return 2; // intent.received + intent.decided
      },
      counter,
    );
    printRun(run);
    intentsPerSec = Math.max(intentsPerSec, perSec(run.acked, run.seconds));
  }
  console.log(`  intent outcomes: ${[...outcomes].sort((a, b) => b[1] - a[1]).map(([key, count]) => `${key} ${count}`).join(", ")}`);
  return { headline, intentsPerSec, settings };
}

async function main(): Promise<void> {
  console.log(`${os.cpus().length} CPUs, load average ${os.loadavg().map((load) => load.toFixed(2)).join(" ")}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "riskgate-bench-ledger-"));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  // Each database is closed (its writer first, the embedded PostgreSQL stopped) before the next.
  const section = cleanups.length;

  let onEmbedded: Awaited<ReturnType<typeof benchDatabase>> | null = null;
  if (DATABASES.includes("embedded")) {
    const embedded = await openDatabase({ kind: "embedded", dataDir: path.join(dir, "data") }, () => undefined);
    cleanups.push(() => embedded.close());
    await migrate(embedded);
    onEmbedded = await benchDatabase(embedded);
    await cleanUp(section);
  }

  let onPostgres: Awaited<ReturnType<typeof benchDatabase>> | null = null;
  const database = DATABASES.includes("postgresql") ? await freshPostgresDatabase() : { unreachable: "BENCH_DATABASES leaves it out" };
  if ("unreachable" in database) {
    console.log(`postgresql: skipped, ${database.unreachable}`);
  } else {
    const postgres = await openDatabase({ kind: "postgresql", url: database.url });
    cleanups.push(() => postgres.close());
    await migrate(postgres);
    onPostgres = await benchDatabase(postgres);
  }
  await cleanUp();

  const verdict = (perSecond: number | null, target: number) => (perSecond === null ? "not measured" : perSecond >= target ? "met" : "MISSED");
  const embeddedPerSec = onEmbedded?.headline ?? null;
  const postgresPerSec = onPostgres?.headline ?? null;
  console.log(
    `headline, durable ticks through group commit with ${HEADLINE_PRODUCERS} producers: embedded ${embeddedPerSec ?? "-"}/s (>= ${TARGETS.embedded}: ${verdict(embeddedPerSec, TARGETS.embedded)}), ` +
      `PostgreSQL ${postgresPerSec ?? "-"}/s (>= ${TARGETS.postgresql}: ${verdict(postgresPerSec, TARGETS.postgresql)})`,
  );
  console.log(
    JSON.stringify({
      bench: "ledger.append",
      producers: HEADLINE_PRODUCERS,
      per_sec: embeddedPerSec,
      postgres_per_sec: postgresPerSec,
      intents_per_sec: onEmbedded?.intentsPerSec ?? null,
      postgres_intents_per_sec: onPostgres?.intentsPerSec ?? null,
      fsync: onEmbedded?.settings.fsync ?? null,
      synchronous_commit: onEmbedded?.settings.synchronous_commit ?? null,
      wal_sync_method: onEmbedded?.settings.wal_sync_method ?? null,
      postgres_fsync: onPostgres?.settings.fsync ?? null,
      postgres_synchronous_commit: onPostgres?.settings.synchronous_commit ?? null,
      postgres_wal_sync_method: onPostgres?.settings.wal_sync_method ?? null,
    }),
  );
}

runBenchmark(main);
