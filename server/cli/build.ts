// npm start's first step, and `npm run build` (with --force): builds the Next app (`next build`)
// unless the build in the build folder (RISKGATE_NEXT_DIST_DIR, else .next) is current, that is,
// its stamp (server/build-stamp.ts) names the inputs as they are now. After a successful build it
// writes the stamp. RISKGATE_REBUILD=1 or --force builds whatever the stamp says.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { inputsHash, readBuildId, readStamp, whyBuild, writeStamp } from "../build-stamp";

const root = path.resolve(import.meta.dirname, "../..");
const distName = process.env.RISKGATE_NEXT_DIST_DIR ?? ".next";
const distDir = path.resolve(root, distName);
const force = process.argv.includes("--force") || process.env.RISKGATE_REBUILD === "1";

// The inputs as they are when the build starts: an edit made during the build leaves the stamp stale.
const hash = inputsHash(root);
const why = force ? "asked for (--force or RISKGATE_REBUILD=1)" : whyBuild({ inputsHash: hash, buildId: readBuildId(distDir), stamp: readStamp(distDir) });
if (why === null) {
  console.log(`next build skipped: the build in ${distName} is current (RISKGATE_REBUILD=1 npm start, or npm run build, builds it again)`);
  process.exit(0);
}
console.log(`next build: ${why}`);
const build = spawnSync(process.execPath, [path.join(root, "node_modules", "next", "dist", "bin", "next"), "build"], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
});
if (build.status !== 0) process.exit(build.status ?? 1);
const buildId = readBuildId(distDir);
if (buildId === null) {
  console.error(`next build ended without a BUILD_ID in ${distName}`);
  process.exit(1);
}
writeStamp(distDir, { inputsHash: hash, buildId, builtAt: new Date().toISOString() });
