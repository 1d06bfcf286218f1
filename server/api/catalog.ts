import type { z } from "zod";
import type { Permission, Principal } from "../auth/roles";
import { Intent } from "../engine/intent";
import { AccountRequest } from "../engine/types";
import {
  AccountParams,
  ActivatePresetBody,
  AnyPreset,
  BacktestBody,
  BacktestParams,
  BreakerParams,
  BulkOpenBody,
  ChangePasswordBody,
  DecisionParams,
  DryRunBody,
  ExplainQuery,
  DecisionsQuery,
  Empty,
  EquityQuery,
  ExecutionsBody,
  LedgerExportQuery,
  LedgerQuery,
  LockBody,
  LoginBody,
  MarketBody,
  NewTokenBody,
  NewUserBody,
  PresetBody,
  PresetParams,
  PresetVersionParams,
  ReasonBody,
  ResetPasswordBody,
  SideLockParams,
  TokenParams,
  UserParams,
  TradesQuery,
  VetoParams,
} from "./schemas";
import { OverviewQueryParams } from "../overview-protocol";
import * as R from "./responses";

type Schema = z.ZodType;
type Out<S> = S extends z.ZodType ? z.infer<S> : undefined;

export type Input<P, Q, B> = { params: Out<P>; query: Out<Q>; body: Out<B> };

/**
 * One endpoint of the HTTP API: its route, who may call it, its inputs. Route handlers, the
 * authorization check, the OpenAPI document and the authorization-matrix test all read this.
 */
export type Endpoint<P extends Schema | undefined = Schema | undefined, Q extends Schema | undefined = Schema | undefined, B extends Schema | undefined = Schema | undefined> = {
  method: "GET" | "POST";
  /** OpenAPI style: `/api/v1/accounts/{accountId}`. */
  path: string;
  summary: string;
  tag: string;
  permission: Permission;
  params?: P;
  query?: Q;
  body?: B;
  /** The accounts the call acts on; a scoped principal must hold every one. */
  accounts?: (input: Input<P, Q, B>) => (string | undefined)[];
  /** Acts on every account (firm halt): a caller scoped to some accounts is refused. */
  firmWide?: boolean;
  /**
   * A public endpoint that still identifies a caller who sends credentials (health: its details
   * for those who may read the firm's metrics). A credential that is not valid counts as none.
   */
  identifies?: boolean;
  /** A refusal beyond role and scope (e.g. a strategy may trip only the manual breaker). */
  refuse?: (principal: Principal, input: Input<P, Q, B>) => string | null;
  /** Mutating calls honour `Idempotency-Key` unless this is false (login, logout). */
  idempotent?: boolean;
  /**
   * The success status and what comes back: `response` is the body's schema (`responses.ts`;
   * for NDJSON, a line's); absent only on a 204.
   */
  success: { status: number; description: string; contentType?: string; response?: Schema };
};

function endpoint<P extends Schema | undefined = undefined, Q extends Schema | undefined = undefined, B extends Schema | undefined = undefined>(
  spec: Endpoint<P, Q, B>,
): Endpoint<P, Q, B> {
  return spec;
}

const accountView = { status: 200, description: "The account after the change, with the ledger seq.", response: R.AccountChanged };

