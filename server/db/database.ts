import fs from "node:fs";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import type { Config } from "../config";
import { PrismaClient } from "./generated/client";

/**
 * One storage interface over the two databases: Prisma for queries, plus a raw `runScript` for
 * multi-statement SQL (migrations), which Prisma's prepared statements cannot run.
 */
export type Database = {
  readonly kind: "pglite" | "postgresql";
  readonly prisma: PrismaClient;
  /** Runs a multi-statement SQL script in one transaction. */
  runScript(sql: string): Promise<void>;
  /** Runs `work` while holding the database-wide migration lock. */
  withMigrationLock<T>(work: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
};

export async function openDatabase(database: Config["database"]): Promise<Database> {
  return database.kind === "postgresql" ? openPostgres(database.url) : openPglite(database.dataDir);
}

async function openPostgres(url: string): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle connection dying (server restart, network) must not crash the process: the next
  // query fails instead, appends answer 503 and /api/health reports the database unreachable.
  pool.on("error", (error) => console.error(`PostgreSQL connection lost: ${error.message}`));
  // Fail fast with a clear message when the server is unreachable.
  const probe = await pool.connect().catch(async (error: unknown) => {
    await pool.end();
    throw new Error(`cannot connect to DATABASE_URL: ${error instanceof Error ? error.message : String(error)}`);
  });
  probe.release();
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    kind: "postgresql",
    prisma,
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
    },
  };
}

async function openPglite(dataDir: string): Promise<Database> {
  fs.mkdirSync(dataDir, { recursive: true });
  const releaseLock = lockDataDir(dataDir);
  try {
    const client = await PGlite.create(dataDir);
    const prisma = new PrismaClient({ adapter: new PrismaPGlite(client) });
    return {
      kind: "pglite",
      prisma,
      async runScript(sql) {
        await client.transaction(async (tx) => {
          await tx.exec(sql);
        });
      },
      // PGlite is in-process and guarded by the data-dir lock file: one process at a time.
      withMigrationLock: (work) => work(),
      async close() {
        await prisma.$disconnect();
        await client.close();
        releaseLock();
      },
    };
  } catch (error) {
    releaseLock();
    throw error;
  }
}

/**
 * PGlite's files must never be opened by two processes at once. A lock file holds the owner's
 * pid; a lock left by a process that no longer exists (kill -9) is taken over.
 */
function lockDataDir(dataDir: string): () => void {
  const lockPath = path.join(dataDir, "..", "riskgate.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockPath, String(process.pid), { flag: "wx" });
      return () => fs.rmSync(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = Number(fs.readFileSync(lockPath, "utf8"));
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && processIsAlive(owner)) {
        throw new Error(
          `the data directory ${path.dirname(lockPath)} is in use by process ${owner}; stop it or set RISKGATE_DATA_DIR`,
        );
      }
      fs.rmSync(lockPath, { force: true });
    }
  }
  throw new Error(`cannot lock the data directory ${path.dirname(lockPath)}`);
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
