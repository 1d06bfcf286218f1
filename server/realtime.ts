import type { Server as HttpServer } from "node:http";
import { createAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";
import type { Socket } from "socket.io";
import { Server } from "socket.io";
import type { Auth } from "./auth/auth";
import type { Principal } from "./auth/roles";
import { canSee } from "./auth/roles";
import { streamOf } from "./engine/events";
import type { LedgerRecord } from "./ledger";
import type { ChangeMessage, ClientToServer, ServerToClient } from "./realtime-protocol";
import type { Committed, DecisionRecord, Runtime, Snapshot } from "./runtime";

/** Equity-only changes reach a client at most this often (10 Hz). */
const EQUITY_INTERVAL_MS = 100;
/**
 * Urgent changes (decisions, breakers, vetoes, states) arriving within this window go out as
 * one message: a broadcast to hundreds of sockets costs milliseconds, so one per commit would
 * stall the event loop under load.
 */
const URGENT_WINDOW_MS = 10;
/** Commits kept for clients that reconnect with their last seq; older ones get a snapshot. */
const CATCH_UP_COMMITS = 20_000;
const EVERYONE = "everyone";

type Data = { principal: Principal; scoped: Audience | null };
type RealtimeSocket = Socket<ClientToServer, ServerToClient, Record<string, never>, Data>;

const isMarket = (record: LedgerRecord) => record.event.type.startsWith("market.");

/** What the stream keeps of a commit for catch-up: no market data, no account views. */
type Kept = { fromSeq: number; toSeq: number; events: LedgerRecord[]; decisions: DecisionRecord[] };

/**
 * Socket.IO on the same port as Next. Connections authenticate like HTTP calls (session cookie
 * or bearer token) and see only the accounts they may see. Every message carries ledger seqs
 * (see realtime-protocol.ts). Listeners run only after the ledger commit. With `redisUrl`,
 * broadcasts go through Redis to the clients of every server process.
 */
export async function attachRealtime(httpServer: HttpServer, runtime: Runtime, auth: Auth, options: { redisUrl: string | null }) {
  const io = new Server<ClientToServer, ServerToClient, Record<string, never>, Data>(httpServer, {
    serveClient: false,
    // Leave other upgrade requests (Next's dev HMR) alone.
    destroyUpgrade: false,
    // A browser page of another origin may not open a stream with this site's cookie.
    allowRequest: (request, callback) => {
      const origin = request.headers.origin;
      callback(null, !origin || new URL(origin).host === request.headers.host);
    },
  });

  let redis: { close: () => Promise<void> } | null = null;
  if (options.redisUrl) {
    const publisher = createClient({ url: options.redisUrl });
    const subscriber = publisher.duplicate();
    publisher.on("error", (error: Error) => console.error(`Redis (stream fan-out): ${error.message}`));
    subscriber.on("error", (error: Error) => console.error(`Redis (stream fan-out): ${error.message}`));
    await Promise.all([publisher.connect(), subscriber.connect()]);
    io.adapter(createAdapter(publisher, subscriber));
    redis = { close: async () => void (await Promise.allSettled([publisher.quit(), subscriber.quit()])) };
  }

  io.use(async (socket, next) => {
    try {
      const token = (socket.handshake.auth as { token?: unknown }).token;
      const principal = await auth.authenticate({
        authorization: typeof token === "string" ? `Bearer ${token}` : (socket.handshake.headers.authorization ?? null),
        cookie: socket.handshake.headers.cookie ?? null,
      });
      if (!principal) return next(new Error("unauthenticated: log in or pass auth.token"));
      socket.data.principal = principal;
      next();
    } catch {
      next(new Error("cannot check credentials now"));
    }
  });

  const kept: Kept[] = [];
  // Nothing is encoded for a room nobody is in (another process's clients get it through Redis).
  const everyone = new Audience((message) => {
    if (options.redisUrl || (io.sockets.adapter.rooms.get(EVERYONE)?.size ?? 0) > 0) io.to(EVERYONE).emit("change", message);
  });
  const scoped = new Set<Audience>();

  io.on("connection", (socket: RealtimeSocket) => {
    const { principal } = socket.data;
    const lastSeq = Number((socket.handshake.auth as { lastSeq?: unknown }).lastSeq);
    const catchUp = Number.isInteger(lastSeq) && lastSeq > 0 ? catchUpSince(lastSeq, principal) : null;
    if (catchUp) socket.emit("change", catchUp);
    else socket.emit("snapshot", visibleSnapshot(runtime.snapshot(), principal));

    if (principal.accounts === null) {
      void socket.join(EVERYONE);
    } else {
      const audience = new Audience((message) => socket.emit("change", message), principal);
      socket.data.scoped = audience;
      scoped.add(audience);
      socket.on("disconnect", () => {
        audience.close();
        scoped.delete(audience);
      });
    }
    // `resync` takes no arguments; anything sent with it is ignored, never trusted.
    socket.on("resync", () => socket.emit("snapshot", visibleSnapshot(runtime.snapshot(), principal)));
  });

  function catchUpSince(lastSeq: number, principal: Principal): ChangeMessage | null {
    const now = runtime.snapshot();
    if (lastSeq > now.seq) return null;
    const first = kept[0];
    if (lastSeq < now.seq && (!first || first.fromSeq > lastSeq + 1)) return null;
    const missed = kept.filter((commit) => commit.toSeq > lastSeq);
    return restrict(
      {
        fromSeq: lastSeq + 1,
        toSeq: now.seq,
        firm: now.firm,
        events: missed.flatMap((commit) => commit.events.filter((record) => record.seq > lastSeq)),
        accounts: now.accounts,
        decisions: missed.flatMap((commit) => commit.decisions.filter((record) => record.seq > lastSeq)),
      },
      principal,
    );
  }

  const unsubscribe = runtime.subscribe((committed: Committed) => {
    const events = committed.records.filter((record) => !isMarket(record));
    kept.push({ fromSeq: committed.fromSeq, toSeq: committed.toSeq, events, decisions: committed.decisions });
    if (kept.length > CATCH_UP_COMMITS) kept.splice(0, kept.length - CATCH_UP_COMMITS);
    // With nobody listening, no message is made (nor the account views it carries); a client
    // that connects later starts from a snapshot or catches up from what is kept.
    const everyoneListens = options.redisUrl !== null || (io.sockets.adapter.rooms.get(EVERYONE)?.size ?? 0) > 0;
    if (!everyoneListens && scoped.size === 0) return;
    const message: ChangeMessage = { ...committed, events };
    const urgent = events.length > 0;
    if (everyoneListens) everyone.push(message, urgent);
    for (const audience of scoped) audience.push(message, urgent);
  });

  return {
    connectedClients: () => io.engine.clientsCount,
    health: () => ({ clients: io.engine.clientsCount, fanOut: options.redisUrl ? "redis" : "local" }),
    async close() {
      unsubscribe();
      everyone.close();
      for (const audience of scoped) audience.close();
      await io.close();
      await redis?.close();
    },
  };
}

/**
 * One stream of changes to some clients: urgent changes go out within URGENT_WINDOW_MS
 * (merged with any pending equity-only change, keeping seq order); equity-only changes are merged and sent at most
 * every EQUITY_INTERVAL_MS. A scoped audience sees only its principal's accounts.
 */
class Audience {
  private pending: ChangeMessage | null = null;
  private timer: NodeJS.Timeout | null = null;
  private urgentTimer: NodeJS.Timeout | null = null;
  private lastSentAt = 0;

  constructor(
    private readonly send: (message: ChangeMessage) => void,
    private readonly principal: Principal | null = null,
  ) {}

  push(message: ChangeMessage, urgent: boolean): void {
    this.pending = this.pending ? merge(this.pending, message) : message;
    if (urgent) {
      if (this.urgentTimer) return;
      this.urgentTimer = setTimeout(() => this.flush(), URGENT_WINDOW_MS);
      this.urgentTimer.unref();
      return;
    }
    if (this.timer) return;
    const wait = Math.max(0, this.lastSentAt + EQUITY_INTERVAL_MS - Date.now());
    if (wait === 0) return this.flush();
    this.timer = setTimeout(() => this.flush(), wait);
    this.timer.unref();
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.urgentTimer) clearTimeout(this.urgentTimer);
    this.timer = null;
    this.urgentTimer = null;
    this.pending = null;
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.urgentTimer) clearTimeout(this.urgentTimer);
    this.timer = null;
    this.urgentTimer = null;
    const message = this.pending;
    this.pending = null;
    if (!message) return;
    this.lastSentAt = Date.now();
    this.send(this.principal ? restrict(message, this.principal) : message);
  }
}

