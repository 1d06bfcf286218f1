import { z } from "zod";
import { AccountId } from "../engine/ids";

/**
 * Who may do what. Roles are ordered by what they may do to accounts, but `strategy` is a role
 * of its own: it trades (only its accounts) and may halt itself, but never resets or unlocks,
 * and never sends prices. Two roles are for machines and do one thing each: `feed` sends market
 * data (and reads nothing), `metrics` reads the Prometheus metrics (and nothing else).
 */
export const Role = z.enum(["viewer", "risk_manager", "strategy", "feed", "metrics", "admin"]);
export type Role = z.infer<typeof Role>;

/** null: every account; else the only accounts the principal may see and act on. */
export const AccountScope = z.array(AccountId).min(1).max(1000).nullable();

export type Principal = {
  readonly kind: "user" | "token";
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  readonly accounts: readonly string[] | null;
  /** Set for cookie sessions: mutating calls must echo it in `x-csrf-token`. */
  readonly csrfToken: string | null;
};

/** How an action is recorded on the ledger: `user:alice`, `token:feed-1`. */
export function actorOf(principal: Principal): string {
  return `${principal.kind}:${principal.name}`;
}

/**
 * What an endpoint needs:
 * - `public`: nothing (health, login, the OpenAPI document);
 * - `authenticated`: any principal (who am I, log out);
 * - `read`: any role; scoped principals see only their accounts;
 * - `trade`: intents and fills (strategy for its accounts, admin);
 * - `feed`: market data (feed, admin);
 * - `metrics`: the Prometheus metrics (metrics, and unscoped viewer, risk_manager, admin);
 * - `halt`: trip a breaker (risk_manager, admin; a strategy may trip the manual breaker of its own account);
 * - `operate`: reset breakers, lock and unlock, reduce-only, firm halt (risk_manager, admin);
 * - `admin`: open and reopen accounts, users and tokens.
 */
export type Permission = "public" | "authenticated" | "read" | "trade" | "feed" | "metrics" | "halt" | "operate" | "admin";

const grants: Record<Exclude<Permission, "public" | "authenticated">, readonly Role[]> = {
  read: ["viewer", "risk_manager", "strategy", "admin"],
  trade: ["strategy", "admin"],
  feed: ["feed", "admin"],
  metrics: ["metrics", "viewer", "risk_manager", "admin"],
  halt: ["strategy", "risk_manager", "admin"],
  operate: ["risk_manager", "admin"],
  admin: ["admin"],
};

export function rolesFor(permission: Permission): readonly Role[] {
  return permission === "public" || permission === "authenticated" ? Role.options : grants[permission];
}

export function hasPermission(principal: Principal, permission: Permission): boolean {
  return rolesFor(permission).includes(principal.role);
}

export function canSee(principal: Principal, accountId: string): boolean {
  return principal.accounts === null || principal.accounts.includes(accountId);
}

/**
 * Whether the principal may read the firm's figures (the metrics, health's details): the metrics
 * permission, unscoped (those figures are firm-wide).
 */
export function seesFirmFigures(principal: Principal | null): boolean {
  return principal !== null && principal.accounts === null && hasPermission(principal, "metrics");
}
