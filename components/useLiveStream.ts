"use client";

import type { QueryClient } from "@tanstack/react-query";
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useState, useSyncExternalStore } from "react";
import type { Socket } from "socket.io-client";
import { io } from "socket.io-client";
import type { OverviewPage, OverviewQuery } from "@/server/overview-protocol";
import type { AccountMessage, ClientToServer, ConnectRefusal, DecisionRecord, OverviewMessage, ServerToClient, StreamProblem } from "@/server/realtime-protocol";
import type { AccountPage, FirmPage } from "./api";
import { queryKeys } from "./api";
import { accountKeys } from "./account/api";

export type StreamStatus = {
  /** `connecting` until the first connection; then `connected` or `disconnected`. */
  phase: "connecting" | "connected" | "disconnected";
  staleSince: Date | null;
  /** The newest ledger seq any subscription brought. */
  seq: number;
};

/** How long the console waits before it asks again after the server could not check its credentials. */
const RETRY_UNAVAILABLE_MS = 2_000;

/** An account's decisions the console keeps (newest first). */
const MAX_ACCOUNT_DECISIONS = 500;
/** The overview's decision feed (as the server sends it). */
const OVERVIEW_DECISIONS = 20;

type AccountFollower = { users: number; lastSeq: number | null; queryClient: QueryClient };
type OverviewFollower = { query: OverviewQuery; ref: number; page: OverviewPage | null; listeners: Set<() => void> };

/**
 * One Socket.IO connection per console, shared by every hook: it holds the subscriptions the
 * mounted screens ask for (the overview's window, the accounts on view), sends them again on
 * every reconnection (an account with its last seq, so the server sends exactly what was
 * missed), and applies what comes back: the overview's page and deltas to the hook's state,
 * an account's messages to the TanStack Query cache.
 */
class LiveStream {
  readonly socket: Socket<ServerToClient, ClientToServer>;
  status: StreamStatus = { phase: "connecting", staleSince: null, seq: 0 };
  private readonly statusListeners = new Set<() => void>();
  private readonly endListeners = new Set<(problem: StreamProblem) => void>();
  private readonly accounts = new Map<string, AccountFollower>();
  private overview: OverviewFollower | null = null;
  private nextRef = 1;
  private closed = false;

  constructor() {
    this.socket = io({ transports: ["websocket", "polling"] });
    this.socket.on("connect", () => {
      this.setStatus({ phase: "connected", staleSince: null });
      if (this.overview) this.sendOverview(this.overview);
      for (const [accountId, follower] of this.accounts) this.sendAccount(accountId, follower);
    });
    this.socket.on("disconnect", () => this.setStatus({ phase: "disconnected", staleSince: this.status.staleSince ?? new Date() }));
    this.socket.on("overview", (message) => this.onOverview(message));
    this.socket.on("account", (message) => this.onAccount(message));
    this.socket.on("problem", (problem) => {
      console.warn(`stream: ${problem.code}: ${problem.detail}`);
      if (problem.code === "credentials_revoked" || problem.code === "session_expired") this.credentialsEnded(problem);
    });
    // A refusal by the server (not a transport error, which socket.io-client retries on its own):
    // Socket.IO does not retry it. Those that pass with time are retried when the server says.
    this.socket.on("connect_error", (error: Error & { data?: ConnectRefusal }) => {
      const refusal = error.data;
      if (!refusal) return;
      console.warn(`stream refused: ${refusal.code}: ${refusal.detail}`);
      if (refusal.code === "too_many_requests" || refusal.code === "unavailable") {
        const waitMs = refusal.code === "too_many_requests" ? refusal.retryAfterSeconds * 1000 : RETRY_UNAVAILABLE_MS;
        setTimeout(() => {
          if (!this.closed && !this.socket.connected) this.socket.connect();
        }, waitMs);
      }
    });
  }

  /** Called when the server ends the stream because the login behind it ended (logged out elsewhere, disabled, expired…). */
  onCredentialsEnded(listener: (problem: StreamProblem) => void): () => void {
    this.endListeners.add(listener);
    return () => this.endListeners.delete(listener);
  }

  private credentialsEnded(problem: StreamProblem): void {
    // This connection is over for good: the next console (after a new login) opens another.
    if (shared?.stream === this) shared = null;
    this.closed = true;
    this.socket.close();
    for (const listener of [...this.endListeners]) listener(problem);
  }

