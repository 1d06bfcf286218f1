import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import type { Database } from "../db/database";
import type { Prisma } from "../db/generated/client";
import { AppError } from "../errors";
import { generatePassword, hashPassword, verifyPassword } from "./passwords";
import type { Principal, Role } from "./roles";
import { actorOf } from "./roles";

export const SESSION_COOKIE = "riskgate_session";
export const CSRF_COOKIE = "riskgate_csrf";
export const CSRF_HEADER = "x-csrf-token";
/** The custom server sets this from the socket's address, overwriting anything a client sent. */
export const CLIENT_IP_HEADER = "x-riskgate-client-ip";

/** How long a login lasts unless the server is told otherwise (RISKGATE_SESSION_TTL_SECONDS). */
export const DEFAULT_SESSION_TTL_MS = 12 * 60 * 60 * 1000;
/** Principals are cached this long; a revocation in this process takes effect at once. */
const CACHE_TTL_MS = 5_000;
/** Failed current-password checks allowed per user within the login window (a stolen session cannot guess on). */
const PASSWORD_CHECK_FAILURES = 5;
/** Credentials checked in one query (one array parameter; batches bound a query's size). */
const CHECK_BATCH = 5_000;
/** The name of the admin token registered from RISKGATE_ADMIN_TOKEN; a new value replaces the tokens of this name. */
export const ENV_TOKEN_NAME = "admin (RISKGATE_ADMIN_TOKEN)";
/** Failed logins allowed per client address and per username within the window. */
const LOGIN_WINDOW_MS = 5 * 60 * 1000;
const LOGIN_FAILURES_PER_ADDRESS = 20;
const LOGIN_FAILURES_PER_USERNAME = 5;
/** Login counters kept at most (keys: client addresses, and username-at-address pairs). */
const MAX_LOGIN_KEYS = 50_000;

export type UserView = { id: string; username: string; role: Role; accounts: string[] | null; createdAt: number; createdBy: string; disabled: boolean };
export type TokenView = { id: string; name: string; role: Role; accounts: string[] | null; createdAt: number; createdBy: string; revoked: boolean };
export type NewPrincipal = { role: Role; accounts: string[] | null };

/**
 * What a request authenticated with, as this process names it: `t:<sha256 of the token>` or
 * `s:<sha256 of the session secret>` (never the secret itself). Streams are indexed by it.
 */
export type CredentialKey = string;
/** Why a credential stopped working: revoked (a token revoked, a logout, a disabled user, a new password) or its session expired. */
export type CredentialEnd = "credentials_revoked" | "session_expired";
/** A principal and the credential it came from; `expiresAt` (ms) for sessions, null for tokens. */
export type Identity = { principal: Principal; key: CredentialKey; expiresAt: number | null };
/** Credentials that stopped working, told to the listeners as soon as this process ends them. */
export type Revocation = { keys: CredentialKey[]; end: CredentialEnd; why: string };

/** Of the given token hashes, those still live. */
const LIVE_TOKENS_SQL = `SELECT "token_hash" FROM "api_tokens" WHERE "token_hash" = ANY($1::text[]) AND "revoked_at" IS NULL`;
/** The given sessions: live unless revoked or their user disabled; and when they expire. */
const SESSIONS_SQL = `SELECT s."id_hash", (s."revoked_at" IS NULL AND u."disabled_at" IS NULL) AS "live", s."expires_at"
  FROM "sessions" s JOIN "users" u ON u."id" = s."user_id" WHERE s."id_hash" = ANY($1::text[])`;

const sha256 = (value: string) => createHash("sha256").update(value).digest("hex");

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export function readCookie(header: string | null | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const index = part.indexOf("=");
    if (index > 0 && part.slice(0, index).trim() === name) return decodeURIComponent(part.slice(index + 1).trim());
  }
  return null;
}

function bearerOf(header: string | null | undefined): string | null {
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match ? match[1]! : null;
}

const accountsOf = (value: Prisma.JsonValue | null): string[] | null => (Array.isArray(value) ? (value as string[]) : null);

/**
 * Users, sessions and API tokens. Passwords are scrypt hashes; session secrets and tokens are
 * random 256-bit values stored as SHA-256 (they are not guessable, so a fast hash is right).
 * Every change to users and tokens, and every login, goes to the audit log with who did it.
 */