/** Two consecutive changes as one: the later views win, events and decisions concatenate. */
function merge(earlier: ChangeMessage, later: ChangeMessage): ChangeMessage {
  const accounts = new Map(earlier.accounts.map((account) => [account.accountId, account]));
  for (const account of later.accounts) accounts.set(account.accountId, account);
  return {
    fromSeq: earlier.fromSeq,
    toSeq: later.toSeq,
    firm: later.firm,
    events: [...earlier.events, ...later.events],
    accounts: [...accounts.values()],
    decisions: [...earlier.decisions, ...later.decisions],
  };
}

function restrict(message: ChangeMessage, principal: Principal): ChangeMessage {
  if (principal.accounts === null) return message;
  return {
    ...message,
    events: message.events.filter((record) => {
      const stream = streamOf(record.event);
      return stream === "firm" || canSee(principal, stream);
    }),
    accounts: message.accounts.filter((account) => canSee(principal, account.accountId)),
    decisions: message.decisions.filter((record) => canSee(principal, record.decision.accountId)),
  };
}

function visibleSnapshot(snapshot: Snapshot, principal: Principal): Snapshot {
  if (principal.accounts === null) return snapshot;
  return {
    ...snapshot,
    accounts: snapshot.accounts.filter((account) => canSee(principal, account.accountId)),
    decisions: snapshot.decisions.filter((record) => canSee(principal, record.decision.accountId)),
  };
}
