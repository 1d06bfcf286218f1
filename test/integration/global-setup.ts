import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres } from "../../server/db/embedded-postgres";

declare module "vitest" {
  export interface ProvidedContext {
    /** A PostgreSQL 18 cluster started by the project's embedded-PostgreSQL code for this run (in-process suites make a database each in it). */
    embeddedPostgresUrl: string;
  }
}

/**
 * The integration tests start the real production server, which needs a Next build of the
 * current sources. `npm test` builds once before every runner and sets RISKGATE_SKIP_BUILD=1.
 * Suites that run the runtime in-process get databases in one embedded PostgreSQL started here.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const root = path.resolve(import.meta.dirname, "../..");
  // The build folder is next.config.ts's: RISKGATE_NEXT_DIST_DIR, else .next.
  const distDir = process.env.RISKGATE_NEXT_DIST_DIR ?? ".next";
  if (!(process.env.RISKGATE_SKIP_BUILD === "1" && fs.existsSync(path.join(root, distDir, "BUILD_ID")))) {
    const build = spawnSync(process.execPath, [path.join(root, "node_modules", "next", "dist", "bin", "next"), "build"], {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
    });
    if (build.status !== 0) throw new Error(`next build failed:\n${build.stdout}\n${build.stderr}`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "riskgate-it-cluster-"));
  const cluster = await startEmbeddedPostgres(dir, () => undefined);
  project.provide("embeddedPostgresUrl", cluster.url);
  return async () => {
    await cluster.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
}
