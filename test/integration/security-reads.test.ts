import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer, TestDatabase } from "./harness";
import { DEMO_ACCOUNT } from "../fixtures";
import { adminAuth, api, databasesUnderTest, startServer } from "./harness";

/**
 * Security regressions of issue 16, finding 9 ("scoped callers see firm-wide data"), against a
 * real server: a caller scoped to accounts reads only the backtests it ran itself (another's run
 * is as absent as an unknown one: 404, so ids do not leak), never who ran a run, and health tells
 * an anonymous caller only whether the server is up. (The embedded database is enough: none of
 * this depends on the storage.)
 */

const [embedded] = await databasesUnderTest("the read-scope security suite");

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any
type Headers = Record<string, string>;

const MSFT_RUN = { dataset: "msft-2000-2001-daily", preset: "ftmo-2step-100k", strategy: "sma-crossover" };
/** What health adds for callers who may read the firm's metrics. */
const HEALTH_DETAILS = ["database", "seq", "uptimeSeconds", "alerts", "stream"];

describe("read scope (issue 16, finding 9)", () => {
  let db: TestDatabase;
  let server: RunningServer;
  const call = (method: string, route: string, body?: unknown, headers?: Headers) => api(server.url, method, route, body, undefined, headers);

  async function token(name: string, role: string, accounts: string[] | null): Promise<Headers> {
    const made = await call("POST", "/api/v1/tokens", { name, role, accounts });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    return { authorization: `Bearer ${made.body!.token}` };
  }

  /** Submits a run as `headers` (the admin by default) and polls it as the same caller until it is done. */
  async function finishedRun(headers: Headers = {}): Promise<Json> {
    const queued = await call("POST", "/api/v1/backtests", MSFT_RUN, headers);
    expect(queued.status, JSON.stringify(queued.body)).toBe(202);
    for (let attempt = 0; attempt < 600; attempt++) {
      const run = (await call("GET", `/api/v1/backtests/${queued.body!.id}`, undefined, headers)).body!.backtest;
      if (run.status === "done") return run;
      expect(run.status).not.toBe("failed");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error("the backtest did not finish in 60 s");
  }

  /** The run's three reads (the run, its ledger as NDJSON, its replay) as `headers` (the admin by default): each status, and a refusal's code and detail. */
  async function reads(id: string, headers: Headers): Promise<{ status: number; code: unknown; detail: unknown }[]> {
    return Promise.all(
      ["", "/ledger", "/replay"].map(async (tail) => {
        const response = await fetch(`${server.url}/api/v1/backtests/${id}${tail}`, { headers: { ...adminAuth, ...headers } });
        const problem = response.headers.get("content-type")?.startsWith("application/problem+json") ? ((await response.json()) as Json) : (await response.text(), null);
        return { status: response.status, code: problem?.code, detail: problem?.detail };
      }),
    );
  }

  beforeAll(async () => {
    db = await embedded!.create();
    server = await startServer(db.env);
  });

  afterAll(async () => {
    await server?.stop("SIGTERM");
    await db?.cleanup();
  });

  it("shows a strategy scoped to one account none of the backtests others ran: absent from its list, 404 on the run, its ledger and its replay", async () => {
    const strategy = await token("reads-strategy", "strategy", [DEMO_ACCOUNT]);
    const run = await finishedRun();

    const listed = await call("GET", "/api/v1/backtests", undefined, strategy);
    expect(listed.status).toBe(200);
    expect(listed.body!.backtests).toEqual([]);
    // Another's run answers exactly as a run that does not exist: its id tells nothing.
    const unknown = "00000000-0000-4000-8000-000000000000";
    const hidden = await reads(run.id, strategy);
    const absent = await reads(unknown, strategy);
    expect(hidden.map((answer) => answer.status)).toEqual([404, 404, 404]);
    expect(hidden.map((answer) => answer.code)).toEqual(["not_found", "not_found", "not_found"]);
    expect(hidden.map((answer) => String(answer.detail).replace(run.id, "ID"))).toEqual(absent.map((answer) => String(answer.detail).replace(unknown, "ID")));

    // The admin still sees every run, and who ran it.
    const all = (await call("GET", "/api/v1/backtests")).body!.backtests;
    expect(all.find((item: Json) => item.id === run.id)).toMatchObject({ status: "done", by: "token:admin (RISKGATE_ADMIN_TOKEN)" });
    expect((await reads(run.id, {})).map((answer) => answer.status)).toEqual([200, 200, 200]);
  });

  it("shows a scoped risk manager the runs it submitted (without who ran them), not the admin's nor another credential's of the same name", async () => {
    const mine = await token("reads-rm-scoped", "risk_manager", [DEMO_ACCOUNT]);
    const namesake = await token("reads-rm-scoped", "risk_manager", [DEMO_ACCOUNT]);
    const admins = await finishedRun();

    const queued = await call("POST", "/api/v1/backtests", MSFT_RUN, mine);
    expect(queued.status).toBe(202);
    expect(queued.body!.backtest.by).toBeNull();
    const run = await finishedRun(mine);
    expect(run).toMatchObject({ status: "done", by: null, report: { preset: "ftmo-2step-100k" } });
    expect((await reads(run.id, mine)).map((answer) => answer.status)).toEqual([200, 200, 200]);

    const listed = (await call("GET", "/api/v1/backtests", undefined, mine)).body!.backtests;
    expect(listed.map((item: Json) => item.id).sort()).toEqual([queued.body!.id, run.id].sort());
    expect(listed.map((item: Json) => item.by)).toEqual([null, null]);
    expect((await reads(admins.id, mine)).map((answer) => answer.status)).toEqual([404, 404, 404]);

    // Runs belong to the credential, not to its name: another token called the same sees none of them.
    expect((await call("GET", "/api/v1/backtests", undefined, namesake)).body!.backtests).toEqual([]);
    expect((await reads(run.id, namesake)).map((answer) => answer.status)).toEqual([404, 404, 404]);

    // Unscoped callers see the run and who ran it.
    const viewer = await token("reads-viewer", "viewer", null);
    const seen = (await call("GET", `/api/v1/backtests/${run.id}`, undefined, viewer)).body!.backtest;
    expect(seen.by).toBe("token:reads-rm-scoped");
  });

  it("answers health without credentials with its status only, and with its details to callers who may read the metrics", async () => {
    const anonymous = await call("GET", "/api/health", undefined, { authorization: "" });
    expect(anonymous.status).toBe(200);
    expect(anonymous.body).toEqual({ status: "ok" });
    // A credential that is not valid is no credential: the status only (not 401, so probes never fail on it).
    const unknown = await call("GET", "/api/health", undefined, { authorization: "Bearer rg_not_a_token_of_this_server" });
    expect(unknown.status).toBe(200);
    expect(unknown.body).toEqual({ status: "ok" });
    // Callers who may not read the firm's figures: a strategy, a scoped viewer, a feed.
    for (const [name, role, accounts] of [["reads-health-strategy", "strategy", [DEMO_ACCOUNT]], ["reads-health-viewer-scoped", "viewer", [DEMO_ACCOUNT]], ["reads-health-feed", "feed", null]] as const) {
      const answer = await call("GET", "/api/health", undefined, await token(name, role, accounts ? [...accounts] : null));
      expect(answer.status, name).toBe(200);
      expect(answer.body, name).toEqual({ status: "ok" });
    }

    const metrics = await token("reads-metrics", "metrics", null);
    for (const headers of [metrics, {}]) {
      const detailed = await call("GET", "/api/health", undefined, headers);
      expect(detailed.status).toBe(200);
      expect(detailed.body).toMatchObject({ status: "ok", seq: expect.any(Number), database: "embedded" });
      expect(Object.keys(detailed.body!)).toEqual(expect.arrayContaining(HEALTH_DETAILS));
    }
  });
});
