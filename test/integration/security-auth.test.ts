import pg from "pg";
import type { Socket } from "socket.io-client";
import { io } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { AccountMessage, ClientToServer, ServerToClient, StreamProblem } from "@/server/realtime-protocol";
import { DEMO_ACCOUNT } from "../fixtures";
import type { RunningServer, TestDatabase } from "./harness";
import { ADMIN_PASSWORD, ADMIN_TOKEN, api, databasesUnderTest, freshPostgresDatabase, startServer } from "./harness";

/**
 * Issue 16, findings 7, 8 and 10 ("Trust boundaries"), reproduced against a real server:
 * - 7: an open stream follows its credentials: a revoked token, a logout, a disabled user, a
 *   changed or reset password, an expired session, or a revocation written by another process
 *   cuts the socket within a second;
 * - 8: no secret at rest: a token's secret is never kept in an idempotent answer, and a new
 *   RISKGATE_ADMIN_TOKEN replaces the previous one;
 * - 10: users can be disabled and enabled, change their password, and have it reset by an admin,
 *   each audited.
 * The server runs on a database of the run's embedded PostgreSQL, which the test also reads and
 * writes directly (what another server on the same database would do).
 */

type ClientSocket = Socket<ServerToClient, ClientToServer>;

/** A stream as a dashboard holds it: subscribed to an account, recording problems and the disconnection. */
type Stream = { socket: ClientSocket; problems: StreamProblem[]; messages: AccountMessage[]; disconnectedAt: number | null; reason: string | null };

/** A stream cut this long after its credentials ended passes (the server checks once a second). */
const CUT_WITHIN_MS = 1_500;

async function openStream(url: string, credentials: { token: string } | { cookie: string }): Promise<Stream> {
  const socket: ClientSocket = io(url, {
    transports: ["websocket"],
    forceNew: true,
    reconnection: false,
    ...("token" in credentials ? { auth: { token: credentials.token } } : { extraHeaders: { cookie: credentials.cookie } }),
  });
  const stream: Stream = { socket, problems: [], messages: [], disconnectedAt: null, reason: null };
  socket.on("problem", (problem) => stream.problems.push(problem));
  socket.on("account", (message) => stream.messages.push(message));
  socket.on("disconnect", (reason) => {
    stream.disconnectedAt = Date.now();
    stream.reason = reason;
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("connect_error", reject);
  });
  socket.emit("subscribe", { topic: "account", accountId: DEMO_ACCOUNT });
  await until(() => stream.messages.length > 0, () => "the account's first message");
  return stream;
}

