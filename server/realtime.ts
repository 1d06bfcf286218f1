import type { Server as HttpServer } from "node:http";
import { createAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";
import type { Socket } from "socket.io";
import { Server } from "socket.io";
import type { Auth, CredentialEnd, CredentialKey } from "./auth/auth";
import type { Principal } from "./auth/roles";
import { canSee, hasPermission } from "./auth/roles";
import { streamOf } from "./engine/events";
import type { AccountId } from "./engine/ids";
import { accountView } from "./engine/views";
import type { LedgerRecord } from "./ledger";
import type { Commit, OverviewChange, OverviewModel } from "./overview";
import { overviewOf } from "./overview";
import type { OverviewCounts, OverviewQuery, OverviewRow } from "./overview-protocol";
import { STREAM_LIMITS } from "./realtime-protocol";
import type { AccountMessage, ConnectRefusal, WireAccountView, ClientToServer, OverviewMessage, OverviewRowPatch, ServerToClient, StreamProblem } from "./realtime-protocol";
import { SubscribeMessage, UnsubscribeMessage } from "./realtime-protocol";
import type { DecisionRecord, FirmView, Runtime } from "./runtime";
import { log } from "./log";

/** Figure changes (prices revaluing accounts) reach a subscription at most this often (2 Hz). */
/** Decisions an overview delta carries at most (the newest). */
const DELTA_DECISIONS = 10;
const FIGURES_INTERVAL_MS = 500;
/**
 * Urgent changes (states, trips, lock-outs, locks, denials) arriving within this window go out
 * as one message.
 */
const URGENT_WINDOW_MS = 15;
const { CATCH_UP_COMMITS, CATCH_UP_EVENTS, MAX_ACCOUNT_SUBSCRIPTIONS, BURST, PER_SECOND, DROPS_BEFORE_DISCONNECT, FLOOD_COOLDOWN_MS } = STREAM_LIMITS;
export { MAX_ACCOUNT_SUBSCRIPTIONS };
/** How often the open streams' credentials are checked: expiry here, revocations in the database (another process may have made them). */
const CREDENTIAL_CHECK_MS = 1_000;
/** Cooling credentials remembered at most (the oldest go first). */
const MAX_FLOODED = 10_000;

type Bucket = { tokens: number; at: number; drops: number; warnedAt: number };
/** What a socket authenticated with: its credential's key and, for a session, when it expires (ms). */
type Credential = { key: CredentialKey; expiresAt: number | null };
type Data = { principal: Principal; credential: Credential; bucket: Bucket; overview: OverviewSub | null; accounts: Map<AccountId, "pending" | "live"> };
type RealtimeSocket = Socket<ClientToServer, ServerToClient, Record<string, never>, Data>;

/** What the stream keeps of a commit for catch-up: no market data, no account views. */
type Kept = { toSeq: number; events: LedgerRecord[]; decisions: DecisionRecord[] };

const isMarket = (record: LedgerRecord) => record.event.type.startsWith("market.");
const roomOf = (accountId: AccountId) => `account:${accountId}`;

/** One socket's window of the overview, and what it was last sent. */
type OverviewSub = {
  socket: RealtimeSocket;
  query: OverviewQuery;
  ref: number;
  /** The first page is on its way (a flood of subscriptions makes one page, of the last query). */
  loading: boolean;
  ready: boolean;
  ids: AccountId[];
  matching: number;
  inWindow: Set<AccountId>;
  sent: Map<AccountId, OverviewRow>;
  counts: OverviewCounts | string | null;
  exposure: unknown;
  breached: string;
  firm: FirmView | null;
  lastDecisionSeq: number;
  urgent: Set<AccountId>;
  timer: NodeJS.Timeout | null;
  urgentTimer: NodeJS.Timeout | null;
  lastSentAt: number;
  release: () => void;
};

/** The subscribers of one account on this process, and what is pending for them. */
type Room = {
  accountId: AccountId;
  members: Set<string>;
  /** The first seq the next message covers. */
  fromSeq: number;
  events: LedgerRecord[];
  decisions: DecisionRecord[];
  dirty: boolean;
  timer: NodeJS.Timeout | null;
  urgentTimer: NodeJS.Timeout | null;
  lastSentAt: number;
  /** The rules and configuration the members were last sent (rules go again only when these change). */
  rulesKey: [unknown, unknown] | null;
};

/** A refused connection: the client's `connect_error` has the message and, as `data`, the code. */
function refusal(refused: ConnectRefusal): Error & { data: ConnectRefusal } {
  return Object.assign(new Error(`${refused.code}: ${refused.detail}`), { data: refused });
}

/**
 * Socket.IO on the same port as Next, by subscription (see realtime-protocol.ts): a socket
 * receives the overview window it asked for and the accounts it subscribed to, nothing else.
 * Connections authenticate like HTTP calls (session cookie or bearer token) and see only the
 * accounts they may see. Messages are made after the ledger commit, by each process from its
 * own state (a read-only node from the ledger it follows), for its own sockets; with
 * `redisUrl` the Socket.IO Redis adapter still joins the processes' rooms.
 */
export async function attachRealtime(httpServer: HttpServer, runtime: Runtime, auth: Auth, options: { redisUrl: string | null; credentialCheckMs?: number }) {
  const io = new Server<ClientToServer, ServerToClient, Record<string, never>, Data>(httpServer, {
    serveClient: false,
    // Leave other upgrade requests (Next's dev HMR) alone.
    destroyUpgrade: false,
    // Client messages are small: a subscription is well under this.
    maxHttpBufferSize: 64 * 1024,
    // A browser page of another origin may not open a stream with this site's cookie.
    allowRequest: (request, callback) => callback(null, sameSite(request.headers.origin, request.headers.host)),
  });

  let redis: { close: () => Promise<void> } | null = null;
  if (options.redisUrl) {
    const publisher = createClient({ url: options.redisUrl });
    const subscriber = publisher.duplicate();
    publisher.on("error", (error: Error) => log.error({ error: error.message }, "Redis (stream fan-out) failed"));
    subscriber.on("error", (error: Error) => log.error({ error: error.message }, "Redis (stream fan-out) failed"));
    await Promise.all([publisher.connect(), subscriber.connect()]);
    io.adapter(createAdapter(publisher, subscriber));
    redis = { close: async () => void (await Promise.allSettled([publisher.quit(), subscriber.quit()])) };
  }

  /** Credentials whose stream was cut for flooding, and until when they may not open another. */
  const floodedUntil = new Map<CredentialKey, number>();

  io.use(async (socket, next) => {
    try {
      const token = (socket.handshake.auth as { token?: unknown }).token;
      const identity = await auth.identify({
        authorization: typeof token === "string" ? `Bearer ${token}` : (socket.handshake.headers.authorization ?? null),
        cookie: socket.handshake.headers.cookie ?? null,
      });
      if (!identity) return next(refusal({ code: "unauthenticated", detail: "log in or pass auth.token" }));
      // The stream shows accounts: a role that reads nothing (feed, metrics) may not open one.
      if (!hasPermission(identity.principal, "read")) return next(refusal({ code: "forbidden", detail: `the ${identity.principal.role} role may not read the stream` }));
      const cooling = floodedUntil.get(identity.key);
      if (cooling !== undefined) {
        const waitMs = cooling - Date.now();
        if (waitMs > 0) {
          const retryAfterSeconds = Math.ceil(waitMs / 1000);
          return next(refusal({ code: "too_many_requests", detail: `a stream of these credentials was cut for flooding: retry in ${retryAfterSeconds} s`, retryAfterSeconds }));
        }
        floodedUntil.delete(identity.key);
      }
      socket.data.principal = identity.principal;
      socket.data.credential = { key: identity.key, expiresAt: identity.expiresAt };
      next();
    } catch {
      next(refusal({ code: "unavailable", detail: "cannot check credentials now: retry" }));
    }
  });

  const model: OverviewModel = overviewOf(runtime);
  const kept: Kept[] = [];
  /** Catch-up from `kept` is complete for seqs from here on. */
  let keptFrom = model.seq + 1;
  const rooms = new Map<AccountId, Room>();
  const overviewSubs = new Set<OverviewSub>();

  io.on("connection", (socket: RealtimeSocket) => {
    holdCredential(socket);
    socket.data.bucket = { tokens: BURST, at: Date.now(), drops: 0, warnedAt: 0 };
    socket.data.overview = null;
    socket.data.accounts = new Map();
    // Every message costs a token; without one it is dropped unread, and a socket that keeps
    // flooding is disconnected: a flood costs its sender, never the decision path.
    socket.use((_packet, next) => {
      const bucket = socket.data.bucket;
      const now = Date.now();
      bucket.tokens = Math.min(BURST, bucket.tokens + ((now - bucket.at) / 1000) * PER_SECOND);
      bucket.at = now;
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return next();
      }
      if (++bucket.drops >= DROPS_BEFORE_DISCONNECT) {
        // Cut the connection itself: what the flooder already sent is never read. A reconnection
        // with the same credentials is refused for a while (too_many_requests), so a client that
        // reconnects at once does not flood again at once.
        if (floodedUntil.size >= MAX_FLOODED) floodedUntil.delete(floodedUntil.keys().next().value!);
        floodedUntil.set(socket.data.credential.key, now + FLOOD_COOLDOWN_MS);
        socket.disconnect(true);
        socket.request.socket.destroy();
        return;
      }
      if (now - bucket.warnedAt > 1000) {
        bucket.warnedAt = now;
        socket.emit("problem", { code: "rate_limited", detail: `at most ${PER_SECOND} messages a second (bursts of ${BURST}); messages beyond are dropped` });
      }
    });
    socket.on("subscribe", (raw: unknown) => {
      const parsed = SubscribeMessage.safeParse(raw);
      if (!parsed.success) return problem(socket, { code: "invalid_message", detail: issuesOf(parsed.error) });
      const message = parsed.data;
      if (message.topic === "overview") subscribeOverview(socket, message.query, message.ref ?? 0);
      else subscribeAccount(socket, message.accountId, message.lastSeq);
    });
    socket.on("unsubscribe", (raw: unknown) => {
      const parsed = UnsubscribeMessage.safeParse(raw);
      if (!parsed.success) return problem(socket, { code: "invalid_message", detail: issuesOf(parsed.error) });
      if (parsed.data.topic === "overview") dropOverview(socket);
      else leaveAccount(socket, parsed.data.accountId);
    });
    socket.on("disconnect", () => {
      releaseCredential(socket);
      dropOverview(socket);
      for (const accountId of [...socket.data.accounts.keys()]) leaveAccount(socket, accountId);
    });
  });

  // ---- Credentials: a stream lives as long as what it authenticated with ----

  /**
   * The open sockets by credential (a token, a session). A revocation in this process ends them
   * at once (Auth tells); every CREDENTIAL_CHECK_MS the expired sessions end, and the other
   * credentials are read from the database in one batch, which catches what another process
   * revoked (and the cache this process keeps for 5 s).
   */
  const byCredential = new Map<CredentialKey, { expiresAt: number | null; sockets: Set<RealtimeSocket> }>();
  let checking = false;
  let checkFailing = false;

  function holdCredential(socket: RealtimeSocket): void {
    const { key, expiresAt } = socket.data.credential;
    let held = byCredential.get(key);
    if (!held) byCredential.set(key, (held = { expiresAt, sockets: new Set() }));
    held.sockets.add(socket);
  }

  function releaseCredential(socket: RealtimeSocket): void {
    const { key } = socket.data.credential;
    const held = byCredential.get(key);
    if (!held) return;
    held.sockets.delete(socket);
    if (held.sockets.size === 0) byCredential.delete(key);
  }

  /** Tells every socket of `key` why, then disconnects it (the client does not reconnect on its own: "io server disconnect"). */
  function endCredential(key: CredentialKey, end: CredentialEnd, why?: string): void {
    const held = byCredential.get(key);
    if (!held) return;
    byCredential.delete(key);
    const detail =
      end === "session_expired"
        ? "the session expired: log in again"
        : `${why ?? "these credentials were revoked (a revoked token, a logout, a disabled user or a new password)"}: log in again`;
    for (const socket of held.sockets) {
      problem(socket, { code: end, detail });
      socket.disconnect();
    }
  }

  async function checkCredentials(): Promise<void> {
    if (checking || byCredential.size === 0) return;
    checking = true;
    try {
      const now = Date.now();
      const toRead: CredentialKey[] = [];
      for (const [key, held] of byCredential) {
        if (held.expiresAt !== null && held.expiresAt <= now) endCredential(key, "session_expired");
        else toRead.push(key);
      }
      if (toRead.length === 0) return;
      const ended = await auth.endedCredentials(toRead);
      for (const [key, end] of ended) endCredential(key, end);
      if (checkFailing) log.info("stream credentials: checked again");
      checkFailing = false;
    } catch (error) {
      // The database is out of reach: a revocation cannot be stored either; the next tick tries again.
      if (!checkFailing) log.error({ error: (error as Error).message }, "stream credentials: cannot check them now");
      checkFailing = true;
    } finally {
      checking = false;
    }
  }

  const stopRevocations = auth.onRevoked((revocation) => {
    for (const key of revocation.keys) endCredential(key, revocation.end, revocation.why);
  });
  const credentialTimer = setInterval(() => void checkCredentials(), options.credentialCheckMs ?? CREDENTIAL_CHECK_MS);
  credentialTimer.unref();

  // ---- Overview ----

  function subscribeOverview(socket: RealtimeSocket, query: OverviewQuery, ref: number): void {
    let sub = socket.data.overview;
    if (!sub) {
      sub = {
        socket, query, ref, loading: false, ready: false, ids: [], matching: 0, inWindow: new Set(), sent: new Map(), counts: null, exposure: null, breached: "",
        firm: null, lastDecisionSeq: 0, urgent: new Set(), timer: null, urgentTimer: null, lastSentAt: 0, release: model.retain(),
      };
      socket.data.overview = sub;
      overviewSubs.add(sub);
    }
    sub.query = query;
    sub.ref = ref;
    sub.ready = false;
    if (sub.loading) return;
    sub.loading = true;
    const current = sub;
    void model
      .settle(true)
      .then(() => {
        current.loading = false;
        if (socket.data.overview !== current) return;
        sendPage(current);
      })
      .catch((error: unknown) => {
        current.loading = false;
        log.error({ error: (error as Error).message }, "overview page failed");
      });
  }

  function sendPage(sub: OverviewSub): void {
    const { principal } = sub.socket.data;
    const page = model.pageNow(sub.query, principal);
    clearTimers(sub);
    sub.ready = true;
    sub.ids = page.rows.map((row) => row.accountId);
    sub.matching = page.matching;
    sub.inWindow = new Set(sub.ids);
    sub.sent = new Map(page.rows.map((row) => [row.accountId, row]));
    sub.counts = principal.accounts === null ? page.counts : JSON.stringify(page.counts);
    sub.exposure = principal.accounts === null ? page.exposure : JSON.stringify(page.exposure);
    sub.breached = signature(page.breachedToday);
    sub.firm = page.firm;
    sub.lastDecisionSeq = page.decisions[0]?.seq ?? sub.lastDecisionSeq;
    sub.urgent.clear();
    sub.lastSentAt = Date.now();
    sub.socket.emit("overview", { kind: "page", ref: sub.ref, page });
  }

  function dropOverview(socket: RealtimeSocket): void {
    const sub = socket.data.overview;
    if (!sub) return;
    clearTimers(sub);
    sub.release();
    overviewSubs.delete(sub);
    socket.data.overview = null;
  }

  function onOverviewCommit(commit: Commit, change: OverviewChange): void {
    for (const sub of overviewSubs) {
      if (!sub.ready) continue;
      const scope = sub.socket.data.principal.accounts;
      if (scope !== null && !change.firmChanged && !scope.some((accountId) => commit.touched.has(accountId as AccountId))) continue;
      let urgent = change.firmChanged;
      // A firm halt or resume changes every row: the window's go out with it.
      if (change.firmChanged) for (const accountId of sub.inWindow) sub.urgent.add(accountId);
      for (const accountId of change.urgent) {
        if (sub.inWindow.has(accountId)) {
          sub.urgent.add(accountId);
          urgent = true;
        }
      }
      if (urgent && !sub.urgentTimer) {
        sub.urgentTimer = setTimeout(() => flushOverview(sub, true), URGENT_WINDOW_MS);
        sub.urgentTimer.unref();
      }
      scheduleFigures(sub);
    }
  }

  /**
   * Rows the model's sliced refresh rebuilt (a tick's holders, an expired lock): no commit is
   * left to announce them, so the windows that may show them are flushed, at the figures' pace.
   */
  function onOverviewRefresh(changed: ReadonlySet<AccountId>): void {
    for (const sub of overviewSubs) {
      if (!sub.ready) continue;
      const scope = sub.socket.data.principal.accounts;
      if (scope !== null && !scope.some((accountId) => changed.has(accountId as AccountId))) continue;
      scheduleFigures(sub);
    }
  }

  /** The next regular flush of a window: at once if the last one is older than the figures' period. */
  function scheduleFigures(sub: OverviewSub): void {
    if (sub.timer) return;
    sub.timer = setTimeout(() => flushOverview(sub, false), Math.max(0, sub.lastSentAt + FIGURES_INTERVAL_MS - Date.now()));
    sub.timer.unref();
  }

  /**
   * Sends what changed in a window as of the last commit: everything (figures, at most 2 Hz), or
   * only its urgent rows. The rows it reads are rebuilt first if the commits since marked them
   * (the model's background refresh is sliced and may not have reached them yet); a regular
   * flush covers the urgent rows too.
   */
  function flushOverview(sub: OverviewSub, urgentOnly: boolean): void {
    if (urgentOnly) sub.urgentTimer = null;
    else clearTimers(sub);
    if (!sub.ready || sub.socket.data.overview !== sub) return;
    const { principal } = sub.socket.data;
    const scoped = principal.accounts !== null;
    model.refreshNow(urgentOnly ? sub.urgent : scoped ? (principal.accounts as AccountId[]) : sub.inWindow);
    const message: Extract<OverviewMessage, { kind: "delta" }> = { kind: "delta", ref: sub.ref, seq: model.seq, rows: [] };
    if (urgentOnly) {
      for (const accountId of sub.urgent) {
        const row = model.row(accountId);
        if (!row || !sub.inWindow.has(accountId)) continue;
        const patch = patchOf(sub.sent.get(accountId), row);
        if (patch) message.rows.push(patch);
        sub.sent.set(accountId, row);
      }
      sub.urgent.clear();
    } else {
      const { matching, rows } = model.window(sub.query, principal);
      const ids = rows.map((row) => row.accountId);
      if (ids.length !== sub.ids.length || ids.some((id, i) => id !== sub.ids[i])) message.ids = ids;
      if (matching !== sub.matching) {
        message.matching = matching;
        sub.matching = matching;
      }
      const sent = new Map<AccountId, OverviewRow>();
      for (const row of rows) {
        const patch = patchOf(sub.sent.get(row.accountId), row);
        if (patch) message.rows.push(patch);
        sent.set(row.accountId, row);
      }
      sub.sent = sent;
      sub.ids = ids;
      sub.inWindow = new Set(ids);
      sub.urgent.clear();
      const exposure = model.exposure(principal);
      const exposureKey = scoped ? JSON.stringify(exposure) : exposure;
      if (exposureKey !== sub.exposure) {
        message.exposure = exposure;
        sub.exposure = exposureKey;
      }
      const breached = model.breachedToday(principal);
      const breachedKey = signature(breached);
      if (breachedKey !== sub.breached) {
        message.breachedToday = breached;
        sub.breached = breachedKey;
      }
    }
    const counts = model.counts(principal);
    const countsKey = scoped ? JSON.stringify(counts) : counts;
    if (countsKey !== sub.counts) {
      message.counts = counts;
      sub.counts = countsKey;
    }
    if (!sameFirm(model.firm, sub.firm)) {
      message.firm = model.firm;
      sub.firm = model.firm;
    }
    // The feed shows the newest: at most DELTA_DECISIONS a delta (twice a second), however many were taken.
    const decisions = model.decisions(principal).filter((record) => record.seq > sub.lastDecisionSeq).slice(0, DELTA_DECISIONS);
    if (decisions.length > 0) {
      message.decisions = decisions;
      sub.lastDecisionSeq = decisions[0]!.seq;
    }
    const empty = message.rows.length === 0 && !message.ids && message.matching === undefined && !message.counts && !message.firm && !message.exposure && !message.breachedToday && !message.decisions;
    if (!urgentOnly) sub.lastSentAt = Date.now();
    if (empty) return;
    sub.socket.emit("overview", message);
  }

  // ---- Accounts ----

  function subscribeAccount(socket: RealtimeSocket, accountId: AccountId, lastSeq: number | undefined): void {
    const { principal, accounts } = socket.data;
    if (!canSee(principal, accountId)) return problem(socket, { code: "forbidden", detail: `this login may not see account ${accountId}`, accountId });
    if (!model.state.accounts.has(accountId)) return problem(socket, { code: "not_found", detail: `no account ${accountId}`, accountId });
    if (accounts.get(accountId) === "pending") return;
    if (!accounts.has(accountId) && accounts.size >= MAX_ACCOUNT_SUBSCRIPTIONS) {
      return problem(socket, { code: "too_many_subscriptions", detail: `at most ${MAX_ACCOUNT_SUBSCRIPTIONS} accounts per connection: unsubscribe one first`, accountId });
    }
    accounts.set(accountId, "pending");
    const room = roomFor(accountId);
    room.members.add(socket.id);
    void catchUp(accountId, lastSeq)
      .then((message) => {
        if (socket.disconnected || accounts.get(accountId) !== "pending") return;
        accounts.set(accountId, "live");
        // From here the room's messages reach the socket: they start at or before what this one ends with.
        void socket.join(roomOf(accountId));
        socket.emit("account", message);
      })
      .catch((error: unknown) => {
        log.error({ accountId, error: (error as Error).message }, "account catch-up failed");
        leaveAccount(socket, accountId);
      });
  }

  function leaveAccount(socket: RealtimeSocket, accountId: AccountId): void {
    if (!socket.data.accounts.delete(accountId)) return;
    void socket.leave(roomOf(accountId));
    const room = rooms.get(accountId);
    if (!room) return;
    room.members.delete(socket.id);
    if (room.members.size === 0) {
      if (room.timer) clearTimeout(room.timer);
      if (room.urgentTimer) clearTimeout(room.urgentTimer);
      rooms.delete(accountId);
    }
  }

  function roomFor(accountId: AccountId): Room {
    let room = rooms.get(accountId);
    if (!room) {
      room = { accountId, members: new Set(), fromSeq: model.seq + 1, events: [], decisions: [], dirty: false, timer: null, urgentTimer: null, lastSentAt: 0, rulesKey: null };
      rooms.set(accountId, room);
    }
    return room;
  }

  /** The first message of an account subscription: what was missed since `lastSeq` (kept commits, else the ledger), or a fresh view. */
  async function catchUp(accountId: AccountId, lastSeq: number | undefined): Promise<AccountMessage> {
    const fresh = (): AccountMessage => ({ ...viewMessage(accountId, true), fromSeq: model.seq + 1 });
    if (lastSeq === undefined || lastSeq > model.seq) return fresh();
    if (lastSeq + 1 >= keptFrom) return { ...viewMessage(accountId, true), fromSeq: lastSeq + 1, ...keptSince(accountId, lastSeq) };
    // Further back than the stream keeps: the ledger, unless the account did too much since.
    const before = model.seq;
    const records = await runtime.readLedger(lastSeq, CATCH_UP_EVENTS + 1, accountId);
    if (records.length > CATCH_UP_EVENTS || keptFrom > before + 1) return fresh();
    const now = model.seq;
    const fromLedger = records.filter((record) => record.seq <= now && !isMarket(record));
    const lastRead = fromLedger.at(-1)?.seq ?? lastSeq;
    const later = keptSince(accountId, Math.max(lastRead, lastSeq));
    const intents = new Map(fromLedger.flatMap((record) => (record.event.type === "intent.received" ? [[record.event.intent.intentId, record.event.intent] as const] : [])));
    const recent = new Map(runtime.recentDecisions(500, accountId).map((record) => [record.seq, record]));
    const decisions: DecisionRecord[] = [];
    for (const record of fromLedger) {
      if (record.event.type !== "intent.decided") continue;
      const known = recent.get(record.seq);
      const intent = known?.intent ?? intents.get(record.event.decision.intentId);
      if (intent) decisions.push({ seq: record.seq, at: record.event.at, intent, decision: record.event.decision });
    }
    return {
      ...viewMessage(accountId, true),
      fromSeq: lastSeq + 1,
      reset: false,
      events: [...fromLedger, ...later.events],
      decisions: [...decisions, ...later.decisions],
    };
  }

  function keptSince(accountId: AccountId, afterSeq: number): { reset: false; events: LedgerRecord[]; decisions: DecisionRecord[] } {
    const events: LedgerRecord[] = [];
    const decisions: DecisionRecord[] = [];
    // Kept commits are in seq order: find the first one past `afterSeq`, then read on.
    let low = 0;
    let high = kept.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (kept[middle]!.toSeq <= afterSeq) low = middle + 1;
      else high = middle;
    }
    for (let i = low; i < kept.length; i++) {
      for (const record of kept[i]!.events) if (record.seq > afterSeq && streamOf(record.event) === accountId) events.push(record);
      for (const record of kept[i]!.decisions) if (record.seq > afterSeq && record.decision.accountId === accountId) decisions.push(record);
    }
    return { reset: false, events, decisions };
  }

  /** The account as it is now, to `model.seq` (its whole view; the caller sets what it covers). */
  function viewMessage(accountId: AccountId, withRules: boolean): AccountMessage {
    const state = model.state;
    const account = state.accounts.get(accountId)!;
    const view = accountView(account, state);
    const wire: WireAccountView = withRules ? view : { ...view, rules: undefined };
    if (!withRules) delete wire.rules;
    return { accountId, fromSeq: model.seq + 1, toSeq: model.seq, reset: true, firm: model.firm, account: wire, events: [], decisions: [] };
  }

  function onAccountCommit(commit: Commit, change: OverviewChange): void {
    if (rooms.size === 0) return;
    // The smaller of the two: the rooms, or what the commit touched.
    const touchedRooms: Room[] = [];
    if (rooms.size <= commit.touched.size) {
      for (const room of rooms.values()) if (commit.touched.has(room.accountId)) touchedRooms.push(room);
    } else {
      for (const accountId of commit.touched) {
        const room = rooms.get(accountId);
        if (room) touchedRooms.push(room);
      }
    }
    let urgentRooms: Set<Room> | null = null;
    for (const record of commit.records) {
      if (isMarket(record)) continue;
      const room = rooms.get(streamOf(record.event) as AccountId);
      if (!room) continue;
      room.events.push(record);
      (urgentRooms ??= new Set()).add(room);
    }
    for (const record of commit.decisions) {
      const room = rooms.get(record.decision.accountId);
      if (room) room.decisions.push(record);
    }
    for (const room of touchedRooms) {
      room.dirty = true;
      const urgent = change.firmChanged || (urgentRooms?.has(room) ?? false);
      if (urgent && !room.urgentTimer) {
        room.urgentTimer = setTimeout(() => flushRoom(room), URGENT_WINDOW_MS);
        room.urgentTimer.unref();
      }
      if (!room.timer && !room.urgentTimer) {
        room.timer = setTimeout(() => flushRoom(room), Math.max(0, room.lastSentAt + FIGURES_INTERVAL_MS - Date.now()));
        room.timer.unref();
      }
    }
  }

  function flushRoom(room: Room): void {
    if (room.timer) clearTimeout(room.timer);
    if (room.urgentTimer) clearTimeout(room.urgentTimer);
    room.timer = null;
    room.urgentTimer = null;
    if (!room.dirty || rooms.get(room.accountId) !== room) return;
    const state = model.state;
    const account = state.accounts.get(room.accountId);
    if (!account) return;
    const rulesKey: [unknown, unknown] = [account.rules, state.config];
    const rulesChanged = !room.rulesKey || room.rulesKey[0] !== rulesKey[0] || room.rulesKey[1] !== rulesKey[1];
    const message: AccountMessage = {
      ...viewMessage(room.accountId, rulesChanged),
      fromSeq: room.fromSeq,
      reset: false,
      events: room.events,
      decisions: room.decisions,
    };
    room.rulesKey = rulesKey;
    room.fromSeq = model.seq + 1;
    room.events = [];
    room.decisions = [];
    room.dirty = false;
    room.lastSentAt = Date.now();
    io.local.to(roomOf(room.accountId)).emit("account", message);
  }

  const unsubscribeRefresh = model.onRefresh(onOverviewRefresh);
  const unsubscribe = model.subscribe((commit, change) => {
    const events = commit.records.filter((record) => !isMarket(record));
    if (events.length > 0 || commit.decisions.length > 0) {
      kept.push({ toSeq: commit.toSeq, events, decisions: commit.decisions });
      if (kept.length > CATCH_UP_COMMITS) keptFrom = kept.splice(0, kept.length - CATCH_UP_COMMITS).at(-1)!.toSeq + 1;
    }
    onAccountCommit(commit, change);
    if (overviewSubs.size > 0) onOverviewCommit(commit, change);
  });

  return {
    connectedClients: () => io.engine.clientsCount,
    health: () => ({
      clients: io.engine.clientsCount,
      fanOut: options.redisUrl ? "redis" : "local",
      overviewSubscriptions: overviewSubs.size,
      accountRooms: rooms.size,
    }),
    async close() {
      unsubscribe();
      unsubscribeRefresh();
      stopRevocations();
      clearInterval(credentialTimer);
      for (const sub of overviewSubs) {
        clearTimers(sub);
        sub.release();
      }
      for (const room of rooms.values()) {
        if (room.timer) clearTimeout(room.timer);
        if (room.urgentTimer) clearTimeout(room.urgentTimer);
      }
      await io.close();
      await redis?.close();
    },
  };
}