export class Auth {
  private readonly cache = new Map<string, { identity: Identity | null; until: number }>();
  private readonly failures = new Map<string, number[]>();
  private readonly revocationListeners = new Set<(revocation: Revocation) => void>();
  private readonly sessionTtlMs: number;

  constructor(
    private readonly db: Database,
    private readonly clock: () => number = Date.now,
    options: { sessionTtlMs?: number } = {},
  ) {
    this.sessionTtlMs = options.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS;
  }

  /**
   * Calls `listener` whenever this process ends credentials (revokes a token, logs out, disables
   * a user, changes or resets a password), after the change is stored. Returns the unsubscribe.
   */
  onRevoked(listener: (revocation: Revocation) => void): () => void {
    this.revocationListeners.add(listener);
    return () => this.revocationListeners.delete(listener);
  }

  /**
   * First start: with no user yet, creates `admin` with `password` or a generated one, which is
   * returned so the caller prints it once. A `token` (RISKGATE_ADMIN_TOKEN) is registered as an
   * admin token if new, and replaces the tokens registered from earlier values: those are revoked
   * (one environment token is live at a time). A token revoked through the API stays revoked.
   */
  async seed(seed: { password: string | null; token: string | null }): Promise<{
    generatedPassword: string | null;
    createdAdmin: boolean;
    replacedTokens: number;
    tokenRevoked: boolean;
  }> {
    let generatedPassword: string | null = null;
    let createdAdmin = false;
    let replacedTokens = 0;
    let tokenRevoked = false;
    if ((await this.db.prisma.user.count()) === 0) {
      const password = seed.password ?? (generatedPassword = generatePassword());
      await this.createUser({ username: "admin", password, role: "admin", accounts: null }, "system");
      createdAdmin = true;
    }
    if (seed.token) {
      const hash = sha256(seed.token);
      const existing = await this.db.prisma.apiToken.findUnique({ where: { tokenHash: hash } });
      if (!existing) await this.storeToken(ENV_TOKEN_NAME, seed.token, { role: "admin", accounts: null }, "system");
      tokenRevoked = existing?.revokedAt != null;
      const earlier = await this.db.prisma.apiToken.findMany({ where: { name: ENV_TOKEN_NAME, createdBy: "system", revokedAt: null, NOT: { tokenHash: hash } } });
      for (const token of earlier) await this.revokeToken(token.id, "system", "replaced by a new RISKGATE_ADMIN_TOKEN");
      replacedTokens = earlier.length;
    }
    return { generatedPassword, createdAdmin, replacedTokens, tokenRevoked };
  }

  /** The principal behind a request's bearer token or session cookie; null when there is none or it is not valid. */
  async authenticate(headers: { authorization?: string | null; cookie?: string | null }): Promise<Principal | null> {
    return (await this.identify(headers))?.principal ?? null;
  }

  /** As `authenticate`, with the credential the principal came from (what a stream is indexed by) and when it expires. */
  async identify(headers: { authorization?: string | null; cookie?: string | null }): Promise<Identity | null> {
    const bearer = bearerOf(headers.authorization);
    if (bearer) return this.cached(`t:${sha256(bearer)}`, (key) => this.tokenIdentity(key));
    const session = readCookie(headers.cookie, SESSION_COOKIE);
    if (session) return this.cached(`s:${sha256(session)}`, (key) => this.sessionIdentity(key));
    return null;
  }

