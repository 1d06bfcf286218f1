// Whether the Next build is current: a hash of everything the build reads, written next to the
// build after it succeeded, and compared at the next start (`npm start` skips `next build` when
// they agree). Plain Node: no Next, no database.
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

/** Folders whose every file the build may read (route handlers import most of server/). */
const INPUT_DIRS = ["app", "components", "server", "presets", "prisma", "public"];
/** Under those, what no page or route imports: benchmarks, command-line tools, and what tests leave. */
const SKIPPED = new Set(["server/bench", "server/cli", "node_modules"]);
const INPUT_FILES = ["next.config.ts", "package.json", "package-lock.json"];
/** The stamp, in the build folder: gone with the build. */
export const STAMP_FILE = "riskgate-build-inputs.json";

export type Stamp = { inputsHash: string; buildId: string; builtAt: string };

/** The project's files the build reads, relative to `root` with "/" separators, sorted. */
export function inputFiles(root: string): string[] {
  const files: string[] = INPUT_FILES.filter((file) => fs.existsSync(path.join(root, file)));
  const walk = (relative: string) => {
    for (const entry of fs.readdirSync(path.join(root, relative), { withFileTypes: true })) {
      const child = `${relative}/${entry.name}`;
      if (SKIPPED.has(child) || entry.name.startsWith(".")) continue;
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) files.push(child);
    }
  };
  for (const dir of INPUT_DIRS) if (fs.existsSync(path.join(root, dir))) walk(dir);
  return files.sort();
}

/**
 * A hash of the build's inputs: each input file's path and content, tsconfig.json's
 * compilerOptions (its `include` is rewritten by `next build` for another build folder, and does
 * not change what is built), and the NEXT_PUBLIC_* variables (inlined into the browser's code).
 */
export function inputsHash(root: string, env: Record<string, string | undefined> = process.env): string {
  const hash = createHash("sha256");
  for (const file of inputFiles(root)) {
    hash.update(`file ${file}\0`);
    hash.update(fs.readFileSync(path.join(root, file)));
    hash.update("\0");
  }
  const tsconfig = path.join(root, "tsconfig.json");
  if (fs.existsSync(tsconfig)) hash.update(`tsconfig ${JSON.stringify(JSON.parse(fs.readFileSync(tsconfig, "utf8")).compilerOptions ?? null)}\0`);
  for (const name of Object.keys(env).filter((key) => key.startsWith("NEXT_PUBLIC_")).sort()) hash.update(`env ${name}=${env[name]}\0`);
  return hash.digest("hex");
}

/** The build's id (Next writes BUILD_ID last), or null when there is no complete build. */
export function readBuildId(distDir: string): string | null {
  try {
    return fs.readFileSync(path.join(distDir, "BUILD_ID"), "utf8").trim() || null;
  } catch {
    return null;
  }
}

export function readStamp(distDir: string): Stamp | null {
  try {
    const stamp = JSON.parse(fs.readFileSync(path.join(distDir, STAMP_FILE), "utf8")) as Partial<Stamp>;
    return typeof stamp.inputsHash === "string" && typeof stamp.buildId === "string" ? (stamp as Stamp) : null;
  } catch {
    return null;
  }
}

export function writeStamp(distDir: string, stamp: Stamp): void {
  fs.writeFileSync(path.join(distDir, STAMP_FILE), `${JSON.stringify(stamp, null, 2)}\n`);
}

/**
 * Why the app must be built, or null when the build is current: its stamp names the inputs as
 * they are now and the very build that is there (a `next build` run by hand leaves a stamp of
 * another build, and so counts as not current).
 */
export function whyBuild(current: { inputsHash: string; buildId: string | null; stamp: Stamp | null }): string | null {
  if (current.buildId === null) return "no build yet";
  if (current.stamp === null) return "the build has no stamp of its inputs";
  if (current.stamp.buildId !== current.buildId) return "the build was replaced since it was stamped";
  if (current.stamp.inputsHash !== current.inputsHash) return "its inputs changed since it was built";
  return null;
}
