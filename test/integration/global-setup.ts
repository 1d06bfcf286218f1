import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

/**
 * The integration tests start the real production server, which needs a Next build of the
 * current sources. `npm test` builds once before every runner and sets RISKGATE_SKIP_BUILD=1.
 */
export default function setup(): void {
  const root = path.resolve(import.meta.dirname, "../..");
  if (process.env.RISKGATE_SKIP_BUILD === "1" && fs.existsSync(path.join(root, ".next", "BUILD_ID"))) return;
  const build = spawnSync(process.execPath, [path.join(root, "node_modules", "next", "dist", "bin", "next"), "build"], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
  });
  if (build.status !== 0) throw new Error(`next build failed:\n${build.stdout}\n${build.stderr}`);
}