  /**
   * Which of `keys` no longer authenticate, and why, read from the database (never the cache):
   * revoked or unknown tokens, sessions revoked, expired or of a disabled user. One query per
   * kind per CHECK_BATCH keys (10,000 keys: about 60 ms, most of it waiting on the database). A key found ended is dropped from the cache too, so this process
   * refuses it at once even when another process revoked it.
   */
  async endedCredentials(keys: Iterable<CredentialKey>): Promise<Map<CredentialKey, CredentialEnd>> {
    const tokens: string[] = [];
    const sessions: string[] = [];
    for (const key of keys) (key.startsWith("t:") ? tokens : sessions).push(key.slice(2));
    const ended = new Map<CredentialKey, CredentialEnd>();
    const now = this.clock();
    // Plain SQL on the pool with one array parameter: Prisma's `in` binds one parameter a hash.
    for (let from = 0; from < tokens.length; from += CHECK_BATCH) {
      const batch = tokens.slice(from, from + CHECK_BATCH);
      const live = await this.db.pool.query<{ token_hash: string }>(LIVE_TOKENS_SQL, [batch]);
      const liveHashes = new Set(live.rows.map((row) => row.token_hash));
      for (const hash of batch) if (!liveHashes.has(hash)) ended.set(`t:${hash}`, "credentials_revoked");
    }
    for (let from = 0; from < sessions.length; from += CHECK_BATCH) {
      const batch = sessions.slice(from, from + CHECK_BATCH);
      const found = await this.db.pool.query<{ id_hash: string; live: boolean; expires_at: Date }>(SESSIONS_SQL, [batch]);
      const byHash = new Map(found.rows.map((row) => [row.id_hash, row]));
      for (const hash of batch) {
        const session = byHash.get(hash);
        if (!session || !session.live) ended.set(`s:${hash}`, "credentials_revoked");
        else if (session.expires_at.getTime() <= now) ended.set(`s:${hash}`, "session_expired");
      }
    }
    for (const key of ended.keys()) this.cache.delete(key);
    return ended;
  }

  /** A cookie session's CSRF check: the header must carry the session's token. */
  csrfValid(principal: Principal, header: string | null): boolean {
    return principal.csrfToken === null || (header !== null && sameText(header, principal.csrfToken));
  }

  async login(username: string, password: string, address: string): Promise<{ secret: string; principal: Principal; expiresAt: Date }> {
    // Throttled per client address, and per username from that address: failures from one place
    // do not keep the right password out from another (an attacker cannot lock `admin` out).
    const byAddress = `a:${address}`;
    const byUsername = `u:${username.toLowerCase()}@${address}`;
    this.checkRate(byAddress, LOGIN_FAILURES_PER_ADDRESS);
    this.checkRate(byUsername, LOGIN_FAILURES_PER_USERNAME);
    // The attempt counts before the password is hashed: parallel attempts cannot all reach the
    // check; a success takes its count back.
    const attemptAt = this.fail(byAddress);
    this.fail(byUsername);
    const user = await this.db.prisma.user.findUnique({ where: { username } });
    // Hash even for an unknown user, so timing does not tell which usernames exist.
    const valid = await verifyPassword(password, user?.passwordHash ?? (await dummy()));
    if (!user || !valid || user.disabledAt) {
      await this.audit(`anonymous@${address}`, "login.failed", `user:${username}`, {});
      throw new AppError("unauthenticated", "wrong username or password");
    }
    this.forgive(byAddress, attemptAt);
    this.forgive(byUsername, attemptAt);
    const secret = randomBytes(32).toString("base64url");
    const csrfToken = randomBytes(24).toString("base64url");
    const expiresAt = new Date(this.clock() + this.sessionTtlMs);
    await this.db.prisma.session.create({ data: { idHash: sha256(secret), userId: user.id, csrfToken, expiresAt } });
    // A password reset, change or disabling that ended the user's sessions while this login
    // checked the old password must end this one too: it was made after their sessions ended.
    const now = await this.db.prisma.user.findUnique({ where: { id: user.id }, select: { passwordHash: true, disabledAt: true } });
    if (!now || now.passwordHash !== user.passwordHash || now.disabledAt) {
      await this.db.prisma.session.update({ where: { idHash: sha256(secret) }, data: { revokedAt: new Date(this.clock()) } });
      throw new AppError("unauthenticated", "wrong username or password");
    }
    await this.audit(`user:${user.username}`, "login", `user:${user.username}`, { address });
    const principal: Principal = { kind: "user", id: user.id, name: user.username, role: user.role as Role, accounts: accountsOf(user.accounts), csrfToken };
    return { secret, principal, expiresAt };
  }

