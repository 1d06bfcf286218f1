// npm run verify -- --preset <id | file.json> --ledger <file.ndjson> [--account <id>] [--json] [--instruments file.json] [--currency EUR]
// Checks a ledger export (or a backtest's ledger) against a preset: every rule breach (rule,
// time, observed, limit) and the objectives (profit target, trading days, best day), as text or
// as JSON, every amount in the account's currency (recorded when it opened; --currency says which
// one is expected, and another is bad input). The instruments are the ledger's own configuration where it records one; before it,
// RISKGATE_ENGINE_CONFIG's (else the built-in ones) with --instruments over them. A traded symbol
// with no instrument is said on stderr. Exit 0: compliant; 1: a rule was breached; 2: bad input
// (the line and field named).
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import type { AccountReport, VerifyReport } from "../compliance/verify";
import { verify } from "../compliance/verify";
import { InstrumentsError, readInstrumentsFile } from "../backtest/setup";
import { ConfigError, loadEngineConfig } from "../config";
import { EngineConfig } from "../engine/config";
import { ISO_CURRENCIES } from "../engine/currency";
import type { EngineEvent } from "../engine/events";
import type { Preset } from "../engine/preset";
import { validatePreset } from "../engine/preset";
import { EventLineError, readNdjsonFile } from "../event-format";
import { PRESETS_DIR } from "../presets";

const USAGE = "usage: npm run verify -- --preset <id | file.json> --ledger <file.ndjson> [--account <id>] [--json] [--instruments file.json] [--currency EUR]";

class InputError extends Error {}

function readPreset(spec: string): Preset {
  const file = spec.endsWith(".json") ? spec : path.join(PRESETS_DIR, `${spec}.json`);
  if (!fs.existsSync(file)) {
    const shipped = fs.readdirSync(PRESETS_DIR).filter((name) => name.endsWith(".json")).map((name) => name.slice(0, -5));
    throw new InputError(`--preset: no preset ${spec} (shipped: ${shipped.join(", ")}; or give a .json file)`);
  }
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (error) {
    throw new InputError(`--preset: ${file} is not JSON: ${(error as Error).message}`);
  }
  const result = validatePreset(json);
  if (!result.ok) throw new InputError(`--preset: ${file}: ${result.issues.map((issue) => `${issue.path || "(root)"}: ${issue.message}`).join("; ")}`);
  return result.preset;
}

const amount = (value: number, currency: string) => `${value.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })} ${currency}`;
const iso = (ms: number) => new Date(ms).toISOString();

function text(report: VerifyReport): string {
  const lines = [`preset ${report.presetId}: ${report.accounts.length} account(s)`];
  if (report.skipped.length > 0) {
    lines.push(`skipped (they run other presets; name one with --account to judge it anyway): ${report.skipped.map((s) => `${s.accountId} (${s.presetId})`).join(", ")}`);
  }
  for (const account of report.accounts) lines.push("", ...accountText(account));
  return lines.join("\n");
}

function accountText(account: AccountReport): string[] {
  const usd = (value: number) => amount(value, account.currency);
  const lines = [
    `account ${account.accountId}: ${account.compliant ? "COMPLIANT" : "BREACHED"}${account.passed ? ", objectives met" : ""}`,
    `  initial ${usd(account.initialBalanceUsd)}, balance ${usd(account.finalBalance)}, equity ${usd(account.finalEquity)}`,
  ];
  const at = (breach: AccountReport["breaches"][number]) =>
    `${breach.rule} (${breach.consequence}) at ${iso(breach.at)} (seq ${breach.seq}, trading day ${breach.tradingDay}): equity ${usd(breach.observed)}, floor ${usd(breach.limit)}`;
  for (const breach of account.breaches) lines.push(`  BREACH ${at(breach)}`);
  for (const hit of account.dailyLimitEvents) lines.push(`  DAILY LIMIT ${at(hit)}: liquidated and paused until the next reset, not a violation`);
  const { profitTarget, tradingDays, bestDay } = account.objectives;
  if (profitTarget) lines.push(`  profit target ${usd(profitTarget.target)}: ${profitTarget.reached ? `reached at ${iso(profitTarget.reachedAt!)}` : "not reached"}`);
  lines.push(`  trading days: ${tradingDays.days} of ${tradingDays.required} required${tradingDays.met ? "" : " (not met)"}`);
  if (bestDay) {
    const share = bestDay.sharePct === null ? "no profit to share" : `${bestDay.sharePct}% of ${usd(bestDay.totalProfit)} on ${bestDay.bestDay}`;
    lines.push(`  best day: ${share}, at most ${bestDay.maxSharePct}%${bestDay.met ? "" : " (not met)"}`);
  }
  return lines;
}