export const endpoints = {
  health: endpoint({
    method: "GET", path: "/api/health", tag: "operations",
    summary: "Liveness and readiness: 200 `{status: \"ok\"}`, 503 `{status: \"unavailable\"}` when the ledger is unreachable; callers who may read the metrics also get the details",
    permission: "public", identifies: true,
    success: { status: 200, description: "The status; with credentials that may read the metrics (unscoped), also the database kind, seq, uptime, alert and stream statistics (and on 503 the reason)", response: R.Health },
  }),
  metrics: endpoint({ method: "GET", path: "/api/metrics", tag: "operations", summary: "Prometheus metrics (text exposition format)", permission: "metrics", firmWide: true, success: { status: 200, description: "Metrics", contentType: "text/plain", response: R.MetricsText } }),
  openapi: endpoint({ method: "GET", path: "/api/v1/openapi.json", tag: "operations", summary: "This API's OpenAPI 3.1 document", permission: "public", success: { status: 200, description: "OpenAPI document", response: R.OpenApiDocument } }),
  asyncapi: endpoint({ method: "GET", path: "/api/v1/asyncapi.json", tag: "operations", summary: "The realtime stream's AsyncAPI 3.0 document: its messages both ways, subscriptions, catch-up by seq, connect-error codes", permission: "public", success: { status: 200, description: "AsyncAPI document", response: R.AsyncApiDocument } }),

  login: endpoint({ method: "POST", path: "/api/v1/auth/login", tag: "auth", summary: "Log in with a password: sets the session cookie; answers the CSRF token", permission: "public", body: LoginBody, idempotent: false, success: { status: 200, description: "The user and the CSRF token for mutating calls", response: R.LoggedIn } }),
  logout: endpoint({ method: "POST", path: "/api/v1/auth/logout", tag: "auth", summary: "End the cookie session", permission: "authenticated", idempotent: false, success: { status: 204, description: "Logged out" } }),
  me: endpoint({ method: "GET", path: "/api/v1/auth/me", tag: "auth", summary: "Who is calling: name, role, accounts, CSRF token (sessions)", permission: "authenticated", success: { status: 200, description: "The principal", response: R.Me } }),
  listUsers: endpoint({ method: "GET", path: "/api/v1/users", tag: "auth", summary: "Console users", permission: "admin", success: { status: 200, description: "Users (never their password hashes)", response: R.UserList } }),
  createUser: endpoint({ method: "POST", path: "/api/v1/users", tag: "auth", summary: "Create a console user with a role (strategies name their accounts)", permission: "admin", body: NewUserBody, success: { status: 201, description: "The user", response: R.UserAnswer } }),
  listTokens: endpoint({ method: "GET", path: "/api/v1/tokens", tag: "auth", summary: "API tokens (never their secrets)", permission: "admin", success: { status: 200, description: "Tokens", response: R.TokenList } }),
  createToken: endpoint({ method: "POST", path: "/api/v1/tokens", tag: "auth", summary: "Create a bearer API token; its secret is shown once", permission: "admin", body: NewTokenBody, success: { status: 201, description: "The token and its secret", response: R.TokenCreated } }),
  revokeToken: endpoint({ method: "POST", path: "/api/v1/tokens/{tokenId}/revoke", tag: "auth", summary: "Revoke an API token", permission: "admin", params: TokenParams, success: { status: 200, description: "The revoked token", response: R.TokenAnswer } }),
  // User lifecycle (issue 16, finding 10). Passwords are never part of an Idempotency-Key's stored request (idempotent: false).
  disableUser: endpoint({ method: "POST", path: "/api/v1/users/{userId}/disable", tag: "auth", summary: "Disable a user: their sessions and streams end, and they cannot log in (not your own)", permission: "admin", params: UserParams, success: { status: 200, description: "`{user, endedSessions}`", response: R.UserSessionsEnded } }),
  enableUser: endpoint({ method: "POST", path: "/api/v1/users/{userId}/enable", tag: "auth", summary: "Enable a disabled user: they may log in again", permission: "admin", params: UserParams, success: { status: 200, description: "`{user}`", response: R.UserAnswer } }),
  resetPassword: endpoint({ method: "POST", path: "/api/v1/users/{userId}/password", tag: "auth", summary: "Set another user's password: their sessions and streams end", permission: "admin", params: UserParams, body: ResetPasswordBody, idempotent: false, success: { status: 200, description: "`{user, endedSessions}`", response: R.UserSessionsEnded } }),
  changePassword: endpoint({
    method: "POST", path: "/api/v1/auth/password", tag: "auth", summary: "Change your own password (the current one is required): your other sessions and streams end", permission: "authenticated", body: ChangePasswordBody, idempotent: false,
    refuse: (principal) => (principal.kind === "token" ? "an API token has no password: log in as a user to change yours" : null),
    success: { status: 200, description: "`{endedSessions}`", response: R.SessionsEnded },
  }),

  listAccounts: endpoint({ method: "GET", path: "/api/v1/accounts", tag: "accounts", summary: "Accounts the caller may see, with state, positions, baseline, floors, breakers and vetoes", permission: "read", success: { status: 200, description: "Accounts", response: R.AccountList } }),
  openAccount: endpoint({ method: "POST", path: "/api/v1/accounts", tag: "accounts", summary: "Open an account (409 if it exists)", permission: "admin", body: AccountRequest, accounts: ({ body }) => [body.accountId], success: { status: 201, description: "The account", response: R.AccountChanged } }),
  openAccounts: endpoint({
    method: "POST", path: "/api/v1/accounts/bulk", tag: "accounts",
    summary: "Open up to 10,000 accounts in one commit, all or none (JSON `{accounts: [...]}`, or NDJSON one account a line); 409 if one exists",
    permission: "admin", body: BulkOpenBody,
    accounts: ({ body }) => body.accounts.map((item) => (typeof item === "object" && item !== null && "accountId" in item && typeof item.accountId === "string" ? item.accountId : undefined)),
    success: { status: 201, description: "`{seq, opened, accounts: [{accountId, tradingState}]}`", response: R.BulkOpened },
  }),
  getAccount: endpoint({ method: "GET", path: "/api/v1/accounts/{accountId}", tag: "accounts", summary: "One account with its state", permission: "read", params: AccountParams, accounts: ({ params }) => [params.accountId], success: { status: 200, description: "The account", response: R.AccountChanged } }),
  equity: endpoint({ method: "GET", path: "/api/v1/accounts/{accountId}/equity", tag: "accounts", summary: "Equity history with baseline and floors, LTTB-downsampled to `points`", permission: "read", params: AccountParams, query: EquityQuery, accounts: ({ params }) => [params.accountId], success: { status: 200, description: "Points in time order", response: R.EquityAnswer } }),
  reopenAccount: endpoint({ method: "POST", path: "/api/v1/accounts/{accountId}/reopen", tag: "accounts", summary: "Reopen an account locked out by a loss breach", permission: "admin", params: AccountParams, body: ReasonBody, accounts: ({ params }) => [params.accountId], success: accountView }),
  flattenAccount: endpoint({
    method: "POST", path: "/api/v1/accounts/{accountId}/flatten", tag: "accounts",
    summary: "Flatten now: order every open position of the account closed through its execution path, recorded with who and why (409 when it holds none)",
    permission: "operate", params: AccountParams, body: ReasonBody, accounts: ({ params }) => [params.accountId],
    success: { status: 200, description: "`{seq, account, flattens: [{seq, symbol, side, quantity}]}`: the account and the positions ordered closed", response: R.Flattened },
  }),
  objectives: endpoint({
    method: "GET", path: "/api/v1/accounts/{accountId}/objectives", tag: "accounts",
    summary: "The account's prop-firm objectives live (profit target progress, trading days, best-day share), by the compliance verifier over the account's own ledger events",
    permission: "read", params: AccountParams, accounts: ({ params }) => [params.accountId],
    success: { status: 200, description: "The objectives, each with whether it is met, and the ledger seq they include", response: R.AccountObjectivesSchema },
  }),
  closedTrades: endpoint({
    method: "GET", path: "/api/v1/accounts/{accountId}/trades", tag: "accounts",
    summary: "The account's closed trades (round trips), newest first, paged by `beforeSeq` (the latest 1,000 are kept)",
    permission: "read", params: AccountParams, query: TradesQuery, accounts: ({ params }) => [params.accountId],
    success: { status: 200, description: "Round trips: open and close time, symbol, side, quantity, entry and exit price, realized P/L", response: R.ClosedTradesPageSchema },
  }),
  enterReducing: endpoint({ method: "POST", path: "/api/v1/accounts/{accountId}/reduce-only", tag: "accounts", summary: "Put an account on reduce-only", permission: "operate", params: AccountParams, body: ReasonBody, accounts: ({ params }) => [params.accountId], success: accountView }),
  endReducing: endpoint({ method: "POST", path: "/api/v1/accounts/{accountId}/reduce-only/end", tag: "accounts", summary: "End reduce-only", permission: "operate", params: AccountParams, body: ReasonBody, accounts: ({ params }) => [params.accountId], success: accountView }),

  tripBreaker: endpoint({
    method: "POST", path: "/api/v1/accounts/{accountId}/breakers/{breaker}/trip", tag: "breakers", summary: "Trip the manual breaker: the account is HALTED until it is reset",
    permission: "halt", params: BreakerParams, body: ReasonBody, accounts: ({ params }) => [params.accountId],
    refuse: (principal, { params }) => (principal.role === "strategy" && params.breaker !== "manual" ? "a strategy may trip only the manual breaker" : null),
    success: accountView,
  }),
  resetBreaker: endpoint({ method: "POST", path: "/api/v1/accounts/{accountId}/breakers/{breaker}/reset", tag: "breakers", summary: "Reset a tripped breaker (risk_manager or admin), with a reason", permission: "operate", params: BreakerParams, body: ReasonBody, accounts: ({ params }) => [params.accountId], success: accountView }),

  listVetoes: endpoint({ method: "GET", path: "/api/v1/accounts/{accountId}/vetoes", tag: "vetoes", summary: "The account's veto registry", permission: "read", params: AccountParams, accounts: ({ params }) => [params.accountId], success: { status: 200, description: "Vetoes", response: R.VetoList } }),
  lockSymbol: endpoint({ method: "POST", path: "/api/v1/accounts/{accountId}/vetoes", tag: "vetoes", summary: "Lock a symbol until a time or the next reset", permission: "operate", params: AccountParams, body: LockBody, accounts: ({ params }) => [params.accountId], success: { status: 201, description: "The account", response: R.AccountChanged } }),
  unlockSymbol: endpoint({ method: "POST", path: "/api/v1/accounts/{accountId}/vetoes/{symbol}/unlock", tag: "vetoes", summary: "Unlock a symbol, with a reason", permission: "operate", params: VetoParams, body: ReasonBody, accounts: ({ params }) => [params.accountId], success: accountView }),
  unlockSide: endpoint({ method: "POST", path: "/api/v1/accounts/{accountId}/side-locks/{side}/unlock", tag: "vetoes", summary: "Lift an account-wide side lock, with a reason", permission: "operate", params: SideLockParams, body: ReasonBody, accounts: ({ params }) => [params.accountId], success: accountView }),

  submitIntent: endpoint({ method: "POST", path: "/api/v1/intents", tag: "trading", summary: "Submit an intent; the answer is the committed decision (idempotent on intentId)", permission: "trade", body: Intent, accounts: ({ body }) => [body.accountId], success: { status: 200, description: "The decision, allowed or denied", response: R.IntentAnswer } }),
  recordFills: endpoint({ method: "POST", path: "/api/v1/executions", tag: "trading", summary: "Fills from a venue outside Riskgate", permission: "trade", body: ExecutionsBody, accounts: ({ body }) => body.fills.map((fill) => fill.accountId), success: { status: 200, description: "Recorded", response: R.FillsRecorded } }),
  recordMarket: endpoint({ method: "POST", path: "/api/v1/market", tag: "trading", summary: "Market data: ticks, L2 books, bars", permission: "feed", body: MarketBody, success: { status: 200, description: "Recorded", response: R.MarketRecorded } }),
  decisions: endpoint({ method: "GET", path: "/api/v1/decisions", tag: "trading", summary: "Recent decisions, newest first", permission: "read", query: DecisionsQuery, accounts: ({ query }) => [query.accountId], success: { status: 200, description: "Decisions", response: R.DecisionList } }),
  explainDecision: endpoint({ method: "GET", path: "/api/v1/decisions/{seq}/explain", tag: "trading", summary: "A recorded decision taken again with every guard's figures and limits; scoped callers name its accountId", permission: "read", params: DecisionParams, query: ExplainQuery, accounts: ({ query }) => [query.accountId], success: { status: 200, description: "The decision, the intent and each guard's step", response: R.Explained } }),

  overview: endpoint({ method: "GET", path: "/api/v1/overview", tag: "firm", summary: "A window of the firm overview: rows ordered by headroom and filtered (`q`, `states`, `presetId`, `breachedToday`, `lockedSymbols`), counts, breaches today, exposure, decisions", permission: "read", query: OverviewQueryParams, success: { status: 200, description: "An OverviewPage", response: R.OverviewPageSchema } }),
  firm: endpoint({ method: "GET", path: "/api/v1/firm", tag: "firm", summary: "The firm-wide halt", permission: "read", success: { status: 200, description: "The firm", response: R.FirmAnswer } }),
  haltFirm: endpoint({ method: "POST", path: "/api/v1/firm/halt", tag: "firm", summary: "Halt every account", permission: "operate", body: ReasonBody, firmWide: true, success: { status: 200, description: "The firm", response: R.FirmAnswer } }),
  resumeFirm: endpoint({ method: "POST", path: "/api/v1/firm/resume", tag: "firm", summary: "Lift the firm-wide halt", permission: "operate", body: ReasonBody, firmWide: true, success: { status: 200, description: "The firm", response: R.FirmAnswer } }),

  listPresets: endpoint({ method: "GET", path: "/api/v1/presets", tag: "presets", summary: "Presets with their versions, and the accounts under each", permission: "read", success: { status: 200, description: "Presets", response: R.PresetList } }),
  createPreset: endpoint({ method: "POST", path: "/api/v1/presets", tag: "presets", summary: "A new preset (version 1); 409 if the id exists; not for callers scoped to some accounts", permission: "operate", body: PresetBody, firmWide: true, success: { status: 201, description: "The preset version", response: R.PresetVersionSchema } }),
  validatePreset: endpoint({ method: "POST", path: "/api/v1/presets/validate", tag: "presets", summary: "Check a preset without saving it: every issue with its field path", permission: "read", body: AnyPreset, idempotent: false, success: { status: 200, description: "`valid` and the issues", response: R.PresetValidation } }),
  getPreset: endpoint({ method: "GET", path: "/api/v1/presets/{presetId}", tag: "presets", summary: "A preset's latest version and the list of its versions", permission: "read", params: PresetParams, success: { status: 200, description: "The preset", response: R.PresetWithVersions } }),
  addPresetVersion: endpoint({ method: "POST", path: "/api/v1/presets/{presetId}/versions", tag: "presets", summary: "A new version of a preset, with a note (409 when unchanged); not for callers scoped to some accounts", permission: "operate", params: PresetParams, body: PresetBody, firmWide: true, success: { status: 201, description: "The preset version", response: R.PresetVersionSchema } }),
  getPresetVersion: endpoint({ method: "GET", path: "/api/v1/presets/{presetId}/versions/{version}", tag: "presets", summary: "One version of a preset", permission: "read", params: PresetVersionParams, success: { status: 200, description: "The preset version", response: R.PresetVersionSchema } }),
  activatePreset: endpoint({ method: "POST", path: "/api/v1/accounts/{accountId}/preset", tag: "presets", summary: "The account decides under this preset version from now on (recorded with the reason)", permission: "operate", params: AccountParams, body: ActivatePresetBody, accounts: ({ params }) => [params.accountId], success: accountView }),
  dryRunPreset: endpoint({ method: "POST", path: "/api/v1/accounts/{accountId}/preset/dry-run", tag: "presets", summary: "Decide the account's recent intents again under a preset: which decisions would change", permission: "operate", params: AccountParams, body: DryRunBody, idempotent: false, accounts: ({ params }) => [params.accountId], success: { status: 200, description: "The changed decisions and counts", response: R.DryRunAnswer } }),

  ledger: endpoint({ method: "GET", path: "/api/v1/ledger", tag: "ledger", summary: "Ledger events by cursor (`afterSeq`); scoped callers name an account", permission: "read", query: LedgerQuery, accounts: ({ query }) => [query.accountId], success: { status: 200, description: "Events and the next cursor", response: R.LedgerPage } }),
  ledgerExport: endpoint({ method: "GET", path: "/api/v1/ledger/export", tag: "ledger", summary: "The ledger as NDJSON (what `npm run replay` reads)", permission: "read", query: LedgerExportQuery, accounts: ({ query }) => [query.accountId], success: { status: 200, description: "NDJSON: one `LedgerRecord` a line, in seq order (the schema is a line's)", contentType: "application/x-ndjson", response: R.LedgerRecordSchema } }),

  createBacktest: endpoint({ method: "POST", path: "/api/v1/backtests", tag: "backtests", summary: "Run a backtest (a shipped data set or an uploaded CSV, a preset, a built-in strategy) in a worker; queued when others run", permission: "operate", body: BacktestBody, success: { status: 202, description: "The run's id and status", response: R.BacktestCreated } }),
  listBacktests: endpoint({ method: "GET", path: "/api/v1/backtests", tag: "backtests", summary: "The recent backtest runs with status, progress and, when done, their summary", permission: "read", success: { status: 200, description: "Runs, newest first", response: R.BacktestList } }),
  getBacktest: endpoint({ method: "GET", path: "/api/v1/backtests/{backtestId}", tag: "backtests", summary: "One backtest run: progress, and when done its report and equity with both floors (at most 1,000 points)", permission: "read", params: BacktestParams, success: { status: 200, description: "The run", response: R.BacktestDetailAnswer } }),
  backtestLedger: endpoint({ method: "GET", path: "/api/v1/backtests/{backtestId}/ledger", tag: "backtests", summary: "A finished backtest's ledger as NDJSON (409 until it is done)", permission: "read", params: BacktestParams, success: { status: 200, description: "NDJSON: one `LedgerRecord` a line, in seq order (the schema is a line's)", contentType: "application/x-ndjson", response: R.LedgerRecordSchema } }),
  backtestReplay: endpoint({ method: "GET", path: "/api/v1/backtests/{backtestId}/replay", tag: "backtests", summary: "A finished backtest's ledger replayed through the engine: counts, mismatches, state hash, decisions", permission: "read", params: BacktestParams, success: { status: 200, description: "The replay", response: R.BacktestReplayAnswer } }),
} satisfies Record<string, Endpoint<never, never, never> | Endpoint>;

export type EndpointId = keyof typeof endpoints;
export { Empty };