  async logout(cookieHeader: string | null): Promise<void> {
    const secret = readCookie(cookieHeader, SESSION_COOKIE);
    if (!secret) return;
    const hash = sha256(secret);
    await this.db.prisma.session.updateMany({ where: { idHash: hash, revokedAt: null }, data: { revokedAt: new Date(this.clock()) } });
    this.ended([`s:${hash}`], "logged out");
  }

  async createUser(input: { username: string; password: string } & NewPrincipal, by: string): Promise<UserView> {
    const existing = await this.db.prisma.user.findUnique({ where: { username: input.username } });
    if (existing) throw new AppError("conflict", `user ${input.username} already exists`);
    const user = await this.db.prisma.user.create({
      data: {
        id: randomUUID(),
        username: input.username,
        passwordHash: await hashPassword(input.password),
        role: input.role,
        accounts: input.accounts ?? undefined,
        createdBy: by,
      },
    });
    await this.audit(by, "user.created", `user:${user.username}`, { role: input.role, accounts: input.accounts });
    return userView(user);
  }

  async users(): Promise<UserView[]> {
    return (await this.db.prisma.user.findMany({ orderBy: { createdAt: "asc" } })).map(userView);
  }

  /**
   * Disables a user: their sessions end (and their streams with them) and they cannot log in
   * until enabled. An admin cannot disable their own user (another admin must).
   */
  async disableUser(userId: string, by: Principal): Promise<{ user: UserView; endedSessions: number }> {
    const user = await this.userById(userId);
    if (by.kind === "user" && by.id === user.id) throw new AppError("conflict", "you cannot disable your own user: another admin must");
    if (user.disabledAt) throw new AppError("conflict", `user ${user.username} is already disabled`);
    const disabled = await this.db.prisma.user.update({ where: { id: user.id }, data: { disabledAt: new Date(this.clock()) } });
    const endedSessions = await this.endSessions(user.id, null, `user ${user.username} disabled`);
    await this.audit(actorOf(by), "user.disabled", `user:${user.username}`, { id: user.id, endedSessions });
    return { user: userView(disabled), endedSessions };
  }

  /** Lets a disabled user log in again (the sessions the disabling ended stay ended). */
  async enableUser(userId: string, by: Principal): Promise<{ user: UserView }> {
    const user = await this.userById(userId);
    if (!user.disabledAt) throw new AppError("conflict", `user ${user.username} is not disabled`);
    const enabled = await this.db.prisma.user.update({ where: { id: user.id }, data: { disabledAt: null } });
    await this.audit(actorOf(by), "user.enabled", `user:${user.username}`, { id: user.id });
    return { user: userView(enabled) };
  }

  /**
   * An admin sets another user's password: every session of that user ends. Their own goes
   * through `changePassword`, which asks for the current one.
   */
  async resetPassword(userId: string, password: string, by: Principal): Promise<{ user: UserView; endedSessions: number }> {
    const user = await this.userById(userId);
    if (by.kind === "user" && by.id === user.id) throw new AppError("conflict", "change your own password with POST /api/v1/auth/password (it asks for the current one)");
    const updated = await this.db.prisma.user.update({ where: { id: user.id }, data: { passwordHash: await hashPassword(password) } });
    const endedSessions = await this.endSessions(user.id, null, `password of ${user.username} reset`);
    await this.audit(actorOf(by), "user.password_reset", `user:${user.username}`, { id: user.id, endedSessions });
    return { user: userView(updated), endedSessions };
  }

  /**
   * A user changes their own password, proving the current one (a wrong one is a 422 on
   * `currentPassword`, and counts against a limit per user like a failed login). Their other
   * sessions end; the one making the change (`cookieHeader`) stays.
   */
  async changePassword(principal: Principal, cookieHeader: string | null, currentPassword: string, newPassword: string): Promise<{ endedSessions: number }> {
    if (principal.kind !== "user") throw new AppError("forbidden", "an API token has no password: log in as a user to change yours");
    const byUser = `p:${principal.id}`;
    this.checkRate(byUser, PASSWORD_CHECK_FAILURES);
    const attemptAt = this.fail(byUser);
    const user = await this.userById(principal.id);
    if (!(await verifyPassword(currentPassword, user.passwordHash))) {
      await this.audit(actorOf(principal), "user.password_change_failed", `user:${user.username}`, {});
      throw new AppError("validation_failed", "currentPassword: not your current password", [{ path: "currentPassword", message: "not your current password" }]);
    }
    this.forgive(byUser, attemptAt);
    if (newPassword === currentPassword) {
      throw new AppError("validation_failed", "newPassword: the same as the current one", [{ path: "newPassword", message: "the same as the current one" }]);
    }
    await this.db.prisma.user.update({ where: { id: user.id }, data: { passwordHash: await hashPassword(newPassword) } });
    const secret = readCookie(cookieHeader, SESSION_COOKIE);
    const endedSessions = await this.endSessions(user.id, secret ? sha256(secret) : null, `password of ${user.username} changed`);
    await this.audit(actorOf(principal), "user.password_changed", `user:${user.username}`, { endedSessions });
    return { endedSessions };
  }

