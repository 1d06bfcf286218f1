import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { root, tempDir } from "./harness";

/** `npm run verify` as a user runs it: files in, text or JSON out, exit 0 / 1 / 2. */

/** A line of the ledger export: a ledger record, `{seq, recordedAt, event}`, times in epoch ms. */
const line = (seq: number, ts: string, type: string, payload: Record<string, unknown>) => JSON.stringify({ seq, recordedAt: Date.parse(ts), event: { type, at: Date.parse(ts), ...payload } });
/** A line of an export made before issue 19: `{seq, ts (ISO 8601), type, payload}`. */
const legacyLine = (seq: number, ts: string, type: string, payload: Record<string, unknown>) => JSON.stringify({ seq, ts, type, payload });

/** An FTMO 100K account long 1 lot of EURUSD from 1.1, then EURUSD at `price`. */
function ledger(price: number, format = line): string {
  const line = format;
  return [
    line(1, "2026-06-10T06:00:00.000Z", "config.applied", {
      config: { instruments: { EURUSD: { sector: "fx", contractSize: 100_000, tickSize: 0.00001, averageDailyVolume: 1_000_000 } } },
      by: "system",
    }),
    line(2, "2026-06-10T06:00:00.000Z", "account.opened", { account: { accountId: "acc-1", name: "FTMO", presetId: "ftmo-2step-100k", initialBalanceUsd: 100_000 }, by: "admin" }),
    line(3, "2026-06-10T07:00:00.000Z", "execution.filled", { accountId: "acc-1", intentId: null, symbol: "EURUSD", side: "BUY", quantity: 1, price: 1.1, feeUsd: 0, trigger: "order" }),
    line(4, "2026-06-10T08:00:00.000Z", "market.tick", { symbol: "EURUSD", price }),
  ].join("\n");
}

