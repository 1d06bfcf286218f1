#!/usr/bin/env node
// `npm test`: builds Next once (unless the build is current), runs every Vitest project (unit,
// integration on the embedded and external PostgreSQL) and the Playwright browser tests, then
// prints one line summed over all runners:
// "N passed, N failed, N skipped". With CI=true a missing Chromium or PostgreSQL fails the run;
// elsewhere the suite that needs it is skipped with a message saying how to install it.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const out = path.join(root, ".test-output");
const isCI = process.env.CI === "true" || process.env.CI === "1";
const bin = (name) => path.join(root, "node_modules", ".bin", name);
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });

const env = { ...process.env, NEXT_TELEMETRY_DISABLED: "1", RISKGATE_SKIP_BUILD: "1", FORCE_COLOR: "0" };
const totals = { passed: 0, failed: 0, skipped: 0 };
const lines = [];

function record(suite, counts, note = "") {
  totals.passed += counts.passed;
  totals.failed += counts.failed;
  totals.skipped += counts.skipped;
  lines.push(`${suite}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped${note ? ` (${note})` : ""}`);
}

function run(command, args, extraEnv = {}) {
  console.log(`\n$ ${path.basename(command)} ${args.join(" ")}`);
  return spawnSync(command, args, { cwd: root, stdio: "inherit", env: { ...env, ...extraEnv } }).status;
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    return null;
  }
}

// 0. The type check of the whole project (the build skips it; see next.config.ts).
const typed = run(bin("tsc"), ["--noEmit", "-p", "."]) === 0;
record("typecheck", { passed: typed ? 1 : 0, failed: typed ? 0 : 1, skipped: 0 });

// 1. One production build, shared by the integration and browser tests; skipped when the build
// is current (server/cli/build.ts, as `npm start` does).
const built = run(process.execPath, ["--import", "tsx", "server/cli/build.ts"]) === 0;
if (built) lines.push("next build: ok");
else record("next build", { passed: 0, failed: 1, skipped: 0 }, "the build failed; no test ran");

if (built) {
  // 2. Vitest: unit and integration projects.
  const vitestJson = path.join(out, "vitest.json");
  const vitestStatus = run(bin("vitest"), ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${vitestJson}`]);
  const vitest = readJson(vitestJson);
  if (vitest) {
    const counts = {
      passed: vitest.numPassedTests,
      failed: vitest.numFailedTests + (vitestStatus !== 0 && vitest.numFailedTests === 0 ? 1 : 0),
      skipped: vitest.numPendingTests + vitest.numTodoTests,
    };
    record("vitest", counts, vitestStatus !== 0 && vitest.numFailedTests === 0 ? "runner error" : "");
  } else {
    record("vitest", { passed: 0, failed: 1, skipped: 0 }, "the runner produced no report");
  }

  // 3. Playwright in the system Chromium.
  const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  if (!fs.existsSync(chromium)) {
    const how = "install it with `apt-get install -y chromium` (or set CHROMIUM_PATH)";
    if (isCI) {
      console.error(`\nChromium is missing at ${chromium}: ${how}.`);
      record("playwright", { passed: 0, failed: 1, skipped: 0 }, "Chromium missing");
    } else {
      console.warn(`\nSKIPPING the browser tests: no Chromium at ${chromium}; ${how}.`);
      record("playwright", { passed: 0, failed: 0, skipped: 1 }, "Chromium missing");
    }
  } else {
    const playwrightJson = path.join(out, "playwright.json");
    const status = run(bin("playwright"), ["test", "--reporter=list,json"], { PLAYWRIGHT_JSON_OUTPUT_NAME: playwrightJson });
    const report = readJson(playwrightJson);
    if (report?.stats) {
      const { expected, unexpected, flaky, skipped } = report.stats;
      const runnerError = status !== 0 && unexpected === 0;
      record(
        "playwright",
        { passed: expected, failed: unexpected + flaky + (runnerError ? 1 : 0), skipped },
        runnerError ? "runner error" : "",
      );
    } else {
      record("playwright", { passed: 0, failed: 1, skipped: 0 }, "the runner produced no report");
    }
  }
}

const summary = `${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`;
console.log(`\n${lines.join("\n")}\n${summary}`);
fs.writeFileSync(path.join(out, "summary.txt"), `${lines.join("\n")}\n${summary}\n`);
process.exit(totals.failed > 0 ? 1 : 0);
