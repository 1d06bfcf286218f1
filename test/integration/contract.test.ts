import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Endpoint, EndpointId } from "@/server/api/catalog";
import { endpoints } from "@/server/api/catalog";
import { DEMO_ACCOUNT, EURUSD_TICK, presetFixture, sampleIntent } from "../fixtures";
import type { RunningServer, TestDatabase } from "./harness";
import { ADMIN_PASSWORD, adminAuth, databasesUnderTest, startServer } from "./harness";

/**
 * The contract test: one representative request per operation against a real server, and each
 * answer (status, content type, body) validated with Ajv against the schema the served OpenAPI
 * document gives that operation and status. A body the document does not describe fails.
 */

/** Operations with no body to describe (204). */
const NO_BODY: EndpointId[] = ["logout"];
/**
 * Operations whose success needs state this suite does not build (a lock-out, a side lock): the
 * call answers a problem, validated against the document all the same.
 */
const PROBLEM_ONLY: EndpointId[] = ["reopenAccount", "unlockSide"];

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any
type Call = { id: EndpointId; params?: Record<string, string>; query?: Record<string, string>; body?: unknown; headers?: Record<string, string> };
type Answer = { status: number; type: string; text: string; json: Json };

const reason = (text: string) => ({ reason: text });
const demo = { accountId: DEMO_ACCOUNT };

describe("every operation's described success body is what the server answers", () => {
  it("describes the success body of every operation of the catalog but those without one", () => {
    const undescribed = (Object.entries(endpoints) as [EndpointId, Endpoint][]).filter(([, spec]) => !spec.success.response).map(([id]) => id);
    expect(undescribed.sort()).toEqual([...NO_BODY].sort());
  });
});

const databases = await databasesUnderTest("the contract test");
const embedded = databases[0]!;