/**
 * What the verifier would have to assume: traded symbols with no instrument in the configuration
 * in force at their fill (contract size 1), and a ledger's own configuration replacing the one
 * given (as the engine decided under it).
 */
function instrumentWarnings(records: readonly { seq: number; event: EngineEvent }[], start: EngineConfig, instrumentsGiven: boolean): string[] {
  const warnings: string[] = [];
  let instruments = start.instruments;
  const missing = new Set<string>();
  let recorded = false;
  for (const { seq, event } of records) {
    if (event.type === "config.applied") {
      if (!recorded && instrumentsGiven) warnings.push(`the ledger records its own configuration (seq ${seq}): from there it replaces RISKGATE_ENGINE_CONFIG and --instruments`);
      recorded = true;
      instruments = event.config.instruments;
    } else if (event.type === "execution.filled" && !instruments[event.symbol]) {
      missing.add(event.symbol);
    }
  }
  for (const symbol of missing) warnings.push(`${symbol}: no instrument in the ledger, RISKGATE_ENGINE_CONFIG or --instruments: contract size 1 assumed`);
  return warnings;
}

async function main(): Promise<number> {
  let values: { preset?: string; ledger?: string; account?: string; json?: boolean; instruments?: string; currency?: string };
  try {
    ({ values } = parseArgs({
      options: { preset: { type: "string" }, ledger: { type: "string" }, account: { type: "string" }, json: { type: "boolean" }, instruments: { type: "string" }, currency: { type: "string" } },
      strict: true,
    }));
  } catch (error) {
    console.error(`verify: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  try {
    if (!values.preset) throw new InputError("--preset is required");
    if (!values.ledger) throw new InputError("--ledger is required");
    if (!fs.existsSync(values.ledger)) throw new InputError(`--ledger: no such file: ${values.ledger}`);
    if (values.currency !== undefined && !ISO_CURRENCIES.has(values.currency)) throw new InputError(`--currency: ${JSON.stringify(values.currency)} is not an ISO 4217 currency code in use, e.g. USD or EUR`);
    const preset = readPreset(values.preset);
    const firm = loadEngineConfig();
    const stated = values.instruments === undefined ? {} : readInstrumentsFile(values.instruments);
    const config = EngineConfig.parse({ ...firm, instruments: { ...firm.instruments, ...stated } });
    const records = await readNdjsonFile(values.ledger);
    for (const warning of instrumentWarnings(records, config, values.instruments !== undefined)) console.error(`verify: warning: ${warning}`);
    const report = verify(records, preset, values.account, config);
    if (values.account !== undefined && report.accounts.length === 0) throw new InputError(`--account: no account ${values.account} in ${values.ledger}`);
    // The ledger records each account's currency when it opens; --currency states which one is expected.
    const expected = values.currency ?? preset.currency;
    const other = expected === undefined ? undefined : report.accounts.find((account) => account.currency !== expected);
    if (other) throw new InputError(`${values.currency !== undefined ? "--currency" : "--preset"}: account ${other.accountId} is in ${other.currency} (its opening on the ledger says so), not ${expected}`);
    console.log(values.json ? JSON.stringify(report, null, 2) : text(report));
    return report.accounts.every((account) => account.compliant) ? 0 : 1;
  } catch (error) {
    if (error instanceof InputError || error instanceof InstrumentsError) console.error(`verify: ${error.message}\n${USAGE}`);
    else if (error instanceof ConfigError) console.error(`verify: ${error.message}`);
    else if (error instanceof EventLineError) console.error(`verify: malformed line: ${error.message}`);
    else throw error;
    return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error("verify failed:", error instanceof Error ? error.message : error);
    process.exit(2);
  },
);
