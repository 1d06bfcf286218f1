import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Database } from "./database";

const MIGRATIONS_DIR = path.join(import.meta.dirname, "..", "..", "prisma", "migrations");

export type Migration = { name: string; sql: string; checksum: string };

export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && /^\d{14}_[a-z0-9_]+$/.test(entry.name))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = fs.readFileSync(path.join(dir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    });
}

/**
 * Applies every migration not yet applied, each in its own transaction, in name order. Safe to
 * run at every start and from several processes at once (PostgreSQL advisory lock). A migration
 * whose file changed after it was applied stops the start: history is not rewritten silently.
 */
export async function migrate(db: Database, migrations = readMigrations()): Promise<string[]> {
  return db.withMigrationLock(async () => {
    await db.runScript(`
      CREATE TABLE IF NOT EXISTS "riskgate_migrations" (
        "name" TEXT PRIMARY KEY,
        "checksum" TEXT NOT NULL,
        "applied_at" TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP
      )`);
    const rows = await db.prisma.$queryRawUnsafe<{ name: string; checksum: string }[]>(
      `SELECT "name", "checksum" FROM "riskgate_migrations"`,
    );
    const applied = new Map(rows.map((row) => [row.name, row.checksum]));
    const newlyApplied: string[] = [];
    for (const migration of migrations) {
      const checksum = applied.get(migration.name);
      if (checksum !== undefined) {
        if (checksum !== migration.checksum) {
          throw new Error(`migration ${migration.name} was changed after it was applied`);
        }
        continue;
      }
      const quotedChecksum = migration.checksum.replace(/[^0-9a-f]/g, "");
      const quotedName = migration.name.replace(/[^0-9a-z_]/g, "");
      await db.runScript(
        `${migration.sql}\n;\nINSERT INTO "riskgate_migrations" ("name", "checksum") VALUES ('${quotedName}', '${quotedChecksum}');`,
      );
      newlyApplied.push(migration.name);
    }
    return newlyApplied;
  });
}