function problem(socket: RealtimeSocket, detail: StreamProblem): void {
  socket.emit("problem", detail);
}

function issuesOf(error: { issues: { path: PropertyKey[]; message: string }[] }): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.map(String).join(".") || "message"}: ${issue.message}`)
    .join("; ");
}

function clearTimers(sub: OverviewSub): void {
  if (sub.timer) clearTimeout(sub.timer);
  if (sub.urgentTimer) clearTimeout(sub.urgentTimer);
  sub.timer = null;
  sub.urgentTimer = null;
}

/** The firm's halt as a client sees it (a commit makes a new view each time). */
function sameFirm(a: FirmView, b: FirmView | null): boolean {
  return b !== null && a.halted === b.halted && a.halt === b.halt;
}

/** What of `row` differs from `previous` (all of it when the client has no copy); null when nothing. */
function patchOf(previous: OverviewRow | undefined, row: OverviewRow): OverviewRowPatch | null {
  if (!previous) return row;
  if (previous === row) return null;
  const patch: Record<string, unknown> = { accountId: row.accountId };
  let changed = false;
  for (const key of Object.keys(row) as (keyof OverviewRow)[]) {
    const before = previous[key];
    const after = row[key];
    const same = Array.isArray(after) ? Array.isArray(before) && before.length === after.length && after.every((item, i) => item === before[i]) : before === after;
    if (!same && key !== "seq") {
      patch[key] = after;
      changed = true;
    }
  }
  if (!changed) return null;
  patch.seq = row.seq;
  return patch as OverviewRowPatch;
}

/** The breached list as it matters to a client: who, in which order, in which state. */
function signature(rows: OverviewRow[]): string {
  return rows.map((row) => `${row.accountId}:${row.tradingState}:${row.breakers.join(",")}:${row.lockedSymbols.join(",")}`).join("|");
}

/**
 * Whether a stream request may go on: no Origin (a program), or an Origin naming this host. A
 * malformed Origin (`null`, `foo`, `http://[`) is another site's, refused at once: never thrown.
 */
function sameSite(origin: string | undefined, host: string | undefined): boolean {
  if (!origin) return true;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}