describe("the contract test (embedded)", () => {
  let database: TestDatabase;
  let server: RunningServer;
  let document: Json;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  const validators = new Map<string, ReturnType<typeof ajv.compile>>();

  beforeAll(async () => {
    database = await embedded.create();
    server = await startServer(database.env);
    document = await (await fetch(`${server.url}/api/v1/openapi.json`)).json();
    // The document's shared schemas, reachable as `#/components/schemas/...` from any operation.
    ajv.addSchema({ $id: "openapi.json", components: document.components }, "openapi.json");
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await database?.cleanup();
  });

  async function call({ id, params, query, body, headers }: Call): Promise<Answer> {
    const spec = endpoints[id] as Endpoint;
    const path = spec.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params![name]!));
    const search = new URLSearchParams(query ?? {}).toString();
    const response = await fetch(`${server.url}${path}${search ? `?${search}` : ""}`, {
      method: spec.method,
      headers: { ...adminAuth, ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const type = response.headers.get("content-type") ?? "";
    return { status: response.status, type, text, json: /^application\/(problem\+)?json/.test(type) && text ? JSON.parse(text) : null };
  }

  /** Validates the answer against the document's schema for the operation, its status and content type; returns the answer. */
  function check(id: EndpointId, answer: Answer): Answer {
    const spec = endpoints[id] as Endpoint;
    const operation = document.paths[spec.path]?.[spec.method.toLowerCase()];
    expect(operation, `${id} is in the document`).toBeDefined();
    const described = operation.responses[String(answer.status)];
    expect(described, `${id} answered ${answer.status}, which its document does not list: ${answer.text.slice(0, 300)}`).toBeDefined();
    if (answer.status === 204) return answer;
    const mediaType = answer.type.split(";")[0]!.trim();
    const content = described.content?.[mediaType];
    expect(content, `${id} answered ${answer.status} as ${mediaType}, which its document does not list`).toBeDefined();
    const key = `${id} ${answer.status} ${mediaType}`;
    let validate = validators.get(key);
    if (!validate) {
      validate = ajv.compile(JSON.parse(JSON.stringify(content.schema).replaceAll('"#/components/', '"openapi.json#/components/')));
      validators.set(key, validate);
    }
    if (mediaType === "application/x-ndjson") {
      // The schema is a line's: every line validates.
      const lines = answer.text.split("\n").filter((line) => line !== "");
      expect(lines.length, `${key}: no line`).toBeGreaterThan(0);
      for (const [index, line] of lines.entries()) {
        expect(validate(JSON.parse(line)), `${key} line ${index + 1} does not match the document: ${ajv.errorsText(validate.errors, { separator: "\n" })}`).toBe(true);
      }
      return answer;
    }
    const value = /^application\/(problem\+)?json$/.test(mediaType) ? answer.json : answer.text;
    const valid = validate(value);
    expect(valid, `${key} does not match the document: ${ajv.errorsText(validate.errors, { separator: "\n" })}`).toBe(true);
    return answer;
  }

  /** Operations answered with their success status. */
  const succeeded = new Set<EndpointId>();

  async function exercise(request: Call, expected?: number): Promise<Json> {
    const answer = check(request.id, await call(request));
    const success = (endpoints[request.id] as Endpoint).success.status;
    if (answer.status === success) succeeded.add(request.id);
    expect(answer.status, `${request.id}: ${answer.text.slice(0, 300)}`).toBe(expected ?? success);
    return answer.json;
  }

  it("validates a request of every operation", async () => {
    await exercise({ id: "health" });
    await exercise({ id: "metrics" });
    await exercise({ id: "openapi" });
    await exercise({ id: "asyncapi" });

    // Users, sessions and tokens.
    const made = await exercise({ id: "createUser", body: { username: "contract-rm", password: "contract-password-1", role: "risk_manager" } });
    await exercise({ id: "listUsers" });
    await exercise({ id: "disableUser", params: { userId: made.user.id } });
    await exercise({ id: "enableUser", params: { userId: made.user.id } });
    await exercise({ id: "resetPassword", params: { userId: made.user.id }, body: { password: "contract-password-2" } });
    const session = await call({ id: "login", body: { username: "contract-rm", password: "contract-password-2" } });
    check("login", session);
    expect(session.status).toBe(200);
    succeeded.add("login");
    const loggedIn = await fetch(`${server.url}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "contract-rm", password: "contract-password-2" }) });
    const cookie = loggedIn.headers.getSetCookie().map((line) => line.split(";")[0]).join("; ");
    const csrf = ((await loggedIn.json()) as Json).csrfToken as string;
    const asSession = { authorization: "", cookie, "x-csrf-token": csrf };
    await exercise({ id: "me", headers: asSession });
    await exercise({ id: "me" });
    await exercise({ id: "changePassword", headers: asSession, body: { currentPassword: "contract-password-2", newPassword: "contract-password-3" } });
    await exercise({ id: "logout", headers: asSession });
    await exercise({ id: "login", body: { username: "admin", password: `${ADMIN_PASSWORD}-wrong` } }, 401);
    const token = await exercise({ id: "createToken", body: { name: "contract-token", role: "viewer" } });
    await exercise({ id: "listTokens" });
    await exercise({ id: "revokeToken", params: { tokenId: token.id } });

    // Accounts.
    await exercise({ id: "listAccounts" });
    await exercise({ id: "openAccount", body: { accountId: "contract-open", name: "Contract", presetId: "ftmo-2step-100k", initialBalanceUsd: 100_000, currency: "EUR" } });
    await exercise({ id: "openAccounts", body: { accounts: [{ accountId: "contract-bulk", name: "Contract bulk", presetId: "ftmo-2step-100k", initialBalanceUsd: 100_000 }, { accountId: "contract-bulk-eur", name: "Contract bulk EUR", presetId: "ftmo-2step-100k", initialBalanceUsd: 100_000, currency: "EUR" }] } });
    await exercise({ id: "getAccount", params: demo });
    await exercise({ id: "equity", params: demo, query: { points: "50" } });
    await exercise({ id: "reopenAccount", params: demo, body: reason("contract: reopen") }, 409);
    await exercise({ id: "enterReducing", params: demo, body: reason("contract: reduce") });
    await exercise({ id: "endReducing", params: demo, body: reason("contract: end") });
    await exercise({ id: "tripBreaker", params: { ...demo, breaker: "manual" }, body: reason("contract: trip") });
    await exercise({ id: "resetBreaker", params: { ...demo, breaker: "manual" }, body: reason("contract: reset") });
    await exercise({ id: "lockSymbol", params: demo, body: { symbol: "GBPUSD", reason: "contract: lock" } });
    await exercise({ id: "listVetoes", params: demo });
    await exercise({ id: "unlockSymbol", params: { ...demo, symbol: "GBPUSD" }, body: reason("contract: unlock") });
    await exercise({ id: "unlockSide", params: { ...demo, side: "BUY" }, body: reason("contract: unlock side") }, 409);
    await exercise({ id: "objectives", params: demo });
    await exercise({ id: "closedTrades", params: demo });

    // Trading: a price, an allowed and a denied intent (with and without a replay), fills, a flatten.
    await exercise({ id: "recordMarket", body: EURUSD_TICK });
    const allowed = await exercise({ id: "submitIntent", body: sampleIntent("contract-1", { quantity: 0.01 }), headers: { "idempotency-key": "contract-1" } });
    expect(allowed.decision.outcome).toBe("allowed");
    await exercise({ id: "submitIntent", body: sampleIntent("contract-1", { quantity: 0.01 }), headers: { "idempotency-key": "contract-1" } });
    const denied = await exercise({ id: "submitIntent", body: sampleIntent("contract-2", { symbol: "NOPE" }) });
    expect(denied.decision.outcome).toBe("denied");
    await exercise({ id: "submitIntent", body: { ...sampleIntent("contract-3"), quantity: -1 } }, 422);
    await exercise({ id: "recordFills", body: { fills: [{ accountId: "contract-open", symbol: "EURUSD", side: "BUY", quantity: 1, price: 1.085 }], correction: { reason: "contract: a position" } } });
    await exercise({ id: "flattenAccount", params: { accountId: "contract-open" }, body: reason("contract: flatten") });
    // The flatten's close reported by the external stack: a round trip closed, with objectives that count it.
    await exercise({ id: "recordFills", body: { fills: [{ accountId: "contract-open", symbol: "EURUSD", side: "SELL", quantity: 1, price: 1.0855, trigger: "liquidation" }] } });
    const trades = await exercise({ id: "closedTrades", params: { accountId: "contract-open" } });
    expect(trades.trades).toHaveLength(1);
    expect(trades.trades[0]).toMatchObject({ symbol: "EURUSD", side: "long", quantity: 1, closedAt: expect.any(Number) });
    const objectives = await exercise({ id: "objectives", params: { accountId: "contract-open" } });
    expect(objectives.closedTrades).toBe(1);
    await exercise({ id: "decisions", query: { accountId: DEMO_ACCOUNT, limit: "20" } });
    await exercise({ id: "explainDecision", params: { seq: String(allowed.seq) }, query: { accountId: DEMO_ACCOUNT } });
    await exercise({ id: "explainDecision", params: { seq: "999999999" } }, 404);
    await exercise({ id: "ledger", query: { afterSeq: "0", limit: "500" } });
    const exported = check("ledgerExport", await call({ id: "ledgerExport", query: { accountId: DEMO_ACCOUNT } }));
    expect(exported.status).toBe(200);
    succeeded.add("ledgerExport");
    // One record shape: the export's lines are the ledger page's records, field for field.
    const page = await exercise({ id: "ledger", query: { afterSeq: "0", limit: "1000", accountId: DEMO_ACCOUNT } });
    const lines = exported.text.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line));
    expect(lines.slice(0, page.events.length)).toEqual(page.events);

    // The firm.
    await exercise({ id: "overview", query: { limit: "5" } });
    await exercise({ id: "firm" });
    await exercise({ id: "haltFirm", body: reason("contract: halt") });
    await exercise({ id: "resumeFirm", body: reason("contract: resume") });

    // Presets.
    await exercise({ id: "listPresets" });
    await exercise({ id: "createPreset", body: { preset: presetFixture("contract-preset"), note: "contract" } });
    await exercise({ id: "validatePreset", body: presetFixture("contract-valid") });
    await exercise({ id: "validatePreset", body: { id: "x" } });
    await exercise({ id: "getPreset", params: { presetId: "contract-preset" } });
    await exercise({ id: "addPresetVersion", params: { presetId: "contract-preset" }, body: { preset: { ...presetFixture("contract-preset"), description: "v2" }, note: "contract v2" } });
    await exercise({ id: "getPresetVersion", params: { presetId: "contract-preset", version: "2" } });
    await exercise({ id: "getPreset", params: { presetId: "no-such-preset" } }, 404);
    await exercise({ id: "activatePreset", params: demo, body: { presetId: "ftmo-2step-100k", reason: "contract: activate" } });
    const dryRun = await exercise({ id: "dryRunPreset", params: demo, body: { presetId: "ftmo-2step-100k", decisions: 50 } });
    expect(dryRun.decisions).toBeGreaterThan(0);
    // A stricter draft changes the recorded allowed decision: the changed list is validated too.
    const strictDraft = { ...presetFixture("contract-strict"), rules: { guards: { throttle: { maxOrderNotionalUsd: 1 } } } };
    const changed = await exercise({ id: "dryRunPreset", params: demo, body: { preset: strictDraft, decisions: 50 } });
    expect(changed.changed.length).toBeGreaterThan(0);

    // Backtests.
    const run = await exercise({ id: "createBacktest", body: { dataset: "msft-2000-2001-daily", preset: "ftmo-2step-100k", strategy: "buy-and-hold", seed: 1, currency: "EUR" } });
    await exercise({ id: "listBacktests" });
    await exercise({ id: "getBacktest", params: { backtestId: run.id } });
    for (let tries = 0; (await call({ id: "getBacktest", params: { backtestId: run.id } })).json.backtest.status !== "done"; tries++) {
      expect(tries).toBeLessThan(600);
      await new Promise((resolve) => setTimeout(resolve, 100)); // polling a worker, not waiting for a fixed time
    }
    await exercise({ id: "getBacktest", params: { backtestId: run.id } });
    await exercise({ id: "backtestLedger", params: { backtestId: run.id } });
    const replayed = await exercise({ id: "backtestReplay", params: { backtestId: run.id } });
    expect(replayed.replay.decisionList.length).toBeGreaterThan(0);

    // Every described operation answered its success at least once (and was validated).
    const described = (Object.keys(endpoints) as EndpointId[]).filter((id) => !PROBLEM_ONLY.includes(id));
    expect(described.filter((id) => !succeeded.has(id))).toEqual([]);
  }, 180_000);
});
