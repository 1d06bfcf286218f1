import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import type { Config } from "../config";
import type { EmbeddedCluster } from "./embedded-postgres";
import { startEmbeddedPostgres } from "./embedded-postgres";
import { PrismaClient } from "./generated/client";

/**
 * One storage path for both databases, the embedded PostgreSQL and an external one: a
 * node-postgres pool, Prisma over it (`@prisma/adapter-pg`) for queries, and a raw `runScript`
 * for multi-statement SQL (migrations), which Prisma's prepared statements cannot run.
 */
export type Database = {
  readonly kind: "embedded" | "postgresql";
  readonly prisma: PrismaClient;
  /** The pool Prisma runs on; the ledger's hot queries use it directly. */
  readonly pool: pg.Pool;
  /** Settings for a connection of its own (the ledger's writer holds one). */
  readonly connection: pg.ClientConfig;
  /** Runs a multi-statement SQL script in one transaction. */
  runScript(sql: string): Promise<void>;
  /** Runs `work` while holding the database-wide migration lock. */
  withMigrationLock<T>(work: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
};

export async function openDatabase(database: Config["database"], log: (line: string) => void = console.log): Promise<Database> {
  if (database.kind === "postgresql") return openPostgres("postgresql", { connectionString: database.url });
  // The embedded PostgreSQL's folder belongs to one server at a time (the lock file), and the
  // cluster is stopped when the server closes the database.
  fs.mkdirSync(database.dataDir, { recursive: true });
  const releaseLock = lockDataDir(database.dataDir);
  let cluster: EmbeddedCluster | null = null;
  try {
    cluster = await startEmbeddedPostgres(database.dataDir, log);
    const started = cluster;
    return await openPostgres("embedded", started.connection, async () => {
      await started.stop();
      releaseLock();
    });
  } catch (error) {
    await cluster?.stop().catch(() => undefined);
    releaseLock();
    throw error;
  }
}

async function openPostgres(kind: Database["kind"], settings: pg.ClientConfig, afterClose: () => Promise<void> = async () => undefined): Promise<Database> {
  // Named after this process, so that a second server can say who holds the writer lock.
  const connection = { application_name: `riskgate pid ${process.pid} on ${os.hostname()}`, ...settings };
  const pool = new pg.Pool({ ...connection, max: 10 });
  // An idle connection dying (server restart, network) must not crash the process: the next
  // query fails instead, appends answer 503 and /api/health reports the database unreachable.
  pool.on("error", (error) => console.error(`PostgreSQL connection lost: ${error.message}`));
  // Fail fast with a clear message when the server is unreachable.
  const probe = await pool.connect().catch(async (error: unknown) => {
    await pool.end();
    await afterClose();
    throw new Error(`cannot connect to ${kind === "embedded" ? "the embedded PostgreSQL" : "DATABASE_URL"}: ${error instanceof Error ? error.message : String(error)}`);
  });
  probe.release();
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    kind,
    prisma,
    pool,
    connection,
    async runScript(sql) {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        await client.query(sql);
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK");
        throw error;
      } finally {
        client.release();
      }
    },
    async withMigrationLock(work) {
      const client = await pool.connect();
      try {
        await client.query("SELECT pg_advisory_lock(7218330011)");
        return await work();
      } finally {
        await client.query("SELECT pg_advisory_unlock(7218330011)").catch(() => undefined);
        client.release();
      }
    },
    async close() {
      await prisma.$disconnect();
      await pool.end();
      await afterClose();
    },
  };
}

/**
 * The data folder belongs to one server at a time: a lock file holds the owner's pid; a lock
 * left by a process that no longer exists (kill -9) is taken over (and the PostgreSQL it left
 * running is stopped before a new one starts).
 */
function lockDataDir(dataDir: string): () => void {
  const lockPath = path.join(dataDir, "riskgate.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockPath, String(process.pid), { flag: "wx" });
      return () => fs.rmSync(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = Number(fs.readFileSync(lockPath, "utf8"));
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && processIsAlive(owner)) {
        throw new Error(
          `the data directory ${dataDir} is in use by the Riskgate server with process id ${owner}; stop it or set RISKGATE_DATA_DIR`,
        );
      }
      fs.rmSync(lockPath, { force: true });
    }
  }
  throw new Error(`cannot lock the data directory ${dataDir}`);
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