  /** A new bearer token; its secret is returned once and only its hash is kept. */
  async createToken(name: string, scope: NewPrincipal, by: string): Promise<{ token: string; view: TokenView }> {
    const token = `rg_${randomBytes(32).toString("base64url")}`;
    return { token, view: await this.storeToken(name, token, scope, by) };
  }

  async tokens(): Promise<TokenView[]> {
    return (await this.db.prisma.apiToken.findMany({ orderBy: { createdAt: "asc" } })).map(tokenView);
  }

  async revokeToken(id: string, by: string, reason?: string): Promise<TokenView> {
    const token = await this.db.prisma.apiToken.findUnique({ where: { id } });
    if (!token) throw new AppError("not_found", `no token ${id}`);
    if (token.revokedAt) throw new AppError("conflict", `token ${id} is already revoked`);
    const revoked = await this.db.prisma.apiToken.update({ where: { id }, data: { revokedAt: new Date(this.clock()) } });
    this.ended([`t:${token.tokenHash}`], `token ${token.name} revoked`);
    await this.audit(by, "token.revoked", `token:${token.name}`, reason ? { id, reason } : { id });
    return tokenView(revoked);
  }

  /** Revokes every live token named `name` (the demo rotates its own at each start). */
  async revokeTokensNamed(name: string, by: string): Promise<void> {
    const live = await this.db.prisma.apiToken.findMany({ where: { name, revokedAt: null } });
    for (const token of live) await this.revokeToken(token.id, by);
  }

  private async storeToken(name: string, token: string, scope: NewPrincipal, by: string): Promise<TokenView> {
    const stored = await this.db.prisma.apiToken.create({
      data: { id: randomUUID(), name, tokenHash: sha256(token), role: scope.role, accounts: scope.accounts ?? undefined, createdBy: by },
    });
    await this.audit(by, "token.created", `token:${name}`, { id: stored.id, role: scope.role, accounts: scope.accounts });
    return tokenView(stored);
  }

  private async userById(userId: string) {
    const user = await this.db.prisma.user.findUnique({ where: { id: userId } });
    if (!user) throw new AppError("not_found", `no user ${userId}`);
    return user;
  }

  /** Revokes the user's live sessions but `except` (a session hash); how many ended. */
  private async endSessions(userId: string, except: string | null, why: string): Promise<number> {
    const revoked = await this.db.prisma.session.updateManyAndReturn({
      where: { userId, revokedAt: null, ...(except ? { NOT: { idHash: except } } : {}) },
      data: { revokedAt: new Date(this.clock()) },
      select: { idHash: true },
    });
    this.ended(revoked.map((session) => `s:${session.idHash}`), why);
    return revoked.length;
  }

  /** Credentials this process just ended (stored already): out of the cache, and told to the listeners (open streams). */
  private ended(keys: CredentialKey[], why: string): void {
    for (const key of keys) this.cache.delete(key);
    if (keys.length === 0) return;
    for (const listener of this.revocationListeners) {
      try {
        listener({ keys, end: "credentials_revoked", why });
      } catch (error) {
        console.error(`credential revocation listener: ${(error as Error).message}`);
      }
    }
  }

  private async audit(actor: string, action: string, target: string, detail: Prisma.InputJsonObject): Promise<void> {
    await this.db.prisma.auditEntry.create({ data: { actor, action, target, detail } });
  }