function run(args: string[], env: Record<string, string> = {}) {
  const inherited = { ...process.env };
  delete inherited.RISKGATE_ENGINE_CONFIG; // the test says which configuration it runs under
  const result = spawnSync(process.execPath, ["--import", "tsx", "server/cli/verify.ts", ...args], { cwd: root, encoding: "utf8", env: { ...inherited, ...env } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function file(name: string, text: string): string {
  const target = path.join(tempDir("riskgate-verify-"), name);
  fs.writeFileSync(target, text);
  return target;
}

describe("npm run verify", () => {
  it("exits 0 and says COMPLIANT when no rule was breached", () => {
    const result = run(["--preset", "ftmo-2step-100k", "--ledger", file("ok.ndjson", ledger(1.0500001))]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("account acc-1: COMPLIANT");
    expect(result.stdout).toContain("trading days: 1 of 4 required (not met)");
  });

  it("exits 1 and prints the breach with rule, time, observed equity and floor, as text and as JSON", () => {
    const breached = file("breach.ndjson", ledger(1.0499999));
    const result = run(["--preset", "ftmo-2step-100k", "--ledger", breached]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("BREACH daily_loss (hard) at 2026-06-10T08:00:00.000Z (seq 4, trading day 2026-06-10): equity 94,999.99 USD, floor 95,000.00 USD");
    const json = run(["--preset", "ftmo-2step-100k", "--ledger", breached, "--json"]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ presetId: "ftmo-2step-100k", accounts: [{ accountId: "acc-1", compliant: false, breaches: [{ rule: "daily_loss", seq: 4, observed: 94_999.99, limit: 95_000 }] }] });
  });

  it("reads an export in the earlier line shape to the same report", () => {
    const current = run(["--preset", "ftmo-2step-100k", "--ledger", file("current.ndjson", ledger(1.0499999)), "--json"]);
    const legacy = run(["--preset", "ftmo-2step-100k", "--ledger", file("legacy.ndjson", ledger(1.0499999, legacyLine)), "--json"]);
    expect(legacy.code).toBe(1);
    expect(JSON.parse(legacy.stdout)).toEqual(JSON.parse(current.stdout));
  });

  it("exits 2 naming the line and field of a malformed ledger", () => {
    const broken = ledger(1.06).replace('"price":1.06', '"price":-1');
    const result = run(["--preset", "ftmo-2step-100k", "--ledger", file("broken.ndjson", broken)]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/broken\.ndjson:4: event\.price: /);
  });

  it("exits 2 for an unknown preset, a missing file or a missing flag", () => {
    const good = file("good.ndjson", ledger(1.06));
    expect(run(["--preset", "nope", "--ledger", good])).toMatchObject({ code: 2, stderr: expect.stringContaining("--preset: no preset nope") });
    expect(run(["--preset", "ftmo-2step-100k", "--ledger", "/nonexistent.ndjson"])).toMatchObject({ code: 2, stderr: expect.stringContaining("--ledger: no such file") });
    expect(run(["--ledger", good])).toMatchObject({ code: 2, stderr: expect.stringContaining("--preset is required") });
    expect(run(["--preset", "ftmo-2step-100k", "--ledger", good, "--account", "other"])).toMatchObject({ code: 2, stderr: expect.stringContaining("--account: no account other") });
  });

  describe("a ledger that carries no configuration (an export of one account's events)", () => {
    // The same account long 1 lot of EURCHF from 0.95, then EURCHF at 0.91: 4,000 CHF lost on a
    // contract of 100,000, at USDCHF 0.8 (1.25 USD a franc) 5,000 USD; 0.04 CHF (0.05 USD) on a contract of 1.
    const bare = () =>
      file(
        "bare.ndjson",
        [
          line(1, "2026-06-10T06:00:00.000Z", "account.opened", { account: { accountId: "acc-1", name: "FTMO", presetId: "ftmo-2step-100k", initialBalanceUsd: 100_000 }, by: "admin" }),
          line(2, "2026-06-10T07:00:00.000Z", "execution.filled", { accountId: "acc-1", intentId: null, symbol: "EURCHF", side: "BUY", quantity: 1, price: 0.95, feeUsd: 0, trigger: "order" }),
          line(3, "2026-06-10T08:00:00.000Z", "market.tick", { symbol: "EURCHF", price: 0.91 }),
          line(4, "2026-06-10T08:00:00.000Z", "market.tick", { symbol: "EURUSD", price: 1.1 }),
          line(5, "2026-06-10T08:00:00.000Z", "market.tick", { symbol: "USDCHF", price: 0.8 }),
        ].join("\n"),
      );
    const instrument = { sector: "fx", contractSize: 100_000, tickSize: 0.00001, quoteCurrency: "CHF" };
    const equity = (result: { stdout: string }) => JSON.parse(result.stdout).accounts[0].finalEquity;

    it("takes its instruments from --instruments or RISKGATE_ENGINE_CONFIG", () => {
      const ledgerFile = bare();
      const fromFile = run(["--preset", "ftmo-2step-100k", "--ledger", ledgerFile, "--json", "--instruments", file("instruments.json", JSON.stringify({ EURCHF: instrument }))]);
      expect(fromFile.code).toBe(0);
      expect(equity(fromFile)).toBe(95_000);
      const firm = file("engine.json", JSON.stringify({ instruments: { EURCHF: instrument } }));
      const fromFirm = run(["--preset", "ftmo-2step-100k", "--ledger", ledgerFile, "--json"], { RISKGATE_ENGINE_CONFIG: firm });
      expect(equity(fromFirm)).toBe(95_000);
      expect(fromFirm.stderr).toBe("");
    });

    it("says on stderr which traded symbols have no instrument (contract size 1 assumed)", () => {
      const result = run(["--preset", "ftmo-2step-100k", "--ledger", bare(), "--json"]);
      expect(result.code).toBe(0);
      expect(equity(result)).toBe(99_999.95);
      expect(result.stderr).toBe("verify: warning: EURCHF: no instrument in the ledger, RISKGATE_ENGINE_CONFIG or --instruments: contract size 1 assumed\n");
    });

    it("exits 2 naming the field of a bad instruments file", () => {
      const result = run(["--preset", "ftmo-2step-100k", "--ledger", bare(), "--instruments", file("bad.json", JSON.stringify({ EURCHF: { ...instrument, tickSize: "small" } }))]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("--instruments: ");
      expect(result.stderr).toContain("EURCHF.tickSize: ");
    });
  });

  it("judges a EUR account in euros: gold down 6,000 USD is 4,800 EUR at EURUSD 1.25, inside FTMO's 5,000", () => {
    const inEur = (xau: number) =>
      [
        line(1, "2026-06-10T06:00:00.000Z", "config.applied", {
          config: { instruments: { XAUUSD: { sector: "metals", contractSize: 100, tickSize: 0.01, averageDailyVolume: 300_000 }, EURUSD: { sector: "fx", contractSize: 100_000, tickSize: 0.00001 } } },
          by: "system",
        }),
        line(2, "2026-06-10T06:00:00.000Z", "account.opened", { account: { accountId: "eur-1", name: "FTMO EUR", presetId: "ftmo-2step-100k", initialBalanceUsd: 100_000, currency: "EUR" }, by: "admin" }),
        line(3, "2026-06-10T06:30:00.000Z", "market.tick", { symbol: "EURUSD", price: 1.25 }),
        line(4, "2026-06-10T07:00:00.000Z", "execution.filled", { accountId: "eur-1", intentId: null, symbol: "XAUUSD", side: "BUY", quantity: 1, price: 2_000, feeUsd: 0, trigger: "order", accountPerQuote: 0.8 }),
        line(5, "2026-06-10T08:00:00.000Z", "market.tick", { symbol: "XAUUSD", price: xau }),
      ].join("\n");
    // 1 lot (100 oz) from 2,000 to 1,940: -6,000 USD, at 0.8 EUR a dollar -4,800 EUR (as dollars it would breach the 95,000 floor).
    const inside = run(["--preset", "ftmo-2step-100k", "--ledger", file("eur.ndjson", inEur(1_940)), "--currency", "EUR"]);
    expect(inside.code).toBe(0);
    expect(inside.stdout).toContain("account eur-1: COMPLIANT");
    expect(inside.stdout).toContain("equity 95,200.00 EUR");
    // To 1,937.50: -6,250 USD = -5,000 EUR, at the floor: breached, in euros.
    const at = run(["--preset", "ftmo-2step-100k", "--ledger", file("eur-breach.ndjson", inEur(1_937.5)), "--json"]);
    expect(at.code).toBe(1);
    expect(JSON.parse(at.stdout)).toMatchObject({ accounts: [{ accountId: "eur-1", currency: "EUR", breaches: [{ rule: "daily_loss", seq: 5, observed: 95_000, limit: 95_000 }] }] });
    // The ledger says EUR: a run that expects USD is refused, naming the account and both currencies.
    const wrong = run(["--preset", "ftmo-2step-100k", "--ledger", file("eur-usd.ndjson", inEur(1_940)), "--currency", "USD"]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("--currency: account eur-1 is in EUR (its opening on the ledger says so), not USD");
    const unknown = run(["--preset", "ftmo-2step-100k", "--ledger", file("eur-x.ndjson", inEur(1_940)), "--currency", "EUX"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("--currency");
  });
});
