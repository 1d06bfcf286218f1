import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer, TestDatabase } from "./harness";
import { ADMIN_TOKEN, api, databasesUnderTest, startServer, tempDir } from "./harness";

/**
 * Backtests over HTTP on a real server: a run is queued, runs in a worker thread while the
 * server keeps answering, and comes back with its report, its equity with both floors, its
 * ledger and that ledger's replay (no mismatch); bad input is refused with 422 naming the field
 * (an uploaded CSV's line and column), a viewer may look but not run (403), an unknown run is 404.
 */

/** The firm's configuration (RISKGATE_ENGINE_CONFIG): the built-in instruments, and a liquidity limit of its own that backtests must honour. */
const firmConfig = path.join(tempDir("riskgate-firm-"), "engine.json");
fs.writeFileSync(firmConfig, JSON.stringify({ guards: { liquidity: { maxAdvPct: 0.5 } } }));
const databases = await databasesUnderTest("the backtests API suite", { RISKGATE_ENGINE_CONFIG: firmConfig });

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const MSFT_RUN = { dataset: "msft-2000-2001-daily", preset: "ftmo-2step-100k", strategy: "sma-crossover" };

for (const database of databases) {
  describe.skipIf(database.skip)(`backtests API on ${database.name}`, () => {
    let db: TestDatabase;
    let server: RunningServer;
    let viewer: Record<string, string>;
    const call = (method: string, route: string, body?: unknown, headers?: Record<string, string>) => api(server.url, method, route, body, undefined, headers);

    /** Polls the run until it is done or failed; the server answers health all the while. */
    async function settled(id: string): Promise<Json> {
      for (let attempt = 0; attempt < 600; attempt++) {
        const run = (await call("GET", `/api/v1/backtests/${id}`)).body!.backtest;
        if (run.status === "done" || run.status === "failed") return run;
        expect((await call("GET", "/api/health")).status).toBe(200);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`backtest ${id} did not finish in 60 s`);
    }

    beforeAll(async () => {
      db = await database.create();
      server = await startServer(db.env);
      const made = await call("POST", "/api/v1/tokens", { name: "backtests-viewer", role: "viewer" });
      expect(made.status).toBe(201);
      viewer = { authorization: `Bearer ${made.body!.token}` };
    });

    afterAll(async () => {
      await server?.stop("SIGTERM");
      await db?.cleanup();
    });

    it("runs sma-crossover on the MSFT data under FTMO 2-Step: report, equity with floors, ledger, and a replay with no mismatch", async () => {
      const queued = await call("POST", "/api/v1/backtests", MSFT_RUN);
      expect(queued.status).toBe(202);
      expect(queued.body).toMatchObject({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), status: expect.stringMatching(/queued|running/) });
      const id = queued.body!.id as string;

      const run = await settled(id);
      expect(run).toMatchObject({ status: "done", dataset: "msft-2000-2001-daily", preset: "ftmo-2step-100k", strategy: "sma-crossover", risk: "on", seed: 1, by: expect.stringMatching(/^token:/) });
      expect(run.progress).toEqual({ done: 249, total: 249 });
      expect(run.report).toMatchObject({
        data: { file: "msft-2000-2001-daily.csv", symbols: ["MSFT"], bars: 249 },
        strategy: "sma-crossover",
        initialBalanceUsd: 100_000,
        returnPct: expect.any(Number),
        maxDrawdownPct: expect.any(Number),
        deniedByReason: expect.any(Object),
        compliance: { accountId: "backtest", breaches: expect.any(Array), objectives: expect.any(Object) },
      });
      expect(run.report.trades).toBeGreaterThan(0);
      expect(run.summary).toEqual({
        returnPct: run.report.returnPct,
        maxDrawdownPct: run.report.maxDrawdownPct,
        sharpe: run.report.sharpe,
        trades: run.report.trades,
        denied: run.report.intents.denied,
        compliant: run.report.compliance.compliant,
      });
      // Every bar (249 ≤ 1,000), with the FTMO floors: 5% daily of the initial balance, 10% max.
      expect(run.equity).toHaveLength(249);
      expect(run.equity[0]).toMatchObject({ equity: 100_000, dailyLossFloor: 95_000, maxLossFloor: 90_000 });
      expect(run.equity.every((point: Json) => point.at > 0 && Number.isFinite(point.equity))).toBe(true);

      const listed = (await call("GET", "/api/v1/backtests")).body!.backtests;
      expect(listed[0]).toMatchObject({ id, status: "done", summary: run.summary });
      expect(listed[0].report).toBeUndefined();

      const ledger = await fetch(`${server.url}/api/v1/backtests/${id}/ledger`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      expect(ledger.status).toBe(200);
      expect(ledger.headers.get("content-type")).toBe("application/x-ndjson");
      const lines = (await ledger.text()).trim().split("\n");
      expect(JSON.parse(lines[0]!)).toMatchObject({ seq: 1, recordedAt: expect.any(Number), event: { type: expect.any(String) } });

      const replayed = await call("GET", `/api/v1/backtests/${id}/replay`);
      expect(replayed.status).toBe(200);
      const replay = replayed.body!.replay;
      expect(replay).toMatchObject({ id, events: lines.length, mismatchCount: 0, mismatches: [], stateHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect(replay.decisions).toBe(run.report.intents.allowed + run.report.intents.denied);
      expect(replay.decisionList).toHaveLength(replay.decisions);
      expect(replay.decisionList[0]).toMatchObject({ seq: expect.any(Number), symbol: "MSFT", action: "OPEN", outcome: expect.stringMatching(/allowed|denied/) });

      // One seed, one run: the same request again gives the same ledger (the same replay hash).
      const again = await settled((await call("POST", "/api/v1/backtests", MSFT_RUN)).body!.id);
      expect((await call("GET", `/api/v1/backtests/${again.id}/replay`)).body!.replay.stateHash).toBe(replay.stateHash);
    });

    it("runs an uploaded CSV, naming its symbol, and refuses a malformed one with its line and column", async () => {
      const csv = ["date,Open,High,Low,Close,Volume", ...Array.from({ length: 60 }, (_, i) => {
        const day = new Date(Date.UTC(2024, 0, 1) + i * 86_400_000).toISOString().slice(0, 10);
        const close = 100 + 10 * Math.sin(i / 5);
        return `${day},${close},${close + 1},${close - 1},${close},1000000`;
      })].join("\n");
      const queued = await call("POST", "/api/v1/backtests", { csv, csvName: "acme-daily.csv", preset: "ftmo-2step-100k", strategy: "buy-and-hold", risk: "off", seed: 3 });
      expect(queued.status).toBe(202);
      const run = await settled(queued.body!.id);
      expect(run).toMatchObject({ status: "done", dataset: "acme-daily.csv", uploaded: true, risk: "off", report: { data: { symbols: ["ACME"], bars: 60 } } });

      const broken = csv.replace(/\n2024-01-03,[^,]+,/, "\n2024-01-03,oops,");
      const refused = await call("POST", "/api/v1/backtests", { csv: broken, csvName: "acme-daily.csv", preset: "ftmo-2step-100k", strategy: "buy-and-hold" });
      expect(refused.status).toBe(422);
      expect(refused.type).toContain("application/problem+json");
      expect(refused.body!.errors).toEqual([{ path: "csv", message: 'acme-daily.csv:4 (column Open): "oops" is not a positive number' }]);
      const noHeader = await call("POST", "/api/v1/backtests", { csv: "1,2,3\n", preset: "ftmo-2step-100k", strategy: "buy-and-hold" });
      expect(noHeader.status).toBe(422);
      expect(noHeader.body!.errors[0]).toMatchObject({ path: "csv", message: expect.stringContaining("upload.csv:1") });
    });

    it("says in the report what it guessed of an uploaded symbol, runs under the instruments sent with it, and refuses bad ones naming the field", async () => {
      const csv = ["time,Open,High,Low,Close", ...Array.from({ length: 24 }, (_, i) => {
        const at = new Date(Date.UTC(2024, 2, 4, 8) + i * 1_800_000).toISOString();
        const close = (0.95 + i * 0.0005).toFixed(5);
        return `${at},${close},${close},${close},${close}`;
      })].join("\n");
      const upload = { csv, csvName: "eurchf-30m.csv", preset: "ftmo-2step-100k", strategy: "buy-and-hold" };
      const guessed = await settled((await call("POST", "/api/v1/backtests", upload)).body!.id);
      expect(guessed.status).toBe("done");
      expect(guessed.report.warnings).toEqual([
        "EURCHF: not a known instrument: taken as an FX pair (contract size 100000, tick 0.00001, quote currency CHF); state it in an instruments file if it is not",
        "EURCHF: daily volume unknown (no averageDailyVolume, no volume in the file): the liquidity guard does not check its entries",
        "EURCHF: quoted in CHF, and the file has no CHFUSD or USDCHF to convert it to USD: its P/L is booked 1 CHF = 1 USD; add the pair's column to the file, or state quoteCurrency in an instruments file",
      ]);
      expect(guessed.report.deniedByReason).toEqual({});

      const EURCHF = { sector: "fx", contractSize: 100_000, tickSize: 0.00001, averageDailyVolume: 500_000, quoteCurrency: "CHF" };
      const queued = await call("POST", "/api/v1/backtests", { ...upload, instruments: { EURCHF } });
      expect(queued.status).toBe(202);
      const stated = await settled(queued.body!.id);
      // Stated in CHF with no CHF rate in the file: nothing guessed, one line on why entries are denied.
      expect(stated.report.warnings).toEqual([
        "EURCHF: quoted in CHF, and the file has no CHFUSD or USDCHF to convert it to USD: its entries are denied (no_price) until one is there; add the pair's column to the file",
      ]);
      const ledger = await fetch(`${server.url}/api/v1/backtests/${stated.id}/ledger`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      const applied = (await ledger.text()).split("\n").find((line) => line.includes('"config.applied"'))!;
      expect(JSON.parse(applied).event.config.instruments.EURCHF).toEqual(EURCHF);
      // The server's RISKGATE_ENGINE_CONFIG is the run's firm configuration.
      expect(JSON.parse(applied).event.config.guards.liquidity.maxAdvPct).toBe(0.5);

      const refused = await call("POST", "/api/v1/backtests", { ...upload, instruments: { EURCHF: { ...EURCHF, contractSize: 0, quoteCurrency: "chf" } } });
      expect(refused.status).toBe(422);
      expect(refused.body!.errors.map((issue: Json) => issue.path).sort()).toEqual(["instruments.EURCHF.contractSize", "instruments.EURCHF.quoteCurrency"]);
      const badSymbol = await call("POST", "/api/v1/backtests", { ...upload, instruments: { "eur chf": EURCHF } });
      expect(badSymbol.status).toBe(422);
      expect(badSymbol.body!.errors[0].path).toMatch(/^instruments/);
    });

    it("runs an upload in a EUR account: the run, its report and its ledger say EUR, francs converted at the file's own EURCHF", async () => {
      const csv = ["time,Open,High,Low,Close", ...Array.from({ length: 24 }, (_, i) => {
        const at = new Date(Date.UTC(2024, 2, 4, 8) + i * 1_800_000).toISOString();
        const close = (0.95 + i * 0.0005).toFixed(5);
        return `${at},${close},${close},${close},${close}`;
      })].join("\n");
      const queued = await call("POST", "/api/v1/backtests", { csv, csvName: "eurchf-30m.csv", preset: "ftmo-2step-100k", strategy: "buy-and-hold", currency: "EUR" });
      expect(queued.status).toBe(202);
      expect(queued.body!.backtest.currency).toBe("EUR");
      const run = await settled(queued.body!.id);
      expect(run.status).toBe("done");
      expect(run.report).toMatchObject({ currency: "EUR", compliance: { currency: "EUR" } });
      expect(run.report.warnings.join("\n")).not.toContain("to convert it");
      const ledger = await fetch(`${server.url}/api/v1/backtests/${run.id}/ledger`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
      const lines = (await ledger.text()).trim().split("\n").map((line) => JSON.parse(line));
      expect(lines.find((line) => line.event.type === "account.opened").event.account.currency).toBe("EUR");
      const fill = lines.find((line) => line.event.type === "execution.filled").event;
      // EUR per franc at the fill: 1 / EURCHF's last close.
      expect(fill.accountPerQuote).toBeCloseTo(1 / fill.price, 2);
      const refused = await call("POST", "/api/v1/backtests", { ...MSFT_RUN, currency: "XYZ" });
      expect(refused.status).toBe(422);
      expect(refused.body!.errors[0].path).toBe("currency");
    });

    it("refuses an unknown preset, an unknown strategy, a module path as strategy, and a balance the preset is not written for (422 naming the field)", async () => {
      const cases: [Json, string][] = [
        [{ ...MSFT_RUN, preset: "no-such-preset" }, "preset"],
        [{ ...MSFT_RUN, strategy: "martingale" }, "strategy"],
        [{ ...MSFT_RUN, strategy: "./server/backtest/strategies.ts" }, "strategy"],
        [{ ...MSFT_RUN, strategy: "/etc/passwd.js" }, "strategy"],
        [{ ...MSFT_RUN, dataset: "../../etc/passwd" }, "dataset"],
        [{ ...MSFT_RUN, balance: 50_000 }, "balance"],
        [{ ...MSFT_RUN, risk: "maybe" }, "risk"],
        [{ preset: "ftmo-2step-100k", strategy: "sma-crossover" }, "dataset"],
        [{ ...MSFT_RUN, csv: "date,Open,High,Low,Close\n" }, "dataset"],
      ];
      const before = (await call("GET", "/api/v1/backtests")).body!.backtests.length;
      for (const [body, field] of cases) {
        const refused = await call("POST", "/api/v1/backtests", body);
        expect(refused.status, JSON.stringify(body)).toBe(422);
        expect(refused.body!.code).toBe("validation_failed");
        expect(refused.body!.errors.map((issue: Json) => issue.path), JSON.stringify(body)).toContain(field);
      }
      expect((await call("GET", "/api/v1/backtests")).body!.backtests).toHaveLength(before);
    });

    it("lets a viewer see the runs but not start one (403)", async () => {
      const refused = await call("POST", "/api/v1/backtests", MSFT_RUN, viewer);
      expect(refused.status).toBe(403);
      expect(refused.body!.code).toBe("forbidden");
      const listed = await call("GET", "/api/v1/backtests", undefined, viewer);
      expect(listed.status).toBe(200);
      expect(listed.body!.backtests.length).toBeGreaterThan(0);
      const id = listed.body!.backtests[0].id;
      expect((await call("GET", `/api/v1/backtests/${id}`, undefined, viewer)).status).toBe(200);
      expect((await call("GET", `/api/v1/backtests/${id}/replay`, undefined, viewer)).status).toBe(200);
    });

    it("answers 404 for an unknown run, and 422 for an id that is not one", async () => {
      for (const route of ["", "/ledger", "/replay"]) {
        const unknown = await call("GET", `/api/v1/backtests/00000000-0000-4000-8000-000000000000${route}`);
        expect(unknown.status).toBe(404);
        expect(unknown.body!.code).toBe("not_found");
      }
      expect((await call("GET", "/api/v1/backtests/not-an-id")).status).toBe(422);
    });

    it("lists the endpoints in the OpenAPI document", async () => {
      const document = (await call("GET", "/api/v1/openapi.json")).body!;
      expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(["/api/v1/backtests", "/api/v1/backtests/{backtestId}", "/api/v1/backtests/{backtestId}/ledger", "/api/v1/backtests/{backtestId}/replay"]));
    });
  });
}
