import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Endpoint, EndpointId } from "@/server/api/catalog";
import { endpoints } from "@/server/api/catalog";
import type { Role } from "@/server/auth/roles";
import { rolesFor } from "@/server/auth/roles";
import { DEMO_ACCOUNT, EURUSD_TICK, presetFixture, sampleIntent } from "../fixtures";
import type { RunningServer, TestDatabase } from "./harness";
import {
  adminAuth,
  databasesUnderTest,
  engineConfigFile,
  startServer,
} from "./harness";

/**
 * The authorization matrix: every endpoint of the catalog, called by every kind of caller with a
 * valid request, answers as the endpoint's permission, the caller's account scope and the
 * endpoint's own refusals say. A refusal is 401 (no valid credentials), 403 (role, scope,
 * CSRF) or 404 (a backtest another ran, to a caller scoped to accounts: as absent as an unknown
 * one) as problem+json, and changes nothing.
 */

/** The scope of the callers that must not touch DEMO_ACCOUNT (another demo account). */
const OTHER_ACCOUNT = "demo-e8-50k";
const DEMO_ACCOUNTS = [DEMO_ACCOUNT, OTHER_ACCOUNT, "demo-inst-1m"];
/** An external account where stop-losses build an account-wide side lock. */
const SIDES_ACCOUNT = "authz-sides";
const SESSION_USER = "authz-rm";
const SESSION_PASSWORD = "authz-rm-password-1";

// Two stop-losses on one side lock that side (the default is off), so unlockSide has something to lift.
const engineConfig = {
  RISKGATE_ENGINE_CONFIG: engineConfigFile({
    guards: { vetoRegistry: { stopLossStreak: { enabled: true, count: 2 } }, throttle: { maxIntentsPerSecond: 1000 } },
  }),
};


const databases = await databasesUnderTest("the authorization matrix", engineConfig);

// ---------------------------------------------------------------------------------------------
// HTTP

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any
type Answer = { status: number; type: string; headers: Headers; text: string; json: Json };

/** One call with exactly the headers given (no admin default): JSON bodies, JSON answers parsed. */
async function send(base: string, method: string, route: string, body: unknown, headers: Record<string, string>): Promise<Answer> {
  const response = await fetch(`${base}${route}`, {
    method,
    headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    redirect: "manual",
  });
  const text = await response.text();
  const type = response.headers.get("content-type") ?? "";
  return { status: response.status, type, headers: response.headers, text, json: /^application\/(problem\+)?json/.test(type) && text ? JSON.parse(text) : null };
}

type Request = { params?: Record<string, string>; query?: Record<string, string>; body?: unknown };

/** The catalog's path with the request's params filled in, and its query string. */
function routeOf(spec: Endpoint, request: Request): string {
  const path = spec.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = request.params?.[name];
    if (value === undefined) throw new Error(`the sample for ${spec.path} names no ${name}`);
    return encodeURIComponent(value);
  });
  const query = new URLSearchParams(request.query ?? {}).toString();
  return query ? `${path}?${query}` : path;
}

// ---------------------------------------------------------------------------------------------
// Callers

type Caller = {
  label: string;
  /** null: no valid credentials (anonymous, an unknown token). */
  role: Role | null;
  /** null: every account. */
  accounts: string[] | null;
  /** How the ledger records its actions. */
  actor: string | null;
  headers: Record<string, string>;
};

type Verdict = "allowed" | 401 | 403 | 404;
const REFUSAL_CODES = { 401: "unauthenticated", 403: "forbidden", 404: "not_found" } as const;

/** What the caller must get: "allowed", or the refusal's status. */
function verdict(spec: Endpoint, sample: Sample, request: Request, caller: Caller): Verdict {
  if (spec.permission === "public") return "allowed";
  if (caller.role === null) return 401;
  if (!rolesFor(spec.permission).includes(caller.role)) return 403;
  const account = typeof sample.account === "function" ? sample.account(request) : sample.account;
  if (caller.accounts !== null && account !== undefined) {
    if (account === "all" || [account].flat().some((accountId) => !caller.accounts!.includes(accountId))) return 403;
  }
  if (sample.refusedRoles?.includes(caller.role)) return 403;
  if (sample.refusedKinds?.includes(caller.actor!.startsWith("token:") ? "token" : "user")) return 403;
  if (sample.othersOnly && caller.accounts !== null) return 404;
  return "allowed";
}

// ---------------------------------------------------------------------------------------------
// Sample requests, one table entry per endpoint of the catalog

type Harness = {
  base: string;
  /** Calls as the seeded admin (arranging state, reading what changed). */
  admin: (method: string, route: string, body?: unknown) => Promise<Answer>;
  /** An operator action as the seeded admin that may find the state already as wanted (409). */
  ensure: (method: string, route: string, body?: unknown) => Promise<void>;
  /** Logs the session caller in again (after it logged out). */
  relogin: () => Promise<void>;
  callers: Caller[];
};

type Sample = {
  label?: string;
  /**
   * The accounts the call acts on (a scoped caller must hold every one); "all" when it reads or
   * acts on every account, which a scoped caller may not.
   */
  account?: string | string[] | "all" | ((request: Request) => string);
  /** Roles refused beyond the permission (a strategy may trip only the manual breaker). */
  refusedRoles?: Role[];
  /**
   * The call reads something another caller made (a backtest the seeded admin ran), tied to no
   * account: a caller scoped to accounts gets 404, as for something that does not exist.
   */
  othersOnly?: boolean;
  /** Kinds of caller refused beyond the permission (a token has no password to change). */
  refusedKinds?: ("token" | "user")[];
  /** Arranges the state the call needs (as the seeded admin) and gives the request; `n` is unique per call. */
  prepare: (h: Harness, n: number) => Promise<Request> | Request;
  /** What an allowed caller gets: the state makes it certain. */
  status: number;
  /** More about an allowed caller's answer. */
  check?: (answer: Answer, caller: Caller, h: Harness) => Promise<void> | void;
  /** Puts things back after all callers had their turn. */
  restore?: (h: Harness) => Promise<void>;
};

