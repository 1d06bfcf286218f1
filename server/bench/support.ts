// What the benchmarks share: cleanup on success, failure or Ctrl-C; the real server (or another
// server of the benchmarks) as a child process, and the embedded PostgreSQL it starts stopped
// after it; a fresh PostgreSQL database; quantiles.
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { stopEmbeddedPostgres } from "../db/embedded-postgres";

export const ROOT = path.resolve(import.meta.dirname, "../..");
export const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
/** The admin token the benchmarks' servers are seeded with. */
export const TOKEN = "rg_bench_admin_token_0123456789abcdef0123";
export const ACCOUNTS = ["demo-ftmo-100k", "demo-e8-50k", "demo-inst-1m"];

export const quantile = (sorted: ArrayLike<number>, q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
export const fixed = (value: number, digits = 2) => Number(value.toFixed(digits));

/** Cleanups run once, in reverse order: on success, failure or Ctrl-C. */
export const cleanups: (() => Promise<void> | void)[] = [];
/** Runs the cleanups registered since `cleanups.length` was `from` (default: all of them). */
export async function cleanUp(from = 0): Promise<void> {
  for (const cleanup of cleanups.splice(from).reverse()) await Promise.resolve().then(cleanup).catch((error: unknown) => console.error(`cleanup: ${(error as Error).message}`));
}

/** Children left running if this process dies anyway. */
const children = new Set<ChildProcess>();
let interrupted = false;

/** Runs a benchmark's `main`: cleans up whatever happens, exit code 1 on failure, 130 on Ctrl-C. */
export function runBenchmark(main: () => Promise<void>): void {
  process.once("exit", () => {
    children.forEach((child) => child.kill("SIGKILL"));
    // Last resort (no await here): a fast shutdown of every embedded PostgreSQL still running.
    for (const dataDir of embeddedDataDirs) {
      const pid = embeddedPostmasterPid(dataDir);
      try {
        if (pid !== null) process.kill(pid, "SIGINT");
      } catch {
        // gone meanwhile
      }
    }
  });
  process.once("SIGINT", () => {
    interrupted = true;
    console.error("interrupted: cleaning up");
    void cleanUp().finally(() => process.exit(130));
  });
  main()
    .catch((error: unknown) => {
      if (!interrupted) console.error(error);
      process.exitCode = 1;
    })
    .finally(() => cleanUp());
}

export type ServerProcess = {
  port: number;
  child: ChildProcess;
  /** SIGTERM, SIGKILL after 10 s; then the embedded PostgreSQL it may have left running is stopped. */
  stop: () => Promise<void>;
  output: () => string;
  /** The embedded PostgreSQL's data folder (RISKGATE_DATA_DIR) when it runs on one, else null. */
  dataDir: string | null;
};

/** Data folders of embedded PostgreSQLs started by children: stopped even if a child is killed. */
const embeddedDataDirs = new Set<string>();

/**
 * The postmaster of the embedded PostgreSQL under `dataDir`, from its pid file (null when none
 * runs): for CPU accounting, and for the last-resort stop when this process exits.
 */
export function embeddedPostmasterPid(dataDir: string): number | null {
  try {
    const pid = Number(fs.readFileSync(path.join(dataDir, "postgres", "postmaster.pid"), "utf8").split("\n")[0]);
    if (!Number.isInteger(pid) || pid <= 0) return null;
    process.kill(pid, 0);
    return pid;
  } catch {
    return null;
  }
}

/**
 * The real server (`server/main.ts`, production) on a free port with the demo accounts and the
 * bench token; resolves once it prints its "listening" line. `nodeArgs` go after `--import tsx`
 * (so a preloaded module may be TypeScript), BENCH_SERVER_NODE_ARGS before it (e.g.
 * "--cpu-prof --cpu-prof-dir=/tmp/p") and BENCH_SERVER_IMPORTS after it. Without DATABASE_URL in `env` the server runs on the
 * embedded PostgreSQL under RISKGATE_DATA_DIR (a DATABASE_URL of the calling shell is not passed on).
 */
export function startServerProcess(env: Record<string, string>, nodeArgs: string[] = []): Promise<ServerProcess> {
  return startNodeProcess("server/main.ts", {
    NODE_ENV: "production",
    NEXT_TELEMETRY_DISABLED: "1",
    PORT: "0",
    HOST: "127.0.0.1",
    RISKGATE_DEMO: "accounts",
    RISKGATE_ADMIN_TOKEN: TOKEN,
    DATABASE_URL: "",
    ...env,
  }, nodeArgs, /Riskgate listening on http:\/\/localhost:(\d+)/, env.DATABASE_URL ? null : (env.RISKGATE_DATA_DIR ?? null));
}

/**
 * `entry` (TypeScript, through tsx) as a child process; resolves with the port once its output
 * matches `listening` (the port is the first group). `dataDir`: the embedded PostgreSQL the child
 * starts there is stopped after the child, whatever happened to it.
 */
export async function startNodeProcess(entry: string, env: Record<string, string>, nodeArgs: string[], listening: RegExp, dataDir: string | null): Promise<ServerProcess> {
  const extra = (process.env.BENCH_SERVER_NODE_ARGS ?? "").split(/\s+/).filter(Boolean);
  // BENCH_SERVER_IMPORTS: modules preloaded after tsx (so they may be TypeScript and patch the server's own modules).
  const imports = (process.env.BENCH_SERVER_IMPORTS ?? "").split(/\s+/).filter(Boolean).flatMap((module) => ["--import", module]);
  if (dataDir) embeddedDataDirs.add(path.resolve(dataDir));
  const child = spawn(process.execPath, [...extra, "--import", "tsx", ...nodeArgs, ...imports, entry], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let output = "";
  // BENCH_SERVER_LOG=file: the server's whole output is appended there too (its warnings, slow commits).
  const logFile = process.env.BENCH_SERVER_LOG;
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
    if (logFile) fs.appendFileSync(logFile, chunk);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(killer);
    }
    children.delete(child);
    // A server killed before it stopped its PostgreSQL leaves the postmaster running.
    if (dataDir) {
      await stopEmbeddedPostgres(dataDir);
      embeddedDataDirs.delete(path.resolve(dataDir));
    }
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${entry} did not start in 60 s:\n${output}`)), 60_000);
      child.stdout!.on("data", () => {
        const match = listening.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`${entry} exited (${code}) before listening:\n${output}`));
      });
    });
    return { port, child, output: () => output, stop, dataDir };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * A fresh PostgreSQL database (dropped at the next `cleanUp`), or why there is none: the
 * benchmarks measure PostgreSQL only when it is reachable.
 */
export async function freshPostgresDatabase(): Promise<{ url: string; postmasterPid: number | null } | { unreachable: string }> {
  const admin = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3_000 });
  const unreachable = await admin.connect().then(
    () => null,
    (error: unknown) => (error as Error).message,
  );
  if (unreachable !== null) return { unreachable: `${POSTGRES_URL} is unreachable (${unreachable})` };
  cleanups.push(() => admin.end());
  const name = `riskgate_bench_${process.pid}_${Date.now()}`;
  await admin.query(`CREATE DATABASE "${name}"`);
  cleanups.push(async () => void (await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)));
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  // The postmaster is the parent of this session's backend (on this machine only).
  const local = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
  const backend = (await admin.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
  return { url: url.toString(), postmasterPid: local ? parentPid(backend) : null };
}

/** The parent of `pid` (from /proc), or null. */
export function parentPid(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(") ") + 2).split(" ")[1]);
  } catch {
    return null;
  }
}

// --- CPU accounting from /proc ---------------------------------------------------------------

const CLOCK_TICK_MS = 10; // /proc counts CPU time in USER_HZ ticks (100 a second on Linux)

/** User + system CPU time of `pid` in ms, and its parent; null when it is gone. */
export function procStat(pid: number): { cpuMs: number; ppid: number } | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(") ") + 2).split(" ");
    // After the name: state(0) ppid(1) … utime(11) stime(12)
    return { ppid: Number(fields[1]), cpuMs: (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_MS };
  } catch {
    return null;
  }
}

/** CPU ms of a postmaster and its children (backends, WAL writer, checkpointer…), by pid. */
export function postgresCpu(postmaster: number | null): Map<number, number> {
  const cpu = new Map<number, number>();
  if (postmaster === null) return cpu;
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const stat = procStat(pid);
    if (stat && (pid === postmaster || stat.ppid === postmaster)) cpu.set(pid, stat.cpuMs);
  }
  return cpu;
}

/** CPU ms the processes used between two readings (those that ended meanwhile are lost: sessions live on). */
export function cpuSpent(before: Map<number, number>, after: Map<number, number>): number {
  let spent = 0;
  for (const [pid, ms] of after) spent += ms - (before.get(pid) ?? 0);
  return spent;
}

/** The whole machine's busy and total CPU ms (all CPUs), from /proc/stat. */
export function machineCpu(): { busyMs: number; totalMs: number } {
  const [, ...ticks] = fs.readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/);
  const values = ticks.map(Number);
  const total = values.slice(0, 8).reduce((sum, value) => sum + value, 0);
  const idle = values[3]! + values[4]!; // idle + iowait
  return { busyMs: (total - idle) * CLOCK_TICK_MS, totalMs: total * CLOCK_TICK_MS };
}
