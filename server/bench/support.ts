// What the benchmarks share: cleanup on success, failure or Ctrl-C; the real server as a child
// process; a fresh PostgreSQL database; quantiles.
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import path from "node:path";
import pg from "pg";

export const ROOT = path.resolve(import.meta.dirname, "../..");
export const POSTGRES_URL = process.env.BENCH_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
/** The admin token the benchmarks' servers are seeded with. */
export const TOKEN = "rg_bench_admin_token_0123456789abcdef0123";
export const ACCOUNTS = ["demo-ftmo-100k", "demo-e8-50k", "demo-inst-1m"];

export const quantile = (sorted: ArrayLike<number>, q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
export const fixed = (value: number, digits = 2) => Number(value.toFixed(digits));

/** Cleanups run once, in reverse order: on success, failure or Ctrl-C. */
export const cleanups: (() => Promise<void> | void)[] = [];
export async function cleanUp(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await Promise.resolve().then(cleanup).catch((error: unknown) => console.error(`cleanup: ${(error as Error).message}`));
}

/** Children left running if this process dies anyway. */
const children = new Set<ChildProcess>();
let interrupted = false;

/** Runs a benchmark's `main`: cleans up whatever happens, exit code 1 on failure, 130 on Ctrl-C. */
export function runBenchmark(main: () => Promise<void>): void {
  process.once("exit", () => children.forEach((child) => child.kill("SIGKILL")));
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

export type ServerProcess = { port: number; child: ChildProcess; stop: () => Promise<void>; output: () => string };

/**
 * The real server (`server/main.ts`, production) on a free port with the demo accounts and the
 * bench token; resolves once it prints its "listening" line. `nodeArgs` go before the entry
 * (with BENCH_SERVER_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/p").
 */
export async function startServerProcess(env: Record<string, string>, nodeArgs: string[] = []): Promise<ServerProcess> {
  const extra = (process.env.BENCH_SERVER_NODE_ARGS ?? "").split(/\s+/).filter(Boolean);
  const child = spawn(process.execPath, [...extra, ...nodeArgs, "--import", "tsx", "server/main.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      PORT: "0",
      HOST: "127.0.0.1",
      RISKGATE_DEMO: "accounts",
      RISKGATE_ADMIN_TOKEN: TOKEN,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let output = "";
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000));
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start in 60 s:\n${output}`)), 60_000);
    child.stdout!.on("data", () => {
      const match = /Riskgate listening on http:\/\/localhost:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code}) before listening:\n${output}`));
    });
  });
  return {
    port,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(killer);
      }
      children.delete(child);
    },
  };
}

/**
 * A fresh PostgreSQL database (dropped at the next `cleanUp`), or why there is none: the
 * benchmarks measure PostgreSQL only when it is reachable.
 */
export async function freshPostgresDatabase(): Promise<{ url: string } | { unreachable: string }> {
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
  return { url: url.toString() };
}
