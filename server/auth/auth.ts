import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import type { Database } from "../db/database";
import type { Prisma } from "../db/generated/client";
import { AppError } from "../errors";
import { generatePassword, hashPassword, verifyPassword } from "./passwords";
import type { Principal, Role } from "./roles";

export const SESSION_COOKIE = "riskgate_session";
export const CSRF_COOKIE = "riskgate_csrf";
export const CSRF_HEADER = "x-csrf-token";
/** The custom server sets this from the socket's address, overwriting anything a client sent. */
export const CLIENT_IP_HEADER = "x-riskgate-client-ip";

const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
/** Principals are cached this long; a revocation in this process takes effect at once. */
const CACHE_TTL_MS = 5_000;
/** The name of the admin token registered from RISKGATE_ADMIN_TOKEN; a new value replaces the tokens of this name. */
export const ENV_TOKEN_NAME = "admin (RISKGATE_ADMIN_TOKEN)";
/** Failed logins allowed per client address and per username within the window. */
const LOGIN_WINDOW_MS = 5 * 60 * 1000;
const LOGIN_FAILURES_PER_ADDRESS = 20;
const LOGIN_FAILURES_PER_USERNAME = 5;
/** Login counters kept at most (keys: client addresses, and username-at-address pairs). */
const MAX_LOGIN_KEYS = 50_000;

export type UserView = { id: string; username: string; role: Role; accounts: string[] | null; createdAt: string; createdBy: string; disabled: boolean };
export type TokenView = { id: string; name: string; role: Role; accounts: string[] | null; createdAt: string; createdBy: string; revoked: boolean };
export type NewPrincipal = { role: Role; accounts: string[] | null };

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
  private readonly cache = new Map<string, { principal: Principal | null; until: number }>();
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly db: Database,
    private readonly clock: () => number = Date.now,
  ) {}

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
    const bearer = bearerOf(headers.authorization);
    if (bearer) return this.cached(`t:${sha256(bearer)}`, (hash) => this.tokenPrincipal(hash));
    const session = readCookie(headers.cookie, SESSION_COOKIE);
    if (session) return this.cached(`s:${sha256(session)}`, (hash) => this.sessionPrincipal(hash));
    return null;
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
    const expiresAt = new Date(this.clock() + SESSION_TTL_MS);
    await this.db.prisma.session.create({ data: { idHash: sha256(secret), userId: user.id, csrfToken, expiresAt } });
    await this.audit(`user:${user.username}`, "login", `user:${user.username}`, { address });
    const principal: Principal = { kind: "user", id: user.id, name: user.username, role: user.role as Role, accounts: accountsOf(user.accounts), csrfToken };
    return { secret, principal, expiresAt };
  }

  async logout(cookieHeader: string | null): Promise<void> {
    const secret = readCookie(cookieHeader, SESSION_COOKIE);
    if (!secret) return;
    const hash = sha256(secret);
    this.cache.delete(`s:${hash}`);
    await this.db.prisma.session.updateMany({ where: { idHash: hash, revokedAt: null }, data: { revokedAt: new Date(this.clock()) } });
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
    this.cache.delete(`t:${token.tokenHash}`);
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

  private async audit(actor: string, action: string, target: string, detail: Prisma.InputJsonObject): Promise<void> {
    await this.db.prisma.auditEntry.create({ data: { actor, action, target, detail } });
  }

  private async cached(key: string, load: (hash: string) => Promise<Principal | null>): Promise<Principal | null> {
    const now = this.clock();
    const hit = this.cache.get(key);
    if (hit && hit.until > now) return hit.principal;
    const principal = await load(key.slice(2)).catch((error: unknown) => {
      throw new AppError("storage_unavailable", "cannot check credentials: the database is unavailable", [], { cause: error });
    });
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, { principal, until: now + CACHE_TTL_MS });
    return principal;
  }

  private async tokenPrincipal(hash: string): Promise<Principal | null> {
    const token = await this.db.prisma.apiToken.findUnique({ where: { tokenHash: hash } });
    if (!token || token.revokedAt) return null;
    return { kind: "token", id: token.id, name: token.name, role: token.role as Role, accounts: accountsOf(token.accounts), csrfToken: null };
  }

  private async sessionPrincipal(hash: string): Promise<Principal | null> {
    const session = await this.db.prisma.session.findUnique({ where: { idHash: hash }, include: { user: true } });
    if (!session || session.revokedAt || session.expiresAt.getTime() <= this.clock() || session.user.disabledAt) return null;
    const { user } = session;
    return { kind: "user", id: user.id, name: user.username, role: user.role as Role, accounts: accountsOf(user.accounts), csrfToken: session.csrfToken };
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
    createdAt: user.createdAt.toISOString(),
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
    createdAt: token.createdAt.toISOString(),
    createdBy: token.createdBy,
    revoked: token.revokedAt !== null,
  };
}