  close(): void {
    this.closed = true;
    this.socket.close();
  }

  onStatus(listener: () => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  // ---- Overview ----

  /** Follows `query`'s window (one at a time: a new query replaces the last). */
  followOverview(query: OverviewQuery, onPage: () => void): () => void {
    const follower: OverviewFollower = this.overview ?? { query, ref: 0, page: null, listeners: new Set() };
    follower.query = query;
    follower.listeners.add(onPage);
    this.overview = follower;
    this.sendOverview(follower);
    return () => {
      follower.listeners.delete(onPage);
      if (follower.listeners.size > 0 || this.overview !== follower) return;
      this.overview = null;
      if (this.socket.connected) this.socket.emit("unsubscribe", { topic: "overview" });
    };
  }

  overviewPage(): OverviewPage | null {
    return this.overview?.page ?? null;
  }

  private sendOverview(follower: OverviewFollower): void {
    follower.ref = this.nextRef++;
    if (this.socket.connected) this.socket.emit("subscribe", { topic: "overview", query: follower.query, ref: follower.ref });
  }

  private onOverview(message: OverviewMessage): void {
    const follower = this.overview;
    if (!follower || message.ref !== follower.ref) return;
    if (message.kind === "page") follower.page = message.page;
    else if (follower.page) follower.page = applyDelta(follower.page, message);
    else return;
    this.bumpSeq(follower.page.seq);
    for (const listener of follower.listeners) listener();
  }

  // ---- Accounts ----

  followAccount(accountId: string, queryClient: QueryClient): () => void {
    let follower = this.accounts.get(accountId);
    if (!follower) {
      follower = { users: 0, lastSeq: null, queryClient };
      this.accounts.set(accountId, follower);
      this.sendAccount(accountId, follower);
    }
    follower.users++;
    const mine = follower;
    return () => {
      if (--mine.users > 0 || this.accounts.get(accountId) !== mine) return;
      this.accounts.delete(accountId);
      if (this.socket.connected) this.socket.emit("unsubscribe", { topic: "account", accountId });
    };
  }

  private sendAccount(accountId: string, follower: AccountFollower): void {
    if (!this.socket.connected) return;
    this.socket.emit("subscribe", { topic: "account", accountId, ...(follower.lastSeq !== null ? { lastSeq: follower.lastSeq } : {}) });
  }

  private onAccount(message: AccountMessage): void {
    const follower = this.accounts.get(message.accountId);
    if (!follower) return;
    const last = follower.lastSeq;
    if (!message.reset && last !== null) {
      if (message.toSeq <= last) return;
      // A missing stretch: ask again from the last seq held; the server sends what was missed.
      if (message.fromSeq > last + 1) {
        this.sendAccount(message.accountId, follower);
        return;
      }
    }
    const seen = message.reset || last === null ? 0 : last;
    follower.lastSeq = message.toSeq;
    const { queryClient } = follower;
    queryClient.setQueryData<AccountPage>(queryKeys.account(message.accountId), (page) => {
      const rules = message.account.rules ?? page?.account.rules;
      if (!rules) return page;
      return { seq: message.toSeq, account: { ...message.account, rules } };
    });
    queryClient.setQueryData<FirmPage>(queryKeys.firm, (page) => (page && page.seq > message.toSeq ? page : { seq: message.toSeq, firm: message.firm }));
    const decisions = message.decisions.filter((record) => record.seq > seen);
    if (message.reset) {
      // The history is not continued: read it again.
      void queryClient.invalidateQueries({ queryKey: accountKeys.decisions(message.accountId) });
    } else if (decisions.length > 0) {
      queryClient.setQueryData<{ seq: number; decisions: DecisionRecord[] }>(accountKeys.decisions(message.accountId), (page) => {
        if (!page) return page;
        const known = new Set(page.decisions.map((record) => record.seq));
        const newest = decisions.filter((record) => !known.has(record.seq)).reverse();
        return { seq: message.toSeq, decisions: [...newest, ...page.decisions].slice(0, MAX_ACCOUNT_DECISIONS) };
      });
    }
    this.bumpSeq(message.toSeq);
  }

  // ---- Status ----

  private bumpSeq(seq: number): void {
    if (seq > this.status.seq) this.setStatus({ seq });
  }

  private setStatus(patch: Partial<StreamStatus>): void {
    this.status = { ...this.status, ...patch };
    for (const listener of this.statusListeners) listener();
  }
}

/** A delta on top of the page the client holds: changed rows patched, the window reordered when it says so. */
function applyDelta(page: OverviewPage, delta: Extract<OverviewMessage, { kind: "delta" }>): OverviewPage {
  let rows = page.rows;
  if (delta.rows.length > 0 || delta.ids) {
    const byId = new Map(rows.map((row) => [row.accountId as string, row]));
    for (const patch of delta.rows) byId.set(patch.accountId, { ...byId.get(patch.accountId)!, ...patch });
    const ids = delta.ids ?? rows.map((row) => row.accountId);
    rows = ids.flatMap((id) => byId.get(id) ?? []);
  }
  return {
    ...page,
    seq: delta.seq,
    firm: delta.firm ?? page.firm,
    counts: delta.counts ?? page.counts,
    matching: delta.matching ?? page.matching,
    rows,
    breachedToday: delta.breachedToday ?? page.breachedToday,
    exposure: delta.exposure ?? page.exposure,
    decisions: delta.decisions ? [...delta.decisions, ...page.decisions].slice(0, OVERVIEW_DECISIONS) : page.decisions,
  };
}

let shared: { stream: LiveStream; users: number } | null = null;

function acquire(): LiveStream {
  if (!shared) shared = { stream: new LiveStream(), users: 0 };
  shared.users++;
  return shared.stream;
}

function release(stream: LiveStream): void {
  if (!shared || shared.stream !== stream) return;
  if (--shared.users > 0) return;
  // Strict Mode and route changes unmount and mount again at once: close only if nobody came back.
  const leaving = shared;
  setTimeout(() => {
    if (shared === leaving && leaving.users === 0) {
      leaving.stream.close();
      shared = null;
    }
  }, 1_000);
}

const idle: StreamStatus = { phase: "connecting", staleSince: null, seq: 0 };

function subscribeStatus(listener: () => void): () => void {
  const stream = acquire();
  const stop = stream.onStatus(listener);
  return () => {
    stop();
    release(stream);
  };
}

/**
 * Calls `listener` when the server ends the stream because its login ended (a logout elsewhere,
 * a disabled user, a new password, an expired session): the console then asks who is there again.
 */
export function onCredentialsEnded(listener: (problem: StreamProblem) => void): () => void {
  const stream = acquire();
  const stop = stream.onCredentialsEnded(listener);
  return () => {
    stop();
    release(stream);
  };
}

/** The connection's state; the connection stays open while a component uses it (the console shell does, always). */
export function useLiveStream(): StreamStatus {
  return useSyncExternalStore(
    subscribeStatus,
    () => shared?.stream.status ?? idle,
    () => idle,
  );
}

/** The live overview page of a window: the server's first page, then its deltas (null until the first page). */
export function useOverview(query: OverviewQuery): { page: OverviewPage | null; status: StreamStatus } {
  const status = useLiveStream();
  const key = JSON.stringify(query);
  // The same query (by value) is the same subscription, whatever object the caller passes.
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const stable = useMemo(() => query, [key]);
  const [page, setPage] = useState<OverviewPage | null>(null);
  useEffect(() => {
    const stream = acquire();
    const stop = stream.followOverview(stable, () => setPage(stream.overviewPage()));
    return () => {
      stop();
      release(stream);
    };
  }, [stable]);
  return { page, status };
}

/**
 * Keeps one account current in the TanStack Query cache (`queryKeys.account(accountId)`, its
 * decisions under `accountKeys.decisions`, the firm's halt) while the calling component is
 * mounted; the page reads them with `useQuery` as usual. The caller is not drawn again when the
 * stream's status moves (`useLiveStream` is for that).
 */
export function useAccountStream(accountId: string): void {
  const queryClient = useQueryClient();
  useEffect(() => {
    const stream = acquire();
    const stop = stream.followAccount(accountId, queryClient);
    return () => {
      stop();
      release(stream);
    };
  }, [accountId, queryClient]);
}