const reason = (text: string) => ({ reason: text });

/** A new viewer user made by the seeded admin; its id. */
async function newUser(h: Harness, username: string): Promise<string> {
  const created = await h.admin("POST", "/api/v1/users", { username, password: "authz-user-password", role: "viewer" });
  expect(created.status).toBe(201);
  return created.json.user.id;
}
const demo = { accountId: DEMO_ACCOUNT };
const manual = { accountId: DEMO_ACCOUNT, breaker: "manual" };

async function activeSideLock(h: Harness, accountId: string, side: string): Promise<boolean> {
  const account = (await h.admin("GET", `/api/v1/accounts/${accountId}`)).json.account;
  return account.sideLocks.some((lock: Json) => lock.side === side && (lock.expiresAt === null || lock.expiresAt > Date.now()));
}


/** A finished backtest on the server (one per server, made by the seeded admin on first use). */
const finishedBacktests = new Map<string, Promise<string>>();
function finishedBacktest(h: Harness): Promise<string> {
  let made = finishedBacktests.get(h.base);
  if (!made) {
    made = (async () => {
      const queued = await h.admin("POST", "/api/v1/backtests", { dataset: "msft-2000-2001-daily", preset: "ftmo-2step-100k", strategy: "sma-crossover" });
      expect(queued.status).toBe(202);
      for (let attempt = 0; attempt < 600; attempt++) {
        const run = (await h.admin("GET", `/api/v1/backtests/${queued.json.id}`)).json.backtest;
        if (run.status === "done") return run.id as string;
        expect(run.status).not.toBe("failed");
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error("the sample backtest did not finish in 60 s");
    })();
    finishedBacktests.set(h.base, made);
  }
  return made;
}

const samples: Record<EndpointId, Sample[]> = {
  health: [
    {
      prepare: () => ({}),
      status: 200,
      // The details (seq, database, alerts…) only for callers who may read the firm's metrics; the status for anyone.
      check: (answer, caller) => {
        if (caller.role !== null && caller.accounts === null && rolesFor("metrics").includes(caller.role)) expect(answer.json).toMatchObject({ status: "ok", seq: expect.any(Number), database: expect.any(String) });
        else expect(answer.json).toEqual({ status: "ok" });
      },
    },
  ],
  metrics: [{ prepare: () => ({}), account: "all", status: 200, check: (answer) => expect(answer.text).toContain("riskgate_decisions_total") }],
  openapi: [{ prepare: () => ({}), status: 200, check: (answer) => expect(answer.json.openapi).toMatch(/^3\.1/) }],
  asyncapi: [{ prepare: () => ({}), status: 200, check: (answer) => expect(answer.json.asyncapi).toBe("3.0.0") }],

  login: [
    {
      prepare: () => ({ body: { username: SESSION_USER, password: SESSION_PASSWORD } }),
      status: 200,
      check: (answer) => expect(answer.json).toMatchObject({ user: { name: SESSION_USER, role: "risk_manager" }, csrfToken: expect.any(String) }),
    },
  ],
  logout: [
    {
      prepare: () => ({}),
      status: 204,
      check: async (answer, caller, h) => {
        if (!caller.headers.cookie) return;
        // The session is over: its cookie no longer authenticates; log in again for the rest.
        expect((await send(h.base, "GET", "/api/v1/auth/me", undefined, caller.headers)).status).toBe(401);
        await h.relogin();
      },
    },
  ],
  me: [
    {
      prepare: () => ({}),
      status: 200,
      check: (answer, caller) => {
        expect(answer.json.user).toMatchObject({ role: caller.role, accounts: caller.accounts });
        expect(`${answer.json.user.kind}:${answer.json.user.name}`).toBe(caller.actor);
      },
    },
  ],
  listUsers: [{ prepare: () => ({}), status: 200, check: (answer) => expect(JSON.stringify(answer.json)).not.toMatch(/passwordHash|scrypt/) }],
  createUser: [{ prepare: (_, n) => ({ body: { username: `authz-user-${n}`, password: "authz-user-password", role: "viewer" } }), status: 201 }],
  listTokens: [{ prepare: () => ({}), status: 200, check: (answer) => expect(JSON.stringify(answer.json)).not.toMatch(/"token"|tokenHash|rg_/) }],
  createToken: [
    {
      prepare: (_, n) => ({ body: { name: `authz-made-${n}`, role: "strategy", accounts: [DEMO_ACCOUNT] } }),
      status: 201,
      check: (answer) => expect(answer.json.token).toMatch(/^rg_/),
    },
  ],
  revokeToken: [
    {
      prepare: async (h, n) => {
        const made = await h.admin("POST", "/api/v1/tokens", { name: `authz-doomed-${n}`, role: "viewer" });
        expect(made.status).toBe(201);
        return { params: { tokenId: made.json.id } };
      },
      status: 200,
      check: (answer) => expect(answer.json.token.revoked).toBe(true),
    },
  ],
  disableUser: [
    {
      prepare: async (h, n) => ({ params: { userId: await newUser(h, `authz-disable-${n}`) } }),
      status: 200,
      check: (answer) => expect(answer.json).toMatchObject({ user: { disabled: true }, endedSessions: 0 }),
    },
  ],
  enableUser: [
    {
      prepare: async (h, n) => {
        const userId = await newUser(h, `authz-enable-${n}`);
        expect((await h.admin("POST", `/api/v1/users/${userId}/disable`)).status).toBe(200);
        return { params: { userId } };
      },
      status: 200,
      check: (answer) => expect(answer.json.user.disabled).toBe(false),
    },
  ],
  resetPassword: [
    {
      prepare: async (h, n) => ({ params: { userId: await newUser(h, `authz-reset-${n}`) }, body: { password: "authz-reset-password" } }),
      status: 200,
      check: (answer) => expect(answer.json).toMatchObject({ user: { disabled: false }, endedSessions: 0 }),
    },
  ],
  changePassword: [
    {
      // Every user may change their own password; a token has none.
      prepare: () => ({ body: { currentPassword: SESSION_PASSWORD, newPassword: `${SESSION_PASSWORD}-changed` } }),
      refusedKinds: ["token"],
      status: 200,
      check: async (answer, caller, h) => {
        // The session that changed it goes on; the password goes back for the rest of the suite.
        const back = await send(h.base, "POST", "/api/v1/auth/password", { currentPassword: `${SESSION_PASSWORD}-changed`, newPassword: SESSION_PASSWORD }, caller.headers);
        expect(back.status, back.text).toBe(200);
      },
    },
  ],

  overview: [
    {
      prepare: () => ({ query: { limit: "5" } }),
      status: 200,
      check: (answer, caller) => {
        expect(answer.json.rows).toBeInstanceOf(Array);
        // A scoped caller's counts cover its own accounts only.
        if (caller.accounts) expect(answer.json.counts.total).toBe(caller.accounts.length);
      },
    },
  ],
  openAccounts: [
    {
      prepare: (_, n) => ({ body: { accounts: [{ accountId: `authz-bulk-${n}`, name: "Authz bulk", presetId: "ftmo-2step-100k", initialBalanceUsd: 100_000, currency: "EUR" }] } }),
      account: (request) => (request.body as { accounts: { accountId: string }[] }).accounts[0]!.accountId,
      status: 201,
    },
  ],
  listAccounts: [
    {
      prepare: () => ({}),
      status: 200,
      check: (answer, caller) => {
        const listed = answer.json.accounts.map((account: Json) => account.accountId);
        if (caller.accounts) expect(listed.sort()).toEqual([...caller.accounts].sort());
        else expect(listed).toEqual(expect.arrayContaining(DEMO_ACCOUNTS));
      },
    },
  ],
  openAccount: [
    {
      prepare: (_, n) => ({ body: { accountId: `authz-open-${n}`, name: "Authz account", presetId: "ftmo-2step-100k", initialBalanceUsd: 100_000, currency: "EUR" } }),
      account: (request) => (request.body as { accountId: string }).accountId,
      status: 201,
    },
  ],
  getAccount: [{ prepare: () => ({ params: demo }), account: DEMO_ACCOUNT, status: 200, check: (answer) => expect(answer.json.account.accountId).toBe(DEMO_ACCOUNT) }],
  equity: [{ prepare: () => ({ params: demo, query: { points: "50" } }), account: DEMO_ACCOUNT, status: 200, check: (answer) => expect(answer.json.accountId).toBe(DEMO_ACCOUNT) }],
  reopenAccount: [
    {
      // A fresh account per call, locked out by a loss well past its max-loss floor.
      prepare: async (h, n) => {
        const accountId = `authz-lockout-${n}`;
        expect((await h.admin("POST", "/api/v1/accounts", { accountId, name: "Authz lock-out", presetId: "ftmo-2step-100k", initialBalanceUsd: 100_000 })).status).toBe(201);
        const fill = { accountId, symbol: "EURUSD", quantity: 1 };
        const loss = await h.admin("POST", "/api/v1/executions", { fills: [{ ...fill, side: "BUY", price: 1.085 }, { ...fill, side: "SELL", price: 0.95 }], correction: { reason: "authz: a booked loss" } });
        expect(loss.status).toBe(200);
        expect((await h.admin("GET", `/api/v1/accounts/${accountId}`)).json.account.lockedOut).not.toBeNull();
        return { params: { accountId }, body: reason("authz: reopen after review") };
      },
      account: (request) => request.params!.accountId!,
      status: 200,
      check: (answer) => expect(answer.json.account.lockedOut).toBeNull(),
    },
  ],
  flattenAccount: [
    {
      // A fresh external account per call, holding a position booked as a correction.
      prepare: async (h, n) => {
        const accountId = `authz-flatten-${n}`;
        expect((await h.admin("POST", "/api/v1/accounts", { accountId, name: "Authz flatten", presetId: "ftmo-2step-100k", initialBalanceUsd: 100_000 })).status).toBe(201);
        const booked = await h.admin("POST", "/api/v1/executions", { fills: [{ accountId, symbol: "EURUSD", side: "BUY", quantity: 1, price: 1.085 }], correction: { reason: "authz: a position" } });
        expect(booked.status).toBe(200);
        return { params: { accountId }, body: reason("authz: flatten now") };
      },
      account: (request) => request.params!.accountId!,
      status: 200,
      check: (answer) => expect(answer.json.flattens).toMatchObject([{ symbol: "EURUSD", side: "SELL", quantity: 1 }]),
    },
  ],
  objectives: [
    {
      prepare: () => ({ params: demo }),
      account: DEMO_ACCOUNT,
      status: 200,
      check: (answer) => expect(answer.json).toMatchObject({ accountId: DEMO_ACCOUNT, presetId: "ftmo-2step-100k", objectives: { tradingDays: { required: expect.any(Number) } } }),
    },
  ],
  closedTrades: [
    {
      prepare: () => ({ params: demo, query: { limit: "10" } }),
      account: DEMO_ACCOUNT,
      status: 200,
      check: (answer) => expect(answer.json).toMatchObject({ accountId: DEMO_ACCOUNT, trades: expect.any(Array), total: expect.any(Number) }),
    },
  ],
  enterReducing: [
    {
      prepare: async (h) => {
        await h.ensure("POST", `/api/v1/accounts/${DEMO_ACCOUNT}/reduce-only/end`, reason("authz: arrange"));
        return { params: demo, body: reason("authz: reduce only") };
      },
      account: DEMO_ACCOUNT,
      status: 200,
      check: (answer) => expect(answer.json.account.reducing).not.toBeNull(),
      restore: (h) => h.ensure("POST", `/api/v1/accounts/${DEMO_ACCOUNT}/reduce-only/end`, reason("authz: restore")),
    },
  ],
  endReducing: [
    {
      prepare: async (h) => {
        await h.ensure("POST", `/api/v1/accounts/${DEMO_ACCOUNT}/reduce-only`, reason("authz: arrange"));
        return { params: demo, body: reason("authz: back to normal") };
      },
      account: DEMO_ACCOUNT,
      status: 200,
      check: (answer) => expect(answer.json.account.reducing).toBeNull(),
      restore: (h) => h.ensure("POST", `/api/v1/accounts/${DEMO_ACCOUNT}/reduce-only/end`, reason("authz: restore")),
    },
  ],

  tripBreaker: [
    {
      label: "manual",
      prepare: async (h) => {
        await h.ensure("POST", `/api/v1/accounts/${DEMO_ACCOUNT}/breakers/manual/reset`, reason("authz: arrange"));
        return { params: manual, body: reason("authz: trip") };
      },
      account: DEMO_ACCOUNT,
      status: 200,
      check: (answer) => expect(answer.json.account.tradingState).toBe("HALTED"),
      restore: (h) => h.ensure("POST", `/api/v1/accounts/${DEMO_ACCOUNT}/breakers/manual/reset`, reason("authz: restore")),
    },
    {
      // Only the manual breaker is tripped by hand (409 for those who may try); a strategy may not even try.
      label: "latency",
      prepare: () => ({ params: { accountId: DEMO_ACCOUNT, breaker: "latency" }, body: reason("authz: trip latency") }),
      account: DEMO_ACCOUNT,
      refusedRoles: ["strategy"],
      status: 409,
    },
  ],
  resetBreaker: [
    {
      prepare: async (h) => {
        await h.ensure("POST", `/api/v1/accounts/${DEMO_ACCOUNT}/breakers/manual/trip`, reason("authz: arrange"));
        return { params: manual, body: reason("authz: reset") };
      },
      account: DEMO_ACCOUNT,
      status: 200,
      check: (answer) => expect(answer.json.account.tradingState).toBe("ACTIVE"),
      restore: (h) => h.ensure("POST", `/api/v1/accounts/${DEMO_ACCOUNT}/breakers/manual/reset`, reason("authz: restore")),
    },
  ],

  listVetoes: [{ prepare: () => ({ params: demo }), account: DEMO_ACCOUNT, status: 200, check: (answer) => expect(answer.json.vetoes).toEqual(expect.any(Array)) }],
  lockSymbol: [
    {
      prepare: async (h) => {
        await h.ensure("POST", `/api/v1/accounts/${DEMO_ACCOUNT}/vetoes/EURUSD/unlock`, reason("authz: arrange"));
        return { params: demo, body: { symbol: "EURUSD", reason: "authz: lock" } };
      },
      account: DEMO_ACCOUNT,
      status: 201,
      restore: (h) => h.ensure("POST", `/api/v1/accounts/${DEMO_ACCOUNT}/vetoes/EURUSD/unlock`, reason("authz: restore")),
    },
  ],
  unlockSymbol: [
    {
      prepare: async (h) => {
        await h.ensure("POST", `/api/v1/accounts/${DEMO_ACCOUNT}/vetoes`, { symbol: "EURUSD", reason: "authz: arrange" });
        return { params: { accountId: DEMO_ACCOUNT, symbol: "EURUSD" }, body: reason("authz: unlock") };
      },
      account: DEMO_ACCOUNT,
      status: 200,
      restore: (h) => h.ensure("POST", `/api/v1/accounts/${DEMO_ACCOUNT}/vetoes/EURUSD/unlock`, reason("authz: restore")),
    },
  ],
  unlockSide: [
    {
      // Two stop-losses of long positions lock BUY entries on the account.
      prepare: async (h) => {
        if (!(await activeSideLock(h, SIDES_ACCOUNT, "BUY"))) {
          const leg = { accountId: SIDES_ACCOUNT, symbol: "EURUSD", quantity: 0.01 };
          const stopped = [{ ...leg, side: "BUY", price: 1.085 }, { ...leg, side: "SELL", price: 1.084, trigger: "stop_loss" }];
          expect((await h.admin("POST", "/api/v1/executions", { fills: [...stopped, ...stopped], correction: { reason: "authz: stop-losses" } })).status).toBe(200);
        }
        expect(await activeSideLock(h, SIDES_ACCOUNT, "BUY")).toBe(true);
        return { params: { accountId: SIDES_ACCOUNT, side: "BUY" }, body: reason("authz: unlock longs") };
      },
      account: SIDES_ACCOUNT,
      status: 200,
      check: (answer) => expect(answer.json.account.sideLocks.filter((lock: Json) => lock.side === "BUY" && lock.expiresAt === null)).toEqual([]),
    },
  ],

  submitIntent: [
    {
      prepare: (_, n) => ({ body: sampleIntent(`authz-${n}`) }),
      account: DEMO_ACCOUNT,
      status: 200,
      check: (answer) => expect(answer.json.decision).toMatchObject({ accountId: DEMO_ACCOUNT, outcome: expect.stringMatching(/allowed|denied/) }),
    },
  ],
  recordFills: [
    {
      label: "one account",
      // An admin's correction (a simulated account's fills come from its venue; a strategy's own
      // reports must name an allowed intent: see the security suite).
      prepare: (_, n) => ({ body: { fills: [{ accountId: DEMO_ACCOUNT, symbol: "EURUSD", side: n % 2 ? "BUY" : "SELL", quantity: 0.01, price: 1.085 }], correction: { reason: "authz: a correction" } } }),
      account: DEMO_ACCOUNT,
      refusedRoles: ["strategy"],
      status: 200,
      check: (answer) => expect(answer.json.recorded).toBeGreaterThan(0),
    },
    {
      // Every account a call names must be in the caller's scope, not just one of them.
      label: "two accounts",
      prepare: () => ({
        body: { fills: [DEMO_ACCOUNT, OTHER_ACCOUNT].map((accountId) => ({ accountId, symbol: "EURUSD", side: "BUY", quantity: 0.01, price: 1.085 })), correction: { reason: "authz: a correction" } },
      }),
      account: [DEMO_ACCOUNT, OTHER_ACCOUNT],
      status: 200,
    },
  ],
  recordMarket: [{ prepare: () => ({ body: EURUSD_TICK }), status: 200, check: (answer) => expect(answer.json.recorded).toBe(1) }],
  decisions: [
    {
      label: "one account",
      prepare: () => ({ query: { accountId: DEMO_ACCOUNT, limit: "20" } }),
      account: DEMO_ACCOUNT,
      status: 200,
      check: (answer) => expect(answer.json.decisions.filter((record: Json) => record.decision.accountId !== DEMO_ACCOUNT)).toEqual([]),
    },
    { label: "every account", prepare: () => ({ query: { limit: "20" } }), account: "all", status: 200 },
  ],

  explainDecision: [
    {
      label: "one account",
      prepare: async (h, n) => {
        await h.admin("POST", "/api/v1/market", EURUSD_TICK);
        await h.admin("POST", "/api/v1/intents", sampleIntent(`authz-explain-${n}`, { quantity: 0.01 }));
        const latest = (await h.admin("GET", `/api/v1/decisions?accountId=${DEMO_ACCOUNT}&limit=1`)).json.decisions[0];
        return { params: { seq: String(latest.seq) }, query: { accountId: DEMO_ACCOUNT } };
      },
      account: DEMO_ACCOUNT,
      status: 200,
      check: (answer) => {
        expect(answer.json).toMatchObject({ reproduced: true, decision: { accountId: DEMO_ACCOUNT } });
        expect(answer.json.steps.map((step: Json) => step.guard)).toContain("max_daily_loss");
      },
    },
  ],
  firm: [{ prepare: () => ({}), status: 200, check: (answer) => expect(answer.json.firm).toMatchObject({ halted: expect.any(Boolean) }) }],
  haltFirm: [
    {
      prepare: async (h) => {
        await h.ensure("POST", "/api/v1/firm/resume", reason("authz: arrange"));
        return { body: reason("authz: halt the firm") };
      },
      // It halts every account: a caller scoped to some may not.
      account: "all",
      status: 200,
      check: (answer) => expect(answer.json.firm.halted).toBe(true),
      restore: (h) => h.ensure("POST", "/api/v1/firm/resume", reason("authz: restore")),
    },
  ],
  resumeFirm: [
    {
      prepare: async (h) => {
        await h.ensure("POST", "/api/v1/firm/halt", reason("authz: arrange"));
        return { body: reason("authz: resume the firm") };
      },
      account: "all",
      status: 200,
      check: (answer) => expect(answer.json.firm.halted).toBe(false),
      restore: (h) => h.ensure("POST", "/api/v1/firm/resume", reason("authz: restore")),
    },
  ],

  listPresets: [{ prepare: () => ({}), status: 200, check: (answer) => expect(answer.json.presets.map((preset: Json) => preset.id)).toContain("ftmo-2step-100k") }],
  createPreset: [{ prepare: (_, n) => ({ body: { preset: presetFixture(`authz-new-${n}`), note: "authz: a new preset" } }), account: "all", status: 201, check: (answer) => expect(answer.json.version).toBe(1) }],
  validatePreset: [
    {
      prepare: () => ({ body: { ...presetFixture("authz-invalid"), rules: { accountRules: { maxLossPct: -1 } } } }),
      status: 200,
      check: (answer) => expect(answer.json).toMatchObject({ valid: false, issues: [{ path: "rules.accountRules.maxLossPct" }] }),
    },
  ],
  getPreset: [{ prepare: () => ({ params: { presetId: "ftmo-2step-100k" } }), status: 200, check: (answer) => expect(answer.json.preset.rules.dailyReset.timeZone).toBe("Europe/Prague") }],
  addPresetVersion: [
    {
      prepare: async (h, n) => {
        await h.ensure("POST", "/api/v1/presets", { preset: presetFixture("authz-versions"), note: "authz: versions" });
        return { params: { presetId: "authz-versions" }, body: { preset: { ...presetFixture("authz-versions"), description: `version made by call ${n}` }, note: "authz: a new version" } };
      },
      account: "all",
      status: 201,
      check: (answer) => expect(answer.json.version).toBeGreaterThan(1),
    },
  ],
  getPresetVersion: [{ prepare: () => ({ params: { presetId: "ftmo-2step-100k", version: "1" } }), status: 200, check: (answer) => expect(answer.json.version).toBe(1) }],
  activatePreset: [
    {
      prepare: () => ({ params: demo, body: { presetId: "ftmo-2step-100k", reason: "authz: activate" } }),
      account: DEMO_ACCOUNT,
      status: 200,
      check: (answer) => expect(answer.json.account.preset).toMatchObject({ presetId: "ftmo-2step-100k", reason: "authz: activate" }),
    },
  ],
  dryRunPreset: [
    {
      prepare: () => ({ params: demo, body: { presetId: "ftmo-2step-100k", decisions: 50 } }),
      account: DEMO_ACCOUNT,
      status: 200,
      check: (answer) => expect(answer.json).toMatchObject({ accountId: DEMO_ACCOUNT, candidate: { presetId: "ftmo-2step-100k" } }),
    },
  ],

  ledger: [
    {
      label: "one account",
      prepare: () => ({ query: { accountId: DEMO_ACCOUNT, limit: "5" } }),
      account: DEMO_ACCOUNT,
      status: 200,
      check: (answer) => expect(answer.json.events).toEqual(expect.any(Array)),
    },
    { label: "every account", prepare: () => ({ query: { limit: "5" } }), account: "all", status: 200 },
  ],
  ledgerExport: [
    {
      label: "one account",
      prepare: () => ({ query: { accountId: DEMO_ACCOUNT } }),
      account: DEMO_ACCOUNT,
      status: 200,
      check: (answer) => expect(answer.type).toBe("application/x-ndjson"),
    },
    { label: "every account", prepare: () => ({}), account: "all", status: 200 },
  ],

  createBacktest: [
    {
      prepare: (_, n) => ({ body: { dataset: "msft-2000-2001-daily", preset: "ftmo-2step-100k", strategy: "buy-and-hold", seed: n, currency: "EUR" } }),
      status: 202,
      check: (answer, caller) => {
        expect(answer.json).toMatchObject({ id: expect.any(String), status: expect.stringMatching(/queued|running/) });
        // Who ran a run is shown only to callers who are not scoped to accounts.
        expect(answer.json.backtest.by).toBe(caller.accounts === null ? caller.actor : null);
      },
    },
  ],
  listBacktests: [
    {
      prepare: async (h) => {
        await finishedBacktest(h);
        return {};
      },
      status: 200,
      // Unscoped callers see every run (and who ran it); a scoped caller only those it ran, without who.
      check: async (answer, caller, h) => {
        const every = (await h.admin("GET", "/api/v1/backtests")).json.backtests as Json[];
        expect(every.length).toBeGreaterThan(0);
        const own = caller.accounts === null ? every : every.filter((run) => run.by === caller.actor);
        expect(answer.json.backtests.map((run: Json) => run.id)).toEqual(own.map((run) => run.id));
        expect(answer.json.backtests.map((run: Json) => run.by)).toEqual(own.map((run) => (caller.accounts === null ? run.by : null)));
      },
    },
  ],
  getBacktest: [
    {
      prepare: async (h) => ({ params: { backtestId: await finishedBacktest(h) } }),
      othersOnly: true,
      status: 200,
      check: (answer) => expect(answer.json.backtest).toMatchObject({ status: "done", report: { preset: "ftmo-2step-100k" } }),
    },
  ],
  backtestLedger: [
    {
      prepare: async (h) => ({ params: { backtestId: await finishedBacktest(h) } }),
      othersOnly: true,
      status: 200,
      check: (answer) => {
        expect(answer.type).toBe("application/x-ndjson");
        expect(answer.text.split("\n")[0]).toContain('"seq":1');
      },
    },
  ],
  backtestReplay: [
    {
      prepare: async (h) => ({ params: { backtestId: await finishedBacktest(h) } }),
      othersOnly: true,
      status: 200,
      check: (answer) => expect(answer.json.replay).toMatchObject({ mismatchCount: 0, stateHash: expect.stringMatching(/^[0-9a-f]{64}$/) }),
    },
  ],
};

// ---------------------------------------------------------------------------------------------

for (const database of databases) {
  describe.skipIf(database.skip)(`authorization on ${database.name}`, () => {
    let db: TestDatabase;
    let server: RunningServer;
    let h: Harness;
    let calls = 0;
    const tally = { allowed: 0, 401: 0, 403: 0, 404: 0 };
    const tokens = new Map<string, { id: string; token: string }>();

    const admin = async (method: string, route: string, body?: unknown) => send(server.url, method, route, body, adminAuth);
    const seq = async (): Promise<number> => (await admin("GET", "/api/health")).json.seq;
    /** What a refused call must leave as it was: the ledger, users and tokens. */
    const fingerprint = async (spec: Endpoint) => ({
      seq: await seq(),
      ...(spec.tag === "auth"
        ? {
            users: (await admin("GET", "/api/v1/users")).json.users.map((user: Json) => `${user.username}:${user.disabled}`),
            tokens: (await admin("GET", "/api/v1/tokens")).json.tokens.map((token: Json) => `${token.id}:${token.revoked}`),
          }
        : {}),
    });
    const eventsAfter = async (after: number): Promise<Json[]> => (await admin("GET", `/api/v1/ledger?afterSeq=${after}&limit=1000`)).json.events.map((record: Json) => record.event);

    async function makeToken(name: string, role: Role, accounts: string[] | null): Promise<Caller> {
      const made = await admin("POST", "/api/v1/tokens", { name, role, accounts });
      expect(made.status).toBe(201);
      tokens.set(name, { id: made.json.id, token: made.json.token });
      return { label: `${role} token${accounts ? ` scoped to ${accounts.join(",")}` : ""}`, role, accounts, actor: `token:${name}`, headers: { authorization: `Bearer ${made.json.token}` } };
    }

    async function login(username: string, password: string): Promise<{ answer: Answer; cookie: string; csrf: string }> {
      const answer = await send(server.url, "POST", "/api/v1/auth/login", { username, password }, {});
      const cookies = answer.headers.getSetCookie();
      const cookie = cookies.map((line) => line.split(";")[0]).join("; ");
      return { answer, cookie, csrf: answer.json?.csrfToken };
    }

    const session: Caller = { label: "risk_manager cookie session", role: "risk_manager", accounts: null, actor: `user:${SESSION_USER}`, headers: {} };

    beforeAll(async () => {
      db = await database.create();
      server = await startServer(db.env);
      const callers: Caller[] = [
        { label: "anonymous", role: null, accounts: null, actor: null, headers: {} },
        { label: "unknown token", role: null, accounts: null, actor: null, headers: { authorization: "Bearer rg_not_a_token_of_this_server" } },
        await makeToken("authz-viewer", "viewer", null),
        await makeToken("authz-risk_manager", "risk_manager", null),
        await makeToken("authz-risk_manager-other", "risk_manager", [OTHER_ACCOUNT]),
        await makeToken("authz-strategy", "strategy", [DEMO_ACCOUNT]),
        await makeToken("authz-strategy-other", "strategy", [OTHER_ACCOUNT]),
        await makeToken("authz-feed", "feed", null),
        await makeToken("authz-metrics", "metrics", null),
        await makeToken("authz-admin", "admin", null),
        session,
      ];
      expect((await admin("POST", "/api/v1/users", { username: SESSION_USER, password: SESSION_PASSWORD, role: "risk_manager" })).status).toBe(201);
      const relogin = async () => {
        const { answer, cookie, csrf } = await login(SESSION_USER, SESSION_PASSWORD);
        expect(answer.status).toBe(200);
        session.headers = { cookie, "x-csrf-token": csrf };
      };
      await relogin();
      // A preset of its own locks a side after two stop-losses on it (the shipped ones do not).
      const streaky = { ...presetFixture("authz-streak"), rules: { guards: { vetoRegistry: { stopLossStreak: { enabled: true, count: 2 } }, throttle: { maxIntentsPerSecond: 1000 } } } };
      expect((await admin("POST", "/api/v1/presets", { preset: streaky, note: "authz: side locks" })).status).toBe(201);
      const opened = await admin("POST", "/api/v1/accounts", { accountId: SIDES_ACCOUNT, name: "Authz side locks", presetId: "authz-streak", initialBalanceUsd: 100_000 });
      expect(opened.status).toBe(201);
      h = {
        base: server.url,
        admin,
        async ensure(method, route, body) {
          const answer = await admin(method, route, body);
          if (![200, 201, 409].includes(answer.status)) throw new Error(`arranging ${method} ${route}: ${answer.status} ${answer.text}`);
        },
        relogin,
        callers,
      };
    });

    afterAll(async () => {
      console.log(`authorization matrix on ${database.name}: ${tally.allowed} allowed calls, ${tally[401]} refused 401, ${tally[403]} refused 403, ${tally[404]} refused 404`);
      await server?.stop("SIGTERM");
      await db?.cleanup();
    });

    it("sets an HttpOnly session cookie and a readable CSRF cookie at login, and answers the CSRF token", async () => {
      const { answer } = await login(SESSION_USER, SESSION_PASSWORD);
      expect(answer.status).toBe(200);
      const cookies = answer.headers.getSetCookie();
      const sessionCookie = cookies.find((line) => line.startsWith("riskgate_session="));
      const csrfCookie = cookies.find((line) => line.startsWith("riskgate_csrf="));
      expect(sessionCookie).toMatch(/HttpOnly/i);
      expect(sessionCookie).toMatch(/SameSite=Strict/i);
      expect(csrfCookie).not.toMatch(/HttpOnly/i);
      expect(csrfCookie!.split(";")[0]).toBe(`riskgate_csrf=${answer.json.csrfToken}`);
    });

    it("refuses a cookie session's mutating call without its CSRF token (403, nothing recorded), and runs it with the token", async () => {
      const route = `/api/v1/accounts/${DEMO_ACCOUNT}/vetoes`;
      const lock = { symbol: "AUDUSD", reason: "authz: csrf" };
      const { cookie } = session.headers as { cookie: string };
      expect((await send(server.url, "GET", "/api/v1/auth/me", undefined, { cookie })).status).toBe(200);

      const before = await seq();
      const withoutToken: Record<string, string>[] = [{ cookie }, { cookie, "x-csrf-token": "not-the-token" }, { cookie, "x-csrf-token": "" }];
      for (const headers of withoutToken) {
        const refused = await send(server.url, "POST", route, lock, headers);
        expect(refused.status).toBe(403);
        expect(refused.type).toBe("application/problem+json");
        expect(refused.json).toMatchObject({ status: 403, code: "forbidden" });
        expect(refused.json.detail).toContain("x-csrf-token");
      }
      expect(await seq()).toBe(before);

      const locked = await send(server.url, "POST", route, lock, session.headers);
      expect(locked.status).toBe(201);
      expect(await seq()).toBeGreaterThan(before);
      expect((await send(server.url, "POST", `${route}/AUDUSD/unlock`, reason("authz: csrf done"), session.headers)).status).toBe(200);
    });

    it("has a sample request for every endpoint of the catalog, and none for endpoints it lacks", () => {
      expect(Object.keys(samples).sort()).toEqual(Object.keys(endpoints).sort());
    });

    it.each(Object.keys(endpoints) as EndpointId[])("%s answers every caller as its permission, scope and refusals say", async (id) => {
      const spec = endpoints[id] as Endpoint;
      const cases = samples[id];
      expect(cases, `no sample request for ${id}: add one to the table`).toBeDefined();
      for (const sample of cases) {
        try {
          await callEveryone(spec, sample);
        } finally {
          await sample.restore?.(h);
        }
      }
    });

    /** One sample request from every caller, each checked against its verdict. */
    async function callEveryone(spec: Endpoint, sample: Sample): Promise<void> {
      for (const caller of h.callers) {
        const request = await sample.prepare(h, ++calls);
        const route = routeOf(spec, request);
        const where = `${spec.method} ${route}${sample.label ? ` (${sample.label})` : ""} as ${caller.label}`;
        const expected = verdict(spec, sample, request, caller);
        const before = expected === "allowed" ? null : await fingerprint(spec);

        const answer = await send(server.url, spec.method, route, request.body, caller.headers);
        tally[expected]++;

        const shown = `${where}: ${answer.status} ${answer.text.slice(0, 300)}`;
        if (expected === "allowed") {
          expect([401, 403], shown).not.toContain(answer.status);
          expect(answer.status, shown).toBe(sample.status);
          await sample.check?.(answer, caller, h);
        } else {
          expect(answer.status, shown).toBe(expected);
          expect(answer.type, where).toBe("application/problem+json");
          expect(answer.json, where).toMatchObject({ status: expected, code: REFUSAL_CODES[expected] });
          if (expected === 401) expect(answer.headers.get("www-authenticate"), where).toMatch(/^Bearer/);
          expect(await fingerprint(spec), `${where} changed something`).toEqual(before);
        }
      }
    }

    it("refuses a token at once after it is revoked (401), on reads and writes", async () => {
      const doomed = await makeToken("authz-revoked", "risk_manager", null);
      expect((await send(server.url, "GET", "/api/v1/auth/me", undefined, doomed.headers)).status).toBe(200);
      const revoked = await admin("POST", `/api/v1/tokens/${tokens.get("authz-revoked")!.id}/revoke`);
      expect(revoked.status).toBe(200);

      const before = await seq();
      const read = await send(server.url, "GET", "/api/v1/auth/me", undefined, doomed.headers);
      expect(read.status).toBe(401);
      expect(read.type).toBe("application/problem+json");
      expect(read.json.code).toBe("unauthenticated");
      const write = await send(server.url, "POST", `/api/v1/accounts/${DEMO_ACCOUNT}/breakers/manual/trip`, reason("authz: revoked"), doomed.headers);
      expect(write.status).toBe(401);
      expect(await seq()).toBe(before);
      expect((await admin("POST", `/api/v1/tokens/${tokens.get("authz-revoked")!.id}/revoke`)).status).toBe(409);
    });

    it("replays a retried call with the same Idempotency-Key and body once, and refuses the key with another body (409)", async () => {
      const riskManager = h.callers.find((caller) => caller.actor === "token:authz-risk_manager")!;
      const route = `/api/v1/accounts/${DEMO_ACCOUNT}/vetoes`;
      const lock = { symbol: "GBPUSD", reason: "authz: idempotent lock" };
      const headers = { ...riskManager.headers, "idempotency-key": "authz-lock-gbpusd-1" };
      const before = await seq();

      const first = await send(server.url, "POST", route, lock, headers);
      expect(first.status).toBe(201);
      expect(first.headers.get("idempotent-replayed")).toBeNull();
      const afterFirst = await seq();
      expect(afterFirst).toBeGreaterThan(before);

      const retry = await send(server.url, "POST", route, lock, headers);
      expect(retry.status).toBe(first.status);
      expect(retry.text).toBe(first.text);
      expect(retry.headers.get("idempotent-replayed")).toBe("true");
      expect(await seq()).toBe(afterFirst);
      const locks = (await eventsAfter(before)).filter((event) => event.type === "veto.added" && event.symbol === "GBPUSD");
      expect(locks).toHaveLength(1);

      const other = await send(server.url, "POST", route, { ...lock, reason: "authz: another reason" }, headers);
      expect(other.status).toBe(409);
      expect(other.type).toBe("application/problem+json");
      expect(other.json.code).toBe("idempotency_mismatch");
      expect(await seq()).toBe(afterFirst);

      // Keys belong to their caller: the same key from another caller runs the call (here: already locked).
      const elsewhere = await send(server.url, "POST", route, lock, { ...adminAuth, "idempotency-key": "authz-lock-gbpusd-1" });
      expect(elsewhere.status).toBe(409);
      expect(elsewhere.json.code).toBe("conflict");
      await h.ensure("POST", `${route}/GBPUSD/unlock`, reason("authz: idempotency done"));
    });

    it("rate-limits failed logins per username: 429 with retry-after after 5, even for the right password", async () => {
      const username = "authz-limited";
      const password = "authz-limited-password";
      expect((await admin("POST", "/api/v1/users", { username, password, role: "viewer" })).status).toBe(201);
      for (let attempt = 1; attempt <= 5; attempt++) {
        const wrong = await send(server.url, "POST", "/api/v1/auth/login", { username, password: `wrong-${attempt}` }, {});
        expect(wrong.status, `attempt ${attempt}`).toBe(401);
        expect(wrong.json.code).toBe("unauthenticated");
      }
      for (const attempt of ["wrong-6", password]) {
        const limited = await send(server.url, "POST", "/api/v1/auth/login", { username, password: attempt }, {});
        expect(limited.status).toBe(429);
        expect(limited.type).toBe("application/problem+json");
        expect(limited.json.code).toBe("rate_limited");
        expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
        expect(limited.headers.getSetCookie()).toEqual([]);
      }
      // The limit is the username's: another user still logs in from the same address.
      expect((await login(SESSION_USER, SESSION_PASSWORD)).answer.status).toBe(200);
    });

    it("records on the ledger who tripped a breaker, locked a symbol, sent an intent, a fill or a price", async () => {
      const byName = (actor: string) => h.callers.find((caller) => caller.actor === actor)!;
      const cases: [Caller, string, string, unknown, string][] = [
        [byName("token:authz-risk_manager"), "POST", `/api/v1/accounts/${DEMO_ACCOUNT}/breakers/manual/trip`, reason("authz: who trips"), "breaker.tripped"],
        [byName("token:authz-strategy"), "POST", `/api/v1/accounts/${DEMO_ACCOUNT}/breakers/manual/trip`, reason("authz: who trips"), "breaker.tripped"],
        [session, "POST", `/api/v1/accounts/${DEMO_ACCOUNT}/breakers/manual/trip`, reason("authz: who trips"), "breaker.tripped"],
        [byName("token:authz-risk_manager"), "POST", `/api/v1/accounts/${DEMO_ACCOUNT}/vetoes`, { symbol: "USDJPY", reason: "authz: who locks" }, "veto.added"],
        [session, "POST", `/api/v1/accounts/${DEMO_ACCOUNT}/vetoes`, { symbol: "USDJPY", reason: "authz: who locks" }, "veto.added"],
        [byName("token:authz-admin"), "POST", `/api/v1/accounts/${DEMO_ACCOUNT}/vetoes`, { symbol: "USDJPY", reason: "authz: who locks" }, "veto.added"],
        [byName("token:authz-strategy"), "POST", "/api/v1/intents", sampleIntent("authz-who-1"), "intent.received"],
        [byName("token:authz-admin"), "POST", "/api/v1/executions", { fills: [{ accountId: DEMO_ACCOUNT, symbol: "EURUSD", side: "BUY", quantity: 0.01, price: 1.085 }], correction: { reason: "authz: who books" } }, "execution.filled"],
        [byName("token:authz-feed"), "POST", "/api/v1/market", EURUSD_TICK, "market.tick"],
      ];
      for (const [caller, method, route, body, type] of cases) {
        await h.ensure("POST", `/api/v1/accounts/${DEMO_ACCOUNT}/breakers/manual/reset`, reason("authz: arrange"));
        await h.ensure("POST", `/api/v1/accounts/${DEMO_ACCOUNT}/vetoes/USDJPY/unlock`, reason("authz: arrange"));
        const before = await seq();
        const answer = await send(server.url, method, route, body, caller.headers);
        expect(answer.status, `${route} as ${caller.label}: ${answer.text.slice(0, 200)}`).toBeLessThan(300);
        const recorded = (await eventsAfter(before)).filter((event) => event.type === type);
        expect(recorded, `${type} by ${caller.actor}`).toHaveLength(1);
        expect(recorded[0].by, `${type} by ${caller.actor}`).toBe(caller.actor);
      }
      await h.ensure("POST", `/api/v1/accounts/${DEMO_ACCOUNT}/breakers/manual/reset`, reason("authz: restore"));
      await h.ensure("POST", `/api/v1/accounts/${DEMO_ACCOUNT}/vetoes/USDJPY/unlock`, reason("authz: restore"));
    });
  });
}
