import { z } from "zod";
import type { AccountId } from "./engine/ids";
import { AccountId as AccountIdSchema } from "./engine/ids";
import type { LedgerRecord } from "./ledger";
import type { FirmExposure, OverviewCounts, OverviewPage, OverviewRow } from "./overview-protocol";
import { OverviewQuerySchema } from "./overview-protocol";
import type { DecisionRecord, FirmView, Snapshot } from "./runtime";
import type { AccountView } from "./engine/views";

/**
 * The Socket.IO protocol, shared by the server and the browser: a dashboard receives what it
 * shows, by subscription.
 *
 * - `subscribe {topic: "overview", query, ref?}`: a window of the firm overview (one per socket;
 *   a new one replaces it, e.g. when the user scrolls or filters). The server answers
 *   `overview {kind: "page"}` (an `OverviewPage`), then `overview {kind: "delta"}`s: figures at
 *   most twice a second, a state change, trip, lock-out, lock or denial of a row in the window at
 *   once. `ref` (the client's counter) comes back in every message of that subscription.
 * - `subscribe {topic: "account", accountId, lastSeq?}`: one account (at most 20 per socket).
 *   The server answers `account` messages: the account's whole view (its `rules` only when they
 *   changed since the last message), its non-market ledger events and its decisions, covering
 *   ledger seqs `fromSeq..toSeq`. With `lastSeq`, the first message carries exactly what was
 *   missed since; `reset: true` says the history is not continued (too far back, or no
 *   `lastSeq`): take the view as of `toSeq` and read older events over HTTP.
 *   A message may overlap what the client has (skip events and decisions with seq <= its last);
 *   a `fromSeq` beyond last + 1 is a gap: subscribe again with `lastSeq`.
 * - `unsubscribe {topic: "overview"}` or `{topic: "account", accountId}`.
 *
 * Every client message is checked (`problem` answers a bad one); a socket sending too many is
 * throttled, then disconnected. A scoped principal sees only its accounts. A stream lives as long
 * as its credentials: when they end, `problem {code: "credentials_revoked" | "session_expired"}`,
 * then the server disconnects it (within a second).
 */

/** The stream's limits (what the server enforces; the AsyncAPI document states them). */
export const STREAM_LIMITS = {
  /** Commits kept for account subscriptions that come back with their last seq; older ones are read from the ledger. */
  CATCH_UP_COMMITS: 20_000,
  /** Events of one account read from the ledger for a catch-up; beyond, the client gets a fresh view. */
  CATCH_UP_EVENTS: 1_000,
  /** Account subscriptions one socket may hold. */
  MAX_ACCOUNT_SUBSCRIPTIONS: 20,
  /** Messages a socket may send: a burst, then this many a second; a socket that keeps flooding is disconnected. */
  BURST: 60,
  PER_SECOND: 20,
  DROPS_BEFORE_DISCONNECT: 200,
  /** After a stream is cut for flooding, its credential may not open another for this long (`too_many_requests`). */
  FLOOD_COOLDOWN_MS: 10_000,
} as const;

export const SubscribeMessage = z.discriminatedUnion("topic", [
  z.strictObject({ topic: z.literal("overview"), query: OverviewQuerySchema, ref: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional() }),
  z.strictObject({ topic: z.literal("account"), accountId: AccountIdSchema, lastSeq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional() }),
]);
export type SubscribeMessage = z.input<typeof SubscribeMessage>;

export const UnsubscribeMessage = z.discriminatedUnion("topic", [
  z.strictObject({ topic: z.literal("overview") }),
  z.strictObject({ topic: z.literal("account"), accountId: AccountIdSchema }),
]);
export type UnsubscribeMessage = z.input<typeof UnsubscribeMessage>;

/** A row of the window that changed: its id and the fields that changed (all of them for a row new to the window). */
export type OverviewRowPatch = Partial<OverviewRow> & { accountId: AccountId };

export type OverviewMessage =
  | { kind: "page"; ref: number; page: OverviewPage }
  | {
      kind: "delta";
      ref: number;
      seq: number;
      /** Present when it changed. */
      firm?: FirmView;
      counts?: OverviewCounts;
      matching?: number;
      /** The window's accounts in order, when its order or membership changed. */
      ids?: AccountId[];
      rows: OverviewRowPatch[];
      breachedToday?: OverviewRow[];
      exposure?: FirmExposure;
      /** Decisions newer than the last sent, newest first (at most 10: the newest). */
      decisions?: DecisionRecord[];
    };

/** An account view on the wire: `rules` (large, constant) only when they changed. */
export type WireAccountView = Omit<AccountView, "rules"> & { rules?: AccountView["rules"] };

export type AccountMessage = {
  accountId: AccountId;
  fromSeq: number;
  toSeq: number;
  /** The history is not continued from the client's last seq: replace everything. */
  reset: boolean;
  firm: FirmView;
  account: WireAccountView;
  /** The account's ledger events in `fromSeq..toSeq` (no market data). */
  events: LedgerRecord[];
  decisions: DecisionRecord[];
};

/**
 * `credentials_revoked` and `session_expired` come just before the server disconnects the socket
 * (a revoked token, a logout, a disabled user, a new password; an expired session): log in again.
 */
export type StreamProblem = {
  code: "invalid_message" | "forbidden" | "not_found" | "too_many_subscriptions" | "rate_limited" | "credentials_revoked" | "session_expired";
  detail: string;
  accountId?: string;
};

/**
 * Why the server refused to open a stream: the `data` of the client's `connect_error` (its
 * `message` says the same in words).
 *
 * - `unauthenticated`: no valid session cookie or token: log in (or pass `auth.token`);
 * - `forbidden`: the credential may not read the stream (a `feed` or `metrics` role reads nothing);
 * - `too_many_requests`: this credential's last stream was cut for flooding: retry after
 *   `retryAfterSeconds`;
 * - `unavailable`: the credentials could not be checked just now (the database): retry.
 *
 * A page of another origin is refused before Socket.IO, at the HTTP handshake (403): the client
 * sees a transport error, not one of these codes.
 */
export type ConnectRefusal =
  | { code: "unauthenticated" | "forbidden" | "unavailable"; detail: string }
  | { code: "too_many_requests"; detail: string; retryAfterSeconds: number };
export type ConnectRefusalCode = ConnectRefusal["code"];

export type ServerToClient = {
  overview: (message: OverviewMessage) => void;
  account: (message: AccountMessage) => void;
  problem: (problem: StreamProblem) => void;
};

export type ClientToServer = {
  subscribe: (message: SubscribeMessage) => void;
  unsubscribe: (message: UnsubscribeMessage) => void;
};

/** What a client sends in the handshake's `auth` (programs: their token). */
export type Handshake = { token?: string };

export type { Snapshot, DecisionRecord, AccountView, LedgerRecord, FirmView };

/**
 * The whole-firm messages of the protocol before subscriptions (a snapshot of every account,
 * then changes of every touched account). No longer sent; kept for the type of old callers.
 * @deprecated subscribe to `overview` or `account` instead.
 */
export type ChangeMessage = {
  fromSeq: number;
  toSeq: number;
  firm: FirmView;
  events: LedgerRecord[];
  accounts: AccountView[];
  decisions: DecisionRecord[];
};
