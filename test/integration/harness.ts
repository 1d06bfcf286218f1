import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { inject } from "vitest";
import type { Database } from "../../server/db/database";
import { openDatabase } from "../../server/db/database";
import { stopEmbeddedPostgres } from "../../server/db/embedded-postgres";

export const root = path.resolve(import.meta.dirname, "../..");

export type RunningServer = {
  url: string;
  child: ChildProcess;
  output: () => string;
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
};

/** Starts the real server (`server/main.ts`, production mode) on a free port. */
export async function startServer(env: Record<string, string>): Promise<RunningServer> {
  const child = spawn(process.execPath, ["--import", "tsx", "server/main.ts"], {
    cwd: root,
    env: {
      ...process.env,
      NODE_ENV: "production",
      PORT: "0",
      HOST: "127.0.0.1",
      NEXT_TELEMETRY_DISABLED: "1",
      RISKGATE_DEMO: "accounts",
      RISKGATE_ADMIN_TOKEN: ADMIN_TOKEN,
      RISKGATE_ADMIN_PASSWORD: ADMIN_PASSWORD,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 60 s:\n${output}`)), 60_000);
    const onData = () => {
      const match = /Riskgate listening on (http:\/\/localhost:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!.replace("localhost", "127.0.0.1"));
      }
    };
    child.stdout!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${output}`));
    });
  });

  return {
    url,
    child,
    output: () => output,
    async stop(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
}

/** Runs the server expecting it to refuse to start; resolves with its exit code and output. */
export function runToExit(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "server/main.ts"], {
      cwd: root,
      env: { ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1", RISKGATE_DEMO: "accounts", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("exit", (code) => resolve({ code, output }));
  });
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Stops the embedded PostgreSQL a killed server left running in `dataDir`, then removes the folder. */
export async function removeDataDir(dataDir: string): Promise<void> {
  await stopEmbeddedPostgres(dataDir);
  fs.rmSync(dataDir, { recursive: true, force: true });
}

export const postgresUrl = process.env.TEST_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/test";

export async function postgresReachable(): Promise<string | null> {
  const client = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return null;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

let databases = 0;

/** Creates a fresh database on a PostgreSQL server (the external test server by default); `drop` removes it. */
export async function freshPostgresDatabase(serverUrl = postgresUrl): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `riskgate_test_${process.pid}_${Date.now()}_${++databases}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.end();
    },
  };
}

/**
 * A fresh database in the embedded PostgreSQL the integration run started (global-setup.ts),
 * opened in this process, for suites that run the runtime in-process. Closing it drops it.
 */
export async function openEmbeddedTestDatabase(): Promise<Database> {
  const created = await freshPostgresDatabase(inject("embeddedPostgresUrl"));
  const db = await openDatabase({ kind: "postgresql", url: created.url });
  return {
    ...db,
    async close() {
      await db.close();
      await created.drop();
    },
  };
}

/** The admin token every test server is seeded with (RISKGATE_ADMIN_TOKEN). */
export const ADMIN_TOKEN = "rg_test_admin_token_0123456789abcdef";
export const ADMIN_PASSWORD = "test-admin-password";
export const adminAuth = { authorization: `Bearer ${ADMIN_TOKEN}` };

/**
 * Calls the API as the seeded admin unless `headers` say otherwise (pass `{ authorization: "" }`
 * for an anonymous call).
 */
export async function api(base: string, method: string, route: string, body?: unknown, raw?: string, headers: Record<string, string> = {}) {
  const merged: Record<string, string> = { ...adminAuth, ...(body !== undefined || raw !== undefined ? { "content-type": "application/json" } : {}), ...headers };
  if (merged.authorization === "") delete merged.authorization;
  const response = await fetch(`${base}${route}`, {
    method,
    headers: merged,
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get("content-type") ?? "",
    headers: response.headers,
    body: text ? (JSON.parse(text) as Record<string, any>) : null, // eslint-disable-line @typescript-eslint/no-explicit-any
  };
}

/** Writes an engine configuration file for RISKGATE_ENGINE_CONFIG. */
export function engineConfigFile(config: unknown): string {
  const file = path.join(tempDir("riskgate-config-"), "engine.json");
  fs.writeFileSync(file, JSON.stringify(config));
  return file;
}

/** A database a suite runs against: the env that points the server at it, and its removal. */
export type TestDatabase = { env: Record<string, string>; cleanup: () => Promise<void> };
export type DatabaseUnderTest = { name: "embedded" | "PostgreSQL"; skip: boolean; create: () => Promise<TestDatabase> };

const isCI = process.env.CI === "true" || process.env.CI === "1";

/**
 * The two databases every server suite runs on: the embedded PostgreSQL in a temporary data
 * folder (the default) and a fresh database on the external PostgreSQL, each with `env` added. PostgreSQL is skipped (with a warning naming the
 * suite) when unreachable, except on CI, where `create` fails the suite instead.
 */
export async function databasesUnderTest(suite: string, env: Record<string, string> = {}): Promise<DatabaseUnderTest[]> {
  const problem = await postgresReachable();
  if (problem && !isCI) {
    console.warn(
      `\nSKIPPING ${suite} on PostgreSQL: cannot reach ${postgresUrl} (${problem}).\n` +
        "Start PostgreSQL (e.g. `apt-get install -y postgresql && pg_ctlcluster 15 main start`) or set TEST_DATABASE_URL.\n",
    );
  }
  return [
    {
      name: "embedded",
      skip: false,
      create: async () => {
        const dataDir = tempDir("riskgate-it-");
        return { env: { RISKGATE_DATA_DIR: dataDir, ...env }, cleanup: () => removeDataDir(dataDir) };
      },
    },
    {
      name: "PostgreSQL",
      skip: problem !== null && !isCI,
      create: async () => {
        if (problem) throw new Error(`PostgreSQL is required on CI but unreachable at ${postgresUrl}: ${problem}`);
        const database = await freshPostgresDatabase();
        return { env: { DATABASE_URL: database.url, ...env }, cleanup: database.drop };
      },
    },
  ];
}