  private async cached(key: CredentialKey, load: (key: CredentialKey) => Promise<Identity | null>): Promise<Identity | null> {
    const now = this.clock();
    const hit = this.cache.get(key);
    if (hit && hit.until > now) return hit.identity;
    const identity = await load(key).catch((error: unknown) => {
      throw new AppError("storage_unavailable", "cannot check credentials: the database is unavailable", [], { cause: error });
    });
    if (this.cache.size > 10_000) this.cache.clear();
    // A session is never cached past its expiry.
    this.cache.set(key, { identity, until: Math.min(now + CACHE_TTL_MS, identity?.expiresAt ?? Infinity) });
    return identity;
  }

  private async tokenIdentity(key: CredentialKey): Promise<Identity | null> {
    const token = await this.db.prisma.apiToken.findUnique({ where: { tokenHash: key.slice(2) } });
    if (!token || token.revokedAt) return null;
    const principal: Principal = { kind: "token", id: token.id, name: token.name, role: token.role as Role, accounts: accountsOf(token.accounts), csrfToken: null };
    return { principal, key, expiresAt: null };
  }

  private async sessionIdentity(key: CredentialKey): Promise<Identity | null> {
    const session = await this.db.prisma.session.findUnique({ where: { idHash: key.slice(2) }, include: { user: true } });
    if (!session || session.revokedAt || session.expiresAt.getTime() <= this.clock() || session.user.disabledAt) return null;
    const { user } = session;
    const principal: Principal = { kind: "user", id: user.id, name: user.username, role: user.role as Role, accounts: accountsOf(user.accounts), csrfToken: session.csrfToken };
    return { principal, key, expiresAt: session.expiresAt.getTime() };
  }

  private recent(key: string): number[] {
    const since = this.clock() - LOGIN_WINDOW_MS;
    const times = (this.failures.get(key) ?? []).filter((at) => at > since);
    if (times.length > 0) this.failures.set(key, times);
    else this.failures.delete(key);
    return times;
  }

  private checkRate(key: string, limit: number): void {
    const times = this.recent(key);
    if (times.length >= limit) {
      const retryAfter = Math.ceil((times[0]! + LOGIN_WINDOW_MS - this.clock()) / 1000);
      throw new AppError("rate_limited", `too many failed logins; try again in ${retryAfter} s`, [], undefined, { retryAfterSeconds: retryAfter });
    }
  }

  /** Counts an attempt against `key`; its time. */
  private fail(key: string): number {
    const at = this.clock();
    const times = this.recent(key);
    times.push(at);
    this.failures.set(key, times);
    // Bounded memory: beyond the cap the oldest keys go (a flood of addresses forgets itself).
    while (this.failures.size > MAX_LOGIN_KEYS) this.failures.delete(this.failures.keys().next().value!);
    return at;
  }

  /** Takes back the attempt counted at `at` (it succeeded). */
  private forgive(key: string, at: number): void {
    const times = this.failures.get(key);
    const index = times?.indexOf(at) ?? -1;
    if (index >= 0) times!.splice(index, 1);
    if (times?.length === 0) this.failures.delete(key);
  }
}

/** A valid hash of a random password: unknown users cost the same scrypt as known ones. */
let dummyHash: Promise<string> | null = null;
const dummy = () => (dummyHash ??= hashPassword(randomBytes(16).toString("hex")));

function userView(user: { id: string; username: string; role: string; accounts: Prisma.JsonValue | null; createdAt: Date; createdBy: string; disabledAt: Date | null }): UserView {
  return {
    id: user.id,
    username: user.username,
    role: user.role as Role,
    accounts: accountsOf(user.accounts),
    createdAt: user.createdAt.getTime(),
    createdBy: user.createdBy,
    disabled: user.disabledAt !== null,
  };
}

function tokenView(token: { id: string; name: string; role: string; accounts: Prisma.JsonValue | null; createdAt: Date; createdBy: string; revokedAt: Date | null }): TokenView {
  return {
    id: token.id,
    name: token.name,
    role: token.role as Role,
    accounts: accountsOf(token.accounts),
    createdAt: token.createdAt.getTime(),
    createdBy: token.createdBy,
    revoked: token.revokedAt !== null,
  };
}
