import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { root, tempDir } from "./harness";

/** `npm run backtest` as a user runs it: a CSV in, three files out, exit 0 / 2. */

const MSFT = "test/fixtures/data/msft-2000-2001-daily.csv";
const EU = "test/fixtures/data/eu-stock-markets-1991-1998-daily.csv";

function run(script: string, args: string[], env: Record<string, string> = {}) {
  const inherited = { ...process.env };
  delete inherited.RISKGATE_ENGINE_CONFIG; // the test says which configuration it runs under
  const result = spawnSync(process.execPath, ["--import", "tsx", script, ...args], { cwd: root, encoding: "utf8", env: { ...inherited, ...env } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
const backtest = (args: string[], env?: Record<string, string>) => run("server/cli/backtest.ts", args, env);

function csv(name: string, text: string): string {
  const target = path.join(tempDir("riskgate-backtest-"), name);
  fs.writeFileSync(target, text);
  return target;
}

describe("npm run backtest", () => {
  it("writes ledger.ndjson, equity.csv and report.json, prints one summary line, and its ledger replays and verifies", () => {
    const out = tempDir("riskgate-backtest-out-");
    const result = backtest(["--data", MSFT, "--preset", "ftmo-2step-100k", "--strategy", "sma-crossover", "--out", out]);
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split("\n")).toHaveLength(1);
    expect(result.stdout).toMatch(/^backtest sma-crossover on MSFT \(249 bars\), preset ftmo-2step-100k, risk on, seed 1: return -?\d+\.\d\d%, max drawdown \d+\.\d\d%, Sharpe /);
    expect(result.stderr).toBe(""); // not a terminal: no progress bar
    const equity = fs.readFileSync(path.join(out, "equity.csv"), "utf8").trim().split("\n");
    expect(equity[0]).toBe("time,equity,balance,baseline,daily_loss_floor,max_loss_floor");
    expect(equity).toHaveLength(250);
    expect(equity[1]).toBe("2000-09-27T20:00:00.000Z,100000.00,100000.00,100000.00,95000.00,90000.00");
    const report = JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8"));
    expect(report).toMatchObject({ strategy: "sma-crossover", preset: "ftmo-2step-100k", risk: "on", seed: 1, data: { format: "ohlcv", symbols: ["MSFT"], bars: 249 } });
    expect(report.compliance.breaches[0]).toMatchObject({ rule: "daily_loss" });
    const ledger = path.join(out, "ledger.ndjson");
    const replayed = run("server/cli/replay.ts", [ledger]);
    expect(replayed.code).toBe(0);
    expect(replayed.stdout).toContain("mismatches: 0");
    const verified = run("server/cli/verify.ts", ["--preset", "ftmo-2step-100k", "--ledger", ledger, "--json"]);
    expect(verified.code).toBe(1);
    expect(JSON.parse(verified.stdout).accounts[0].breaches).toEqual(report.compliance.breaches);
  }, 60_000);

  it("runs a multi-symbol file with risk off and a seed", () => {
    const out = tempDir("riskgate-backtest-out-");
    const result = backtest(["--data", EU, "--preset", "the5ers-high-stakes", "--strategy", "buy-and-hold", "--risk", "off", "--seed", "7", "--balance", "50000", "--out", out]);
    expect(result.code).toBe(0);
    const report = JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8"));
    expect(report).toMatchObject({ risk: "off", seed: 7, initialBalanceUsd: 50_000, intents: { denied: 0 }, data: { format: "closes", symbols: ["DAX", "SMI", "CAC", "FTSE"] } });
  }, 60_000);

  it("exits 2 naming the flag for bad or missing flags", () => {
    const out = tempDir("riskgate-backtest-out-");
    const base = ["--data", MSFT, "--preset", "ftmo-2step-100k", "--strategy", "reckless", "--out", out];
    expect(backtest(base.slice(2))).toMatchObject({ code: 2, stderr: expect.stringContaining("--data is required") });
    expect(backtest([...base, "--risk", "maybe"])).toMatchObject({ code: 2, stderr: expect.stringContaining('--risk: "maybe" is neither on nor off') });
    expect(backtest([...base, "--seed", "-1"])).toMatchObject({ code: 2, stderr: expect.stringContaining("--seed") });
    expect(backtest([...base, "--speed", "9"])).toMatchObject({ code: 2, stderr: expect.stringContaining("--speed") });
    expect(backtest([...base, "--balance", "50000"])).toMatchObject({ code: 2, stderr: expect.stringContaining("--balance: preset ftmo-2step-100k is written for an account of 100000 USD") });
    expect(backtest(["--data", MSFT, "--preset", "nope", "--strategy", "reckless", "--out", out])).toMatchObject({ code: 2, stderr: expect.stringContaining("--preset: no preset nope") });
    expect(backtest(["--data", MSFT, "--preset", "e8-one", "--strategy", "yolo", "--out", out])).toMatchObject({ code: 2, stderr: expect.stringContaining("--strategy: no built-in strategy yolo") });
    expect(backtest(["--data", "/nonexistent.csv", "--preset", "e8-one", "--strategy", "reckless", "--out", out])).toMatchObject({ code: 2, stderr: expect.stringContaining("--data: cannot read /nonexistent.csv") });
    expect(backtest(["--data", EU, "--symbol", "DAX", "--preset", "e8-one", "--strategy", "reckless", "--out", out])).toMatchObject({ code: 2, stderr: expect.stringContaining("--symbol") });
    expect(fs.readdirSync(out)).toEqual([]);
  }, 60_000);

  it("exits 2 naming the CSV's line and column", () => {
    const out = tempDir("riskgate-backtest-out-");
    const unordered = csv("acme.csv", "date,Open,High,Low,Close\n2024-01-03,1,2,0.5,1.5\n2024-01-02,1,2,0.5,1.5\n");
    const args = (data: string) => ["--data", data, "--preset", "e8-one", "--strategy", "buy-and-hold", "--out", out];
    const result = backtest(args(unordered));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("acme.csv:3 (column date): 2024-01-02 is not after the row before");
    const bad = csv("acme.csv", "date,Open,High,Low,Close\n2024-01-02,1,2,0.5,n/a\n");
    expect(backtest(args(bad)).stderr).toContain("acme.csv:2 (column Close)");
  }, 60_000);

  describe("instruments", () => {
    // Half-hourly EURCHF without a volume column, rising: buy-and-hold buys on the first bar.
    const rows = Array.from({ length: 12 }, (_, i) => {
      const close = (0.95 + i * 0.0005).toFixed(5);
      return `2024-03-04T${String(8 + Math.floor(i / 2)).padStart(2, "0")}:${i % 2 === 0 ? "00" : "30"}:00Z,${close},${close},${close},${close}`;
    });
    const eurchf = () => csv("eurchf-30m.csv", `time,Open,High,Low,Close\n${rows.join("\n")}\n`);
    const args = (out: string, ...more: string[]) => ["--data", eurchf(), "--preset", "ftmo-2step-100k", "--strategy", "buy-and-hold", "--out", out, ...more];
    const stated = { sector: "fx", cluster: "fx-crosses", contractSize: 100_000, tickSize: 0.00001, averageDailyVolume: 500_000, quoteCurrency: "CHF" };
    const appliedInstrument = (out: string) => {
      const first = JSON.parse(fs.readFileSync(path.join(out, "ledger.ndjson"), "utf8").split("\n").find((line) => line.includes('"config.applied"'))!);
      return first.event.config.instruments.EURCHF;
    };

    it("says on stderr and in the report what it guessed: an ISO pair taken as FX, its volume unknown to the liquidity guard", () => {
      const out = tempDir("riskgate-backtest-out-");
      const result = backtest(args(out));
      expect(result.code).toBe(0);
      const warnings = [
        "EURCHF: not a known instrument: taken as an FX pair (contract size 100000, tick 0.00001, quote currency CHF); state it in an instruments file if it is not",
        "EURCHF: daily volume unknown (no averageDailyVolume, no volume in the file): the liquidity guard does not check its entries",
        "EURCHF: quoted in CHF, and the file has no CHFUSD or USDCHF to convert it to USD: its P/L is booked 1 CHF = 1 USD; add the pair's column to the file, or state quoteCurrency in an instruments file",
      ];
      expect(result.stderr).toBe(warnings.map((warning) => `backtest: warning: ${warning}\n`).join(""));
      const report = JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8"));
      expect(report.warnings).toEqual(warnings);
      expect(report.deniedByReason).toEqual({});
      expect(report.fills).toBeGreaterThan(0);
      expect(appliedInstrument(out)).toEqual({ sector: "fx", contractSize: 100_000, tickSize: 0.00001, quoteCurrency: "USD" });
    }, 60_000);

    it("runs a EUR account with --currency EUR: EURCHF's francs convert at the file's own EURCHF, every amount in euros, and the verifier agrees", () => {
      const out = tempDir("riskgate-backtest-out-");
      const result = backtest(args(out, "--currency", "EUR"));
      expect(result.code).toBe(0);
      // No warning about a missing pair: CHF into EUR is 1 / EURCHF, a column of the file.
      expect(result.stderr).not.toContain("to convert it");
      const report = JSON.parse(fs.readFileSync(path.join(out, "report.json"), "utf8"));
      expect(report).toMatchObject({ currency: "EUR", compliance: { currency: "EUR" } });
      const events = fs.readFileSync(path.join(out, "ledger.ndjson"), "utf8").trim().split("\n").map((line) => JSON.parse(line));
      expect(events.find((line) => line.event.type === "account.opened").event.account.currency).toBe("EUR");
      // Held to the end: (last - average) × lots × 100,000 CHF, at 1 / last EUR a franc, less the fees.
      const fills = events.filter((line) => line.event.type === "execution.filled").map((line) => line.event);
      expect(fills.length).toBeGreaterThan(0);
      const lots = fills.reduce((sum: number, fill: { quantity: number }) => sum + fill.quantity, 0);
      const average = fills.reduce((sum: number, fill: { quantity: number; price: number }) => sum + fill.quantity * fill.price, 0) / lots;
      const fees = fills.reduce((sum: number, fill: { feeUsd: number }) => sum + fill.feeUsd, 0);
      const last = 0.95 + 11 * 0.0005;
      expect(report.finalEquity).toBeCloseTo(100_000 + ((last - average) * lots * 100_000) / last - fees, 2);
      const verified = run("server/cli/verify.ts", ["--preset", "ftmo-2step-100k", "--ledger", path.join(out, "ledger.ndjson"), "--currency", "EUR"]);
      expect(verified.code).toBe(0);
      expect(verified.stdout).toContain("initial 100,000.00 EUR");
      const bad = backtest(args(tempDir("riskgate-backtest-out-"), "--currency", "EURO"));
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('--currency: "EURO" is not an ISO 4217 currency code');
    }, 60_000);

    it("honours RISKGATE_ENGINE_CONFIG, and an --instruments file over it, guessing nothing", () => {
      const firm = csv("engine.json", JSON.stringify({ instruments: { EURCHF: stated } }));
      const out = tempDir("riskgate-backtest-out-");
      // Stated in CHF, and the file has no CHF rate: nothing is guessed, and the one line says why entries are denied.
      const noRate = "backtest: warning: EURCHF: quoted in CHF, and the file has no CHFUSD or USDCHF to convert it to USD: its entries are denied (no_price) until one is there; add the pair's column to the file\n";
      const fromFirm = backtest(args(out), { RISKGATE_ENGINE_CONFIG: firm });
      expect(fromFirm).toMatchObject({ code: 0, stderr: noRate });
      expect(appliedInstrument(out)).toEqual(stated);
      const file = csv("instruments.json", JSON.stringify({ EURCHF: { ...stated, averageDailyVolume: 800_000 } }));
      const fromFile = backtest(args(out, "--instruments", file), { RISKGATE_ENGINE_CONFIG: firm });
      expect(fromFile).toMatchObject({ code: 0, stderr: noRate });
      expect(appliedInstrument(out)).toEqual({ ...stated, averageDailyVolume: 800_000 });
    }, 60_000);

    it("exits 2 naming the field of a bad instruments file or engine configuration", () => {
      const out = tempDir("riskgate-backtest-out-");
      const bad = csv("instruments.json", JSON.stringify({ EURCHF: { ...stated, contractSize: -1, quoteCurrency: "chf" } }));
      const result = backtest(args(out, "--instruments", bad));
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("--instruments: ");
      expect(result.stderr).toContain("EURCHF.contractSize: ");
      expect(result.stderr).toContain("EURCHF.quoteCurrency: an ISO 4217 currency code");
      const firm = csv("engine.json", JSON.stringify({ instruments: { EURCHF: { ...stated, tickSize: 0 } } }));
      const misconfigured = backtest(args(out), { RISKGATE_ENGINE_CONFIG: firm });
      expect(misconfigured.code).toBe(2);
      expect(misconfigured.stderr).toContain("RISKGATE_ENGINE_CONFIG");
      expect(misconfigured.stderr).toContain("instruments.EURCHF.tickSize");
    }, 60_000);
  });
});