/** Polls `condition` until it holds (no fixed sleeps). */
async function until(condition: () => boolean, what: () => string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The stream is cut within CUT_WITHIN_MS of `since`, after a `problem` with `code`. */
async function expectCut(stream: Stream, since: number, code: StreamProblem["code"], withinMs = CUT_WITHIN_MS): Promise<void> {
  try {
    await until(() => stream.disconnectedAt !== null, () => `the stream to be cut (problems: ${JSON.stringify(stream.problems)})`, withinMs + 3_000);
  } finally {
    stream.socket.close();
  }
  expect(stream.disconnectedAt! - since, "how long the stream outlived its credentials (ms)").toBeLessThanOrEqual(withinMs);
  expect(stream.problems.map((problem) => problem.code)).toContain(code);
  // The server ended it: the client does not reconnect on its own.
  expect(stream.reason).toBe("io server disconnect");
}

/** Logs in; the cookie header and CSRF token of the session (status only when refused). */
async function login(url: string, username: string, password: string): Promise<{ status: number; cookie: string; csrf: string; headers: Record<string, string> }> {
  const response = await fetch(`${url}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username, password }) });
  const body = (await response.json()) as { csrfToken?: string };
  const cookie = response.headers.getSetCookie().map((line) => line.split(";")[0]).join("; ");
  const csrf = body.csrfToken ?? "";
  return { status: response.status, cookie, csrf, headers: { authorization: "", cookie, "x-csrf-token": csrf } };
}

const anonymous = { authorization: "" };

describe("credentials on a shared database (findings 7, 8, 10)", () => {
  let database: { url: string; drop: () => Promise<void> };
  let server: RunningServer;
  let sql: pg.Client;
  let users = 0;

  beforeAll(async () => {
    database = await freshPostgresDatabase(inject("embeddedPostgresUrl"));
    server = await startServer({ DATABASE_URL: database.url });
    sql = new pg.Client({ connectionString: database.url });
    await sql.connect();
  });

  afterAll(async () => {
    await sql?.end();
    await server?.stop("SIGTERM");
    await database?.drop();
  });

  /** A new viewer user (unique name); its id. */
  async function newUser(password = "viewer-password-1"): Promise<{ id: string; username: string; password: string }> {
    const username = `sec-auth-${++users}`;
    const created = await api(server.url, "POST", "/api/v1/users", { username, password, role: "viewer" });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return { id: created.body!.user.id, username, password };
  }

  const me = async (headers: Record<string, string>) => (await api(server.url, "GET", "/api/v1/auth/me", undefined, undefined, headers)).status;
  const audit = async (target: string) => (await sql.query<{ action: string; actor: string }>(`SELECT "action", "actor" FROM "audit_log" WHERE "target" = $1 ORDER BY "id"`, [target])).rows;

  // ---- Finding 7: streams follow credentials ----

  it("cuts a revoked token's open stream within a second, with credentials_revoked", async () => {
    const made = await api(server.url, "POST", "/api/v1/tokens", { name: "sec-auth-stream", role: "viewer" });
    expect(made.status).toBe(201);
    const stream = await openStream(server.url, { token: made.body!.token });
    const at = Date.now();
    expect((await api(server.url, "POST", `/api/v1/tokens/${made.body!.id}/revoke`)).status).toBe(200);
    await expectCut(stream, at, "credentials_revoked");
  });

  it("cuts a session's open stream when it logs out", async () => {
    const user = await newUser();
    const session = await login(server.url, user.username, user.password);
    expect(session.status).toBe(200);
    const stream = await openStream(server.url, { cookie: session.cookie });
    const at = Date.now();
    expect((await api(server.url, "POST", "/api/v1/auth/logout", undefined, undefined, session.headers)).status).toBe(204);
    await expectCut(stream, at, "credentials_revoked");
  });

  it("disabling a user cuts their streams, ends every session, refuses their login until enabled; both audited", async () => {
    const user = await newUser();
    const first = await login(server.url, user.username, user.password);
    const second = await login(server.url, user.username, user.password);
    const stream = await openStream(server.url, { cookie: first.cookie });
    const at = Date.now();
    const disabled = await api(server.url, "POST", `/api/v1/users/${user.id}/disable`);
    expect(disabled.status, JSON.stringify(disabled.body)).toBe(200);
    expect(disabled.body!.user).toMatchObject({ id: user.id, disabled: true });
    await expectCut(stream, at, "credentials_revoked");
    expect(await me(first.headers)).toBe(401);
    expect(await me(second.headers)).toBe(401);
    expect((await login(server.url, user.username, user.password)).status).toBe(401);
    expect((await api(server.url, "POST", `/api/v1/users/${user.id}/disable`)).status).toBe(409);
    expect((await api(server.url, "GET", "/api/v1/users")).body!.users.find((listed: { id: string }) => listed.id === user.id)).toMatchObject({ disabled: true });

    const enabled = await api(server.url, "POST", `/api/v1/users/${user.id}/enable`);
    expect(enabled.status).toBe(200);
    expect(enabled.body!.user).toMatchObject({ disabled: false });
    // The sessions ended with the disabling stay ended; a new login works.
    expect(await me(first.headers)).toBe(401);
    const again = await login(server.url, user.username, user.password);
    expect(again.status).toBe(200);
    expect(await me(again.headers)).toBe(200);
    expect((await api(server.url, "POST", `/api/v1/users/${user.id}/enable`)).status).toBe(409);
    expect((await api(server.url, "POST", "/api/v1/users/00000000-0000-4000-8000-000000000000/disable")).status).toBe(404);
    expect(await audit(`user:${user.username}`)).toEqual(
      expect.arrayContaining([
        { action: "user.disabled", actor: "token:admin (RISKGATE_ADMIN_TOKEN)" },
        { action: "user.enabled", actor: "token:admin (RISKGATE_ADMIN_TOKEN)" },
      ]),
    );
  });

  it("an admin may not disable their own user, nor reset their own password without the current one", async () => {
    const admin = await login(server.url, "admin", ADMIN_PASSWORD);
    expect(admin.status).toBe(200);
    const adminId = (await api(server.url, "GET", "/api/v1/users")).body!.users.find((user: { username: string }) => user.username === "admin").id;
    const self = await api(server.url, "POST", `/api/v1/users/${adminId}/disable`, undefined, undefined, admin.headers);
    expect(self.status).toBe(409);
    expect(self.type).toBe("application/problem+json");
    expect((await api(server.url, "POST", `/api/v1/users/${adminId}/password`, { password: "another-admin-password" }, undefined, admin.headers)).status).toBe(409);
    expect(await me(admin.headers)).toBe(200);
  });

  it("cuts streams whose credentials another process revoked (written in the database) within about a second", async () => {
    // A token, a session and a user's other session, each ended by a write of another server.
    const made = await api(server.url, "POST", "/api/v1/tokens", { name: "sec-auth-elsewhere", role: "viewer" });
    const byToken = await openStream(server.url, { token: made.body!.token });
    const loggedOut = await newUser();
    const loggedOutSession = await login(server.url, loggedOut.username, loggedOut.password);
    const bySession = await openStream(server.url, { cookie: loggedOutSession.cookie });
    const disabled = await newUser();
    const disabledSession = await login(server.url, disabled.username, disabled.password);
    const byUser = await openStream(server.url, { cookie: disabledSession.cookie });
    // This process has cached all three principals: the stream's check must not trust that cache.
    expect(await me({ authorization: `Bearer ${made.body!.token}` })).toBe(200);
    expect(await me(loggedOutSession.headers)).toBe(200);

    const at = Date.now();
    await sql.query(`UPDATE "api_tokens" SET "revoked_at" = now() WHERE "id" = $1`, [made.body!.id]);
    await sql.query(`UPDATE "sessions" SET "revoked_at" = now() WHERE "user_id" = $1`, [loggedOut.id]);
    await sql.query(`UPDATE "users" SET "disabled_at" = now() WHERE "id" = $1`, [disabled.id]);
    await Promise.all([expectCut(byToken, at, "credentials_revoked"), expectCut(bySession, at, "credentials_revoked"), expectCut(byUser, at, "credentials_revoked")]);
  });

  // ---- Finding 10: user lifecycle ----

  it("changing one's own password needs the current one, ends the other sessions and their streams, keeps this one; audited", async () => {
    const user = await newUser("first-password-123");
    const here = await login(server.url, user.username, user.password);
    const elsewhere = await login(server.url, user.username, user.password);
    const stream = await openStream(server.url, { cookie: elsewhere.cookie });
    const change = (body: unknown, headers = here.headers) => api(server.url, "POST", "/api/v1/auth/password", body, undefined, headers);

    const wrong = await change({ currentPassword: "not-the-password", newPassword: "second-password-123" });
    expect(wrong.status).toBe(422);
    expect(wrong.type).toBe("application/problem+json");
    expect(wrong.body!.errors).toEqual([expect.objectContaining({ path: "currentPassword" })]);
    const short = await change({ currentPassword: user.password, newPassword: "short" });
    expect(short.status).toBe(422);
    expect(short.body!.errors).toEqual([expect.objectContaining({ path: "newPassword" })]);
    expect((await change({ currentPassword: user.password, newPassword: "second-password-123" }, anonymous)).status).toBe(401);
    // A token has no password to change.
    expect((await change({ currentPassword: user.password, newPassword: "second-password-123" }, {})).status).toBe(403);
    // Without the session's CSRF token, nothing changes.
    expect((await change({ currentPassword: user.password, newPassword: "second-password-123" }, { ...here.headers, "x-csrf-token": "" })).status).toBe(403);
    expect(stream.disconnectedAt).toBeNull();
    expect(await me(elsewhere.headers)).toBe(200);

    const changed = await change({ currentPassword: user.password, newPassword: "second-password-123" });
    // From the answer: the call itself hashes two passwords (scrypt), slow on a loaded machine.
    const at = Date.now();
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect(changed.body).toMatchObject({ endedSessions: 1 });
    await expectCut(stream, at, "credentials_revoked");
    expect(await me(elsewhere.headers)).toBe(401);
    expect(await me(here.headers)).toBe(200);
    expect((await login(server.url, user.username, user.password)).status).toBe(401);
    expect((await login(server.url, user.username, "second-password-123")).status).toBe(200);
    expect(await audit(`user:${user.username}`)).toEqual(expect.arrayContaining([{ action: "user.password_changed", actor: `user:${user.username}` }]));
  });

  it("an admin resets another user's password: that user's sessions and streams end; audited", async () => {
    const user = await newUser("before-reset-123");
    const session = await login(server.url, user.username, user.password);
    const stream = await openStream(server.url, { cookie: session.cookie });
    const route = `/api/v1/users/${user.id}/password`;

    const short = await api(server.url, "POST", route, { password: "short" });
    expect(short.status).toBe(422);
    expect(short.body!.errors).toEqual([expect.objectContaining({ path: "password" })]);
    expect((await api(server.url, "POST", "/api/v1/users/00000000-0000-4000-8000-000000000000/password", { password: "after-reset-1234" })).status).toBe(404);
    // Only an admin resets a password.
    expect((await api(server.url, "POST", route, { password: "after-reset-1234" }, undefined, session.headers)).status).toBe(403);
    expect(stream.disconnectedAt).toBeNull();

    const reset = await api(server.url, "POST", route, { password: "after-reset-1234" });
    // From the answer: the call hashes the new password (scrypt), slow on a loaded machine.
    const at = Date.now();
    expect(reset.status, JSON.stringify(reset.body)).toBe(200);
    expect(reset.body).toMatchObject({ user: { id: user.id }, endedSessions: 1 });
    await expectCut(stream, at, "credentials_revoked");
    expect(await me(session.headers)).toBe(401);
    expect((await login(server.url, user.username, user.password)).status).toBe(401);
    expect((await login(server.url, user.username, "after-reset-1234")).status).toBe(200);
    expect(await audit(`user:${user.username}`)).toEqual(expect.arrayContaining([{ action: "user.password_reset", actor: "token:admin (RISKGATE_ADMIN_TOKEN)" }]));
    // Neither the password nor anything derived from it is in the audit log.
    const details = (await sql.query<{ detail: unknown }>(`SELECT "detail" FROM "audit_log" WHERE "target" = $1`, [`user:${user.username}`])).rows;
    expect(JSON.stringify(details)).not.toMatch(/after-reset|before-reset|scrypt/);
  });

  // ---- Finding 8: no secret at rest ----

  it("keeps no token secret in an idempotent answer: a retry says the token was made, without its secret", async () => {
    const headers = { "idempotency-key": "sec-auth-token-1" };
    const first = await api(server.url, "POST", "/api/v1/tokens", { name: "sec-auth-idempotent", role: "viewer" }, undefined, headers);
    expect(first.status).toBe(201);
    const secret: string = first.body!.token;
    expect(secret).toMatch(/^rg_/);

    const retry = await api(server.url, "POST", "/api/v1/tokens", { name: "sec-auth-idempotent", role: "viewer" }, undefined, headers);
    expect(retry.status).toBe(201);
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect(retry.body).toMatchObject({ token: null, id: first.body!.id, name: "sec-auth-idempotent", role: "viewer", revoked: false, detail: expect.stringMatching(/secret/) });
    expect(JSON.stringify(retry.body)).not.toContain(secret);

    const kept = await sql.query<{ body: string | null }>(`SELECT "body" FROM "idempotency_keys"`);
    expect(kept.rows.length).toBeGreaterThan(0);
    for (const row of kept.rows) expect(row.body ?? "").not.toContain(secret);
    // The token made by the first call works.
    expect(await me({ authorization: `Bearer ${secret}` })).toBe(200);
  });

  it("a new RISKGATE_ADMIN_TOKEN replaces the previous one at restart (the old one gets 401)", async () => {
    const newToken = "rg_test_admin_token_rotated_0123456789";
    await server.stop("SIGTERM");
    server = await startServer({ DATABASE_URL: database.url, RISKGATE_ADMIN_TOKEN: newToken });
    expect(await me({ authorization: `Bearer ${ADMIN_TOKEN}` })).toBe(401);
    expect(await me({ authorization: `Bearer ${newToken}` })).toBe(200);
    const tokens = (await api(server.url, "GET", "/api/v1/tokens", undefined, undefined, { authorization: `Bearer ${newToken}` })).body!.tokens as { name: string; revoked: boolean }[];
    expect(tokens.filter((token) => token.name === "admin (RISKGATE_ADMIN_TOKEN)" && !token.revoked)).toHaveLength(1);
    const revokedBySystem = await sql.query(`SELECT 1 FROM "audit_log" WHERE "action" = 'token.revoked' AND "actor" = 'system' AND "target" = 'token:admin (RISKGATE_ADMIN_TOKEN)'`);
    expect(revokedBySystem.rowCount).toBe(1);

    // The same token at the next start stays the one.
    await server.stop("SIGTERM");
    server = await startServer({ DATABASE_URL: database.url, RISKGATE_ADMIN_TOKEN: newToken });
    expect(await me({ authorization: `Bearer ${newToken}` })).toBe(200);
  });
});

describe("session expiry (finding 7)", () => {
  let db: TestDatabase;
  let server: RunningServer;

  beforeAll(async () => {
    const [embedded] = await databasesUnderTest("the session expiry suite");
    db = await embedded!.create();
    server = await startServer({ ...db.env, RISKGATE_SESSION_TTL_SECONDS: "3" });
  });

  afterAll(async () => {
    await server?.stop("SIGTERM");
    await db?.cleanup();
  });

  it("cuts a session's open stream when the session expires, with session_expired", async () => {
    const created = await api(server.url, "POST", "/api/v1/users", { username: "sec-expiry", password: "expiry-password-1", role: "viewer" });
    expect(created.status).toBe(201);
    const response = await fetch(`${server.url}/api/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "sec-expiry", password: "expiry-password-1" }) });
    expect(response.status).toBe(200);
    const { expiresAt } = (await response.json()) as { expiresAt: number };
    const cookie = response.headers.getSetCookie().map((line) => line.split(";")[0]).join("; ");
    expect(expiresAt - Date.now()).toBeLessThanOrEqual(3_000);
    const stream = await openStream(server.url, { cookie });
    await expectCut(stream, expiresAt, "session_expired");
    expect((await api(server.url, "GET", "/api/v1/auth/me", undefined, undefined, { authorization: "", cookie })).status).toBe(401);
  });
});
