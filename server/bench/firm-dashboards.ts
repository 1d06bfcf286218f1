// The dashboards of `npm run bench:firm`: real socket.io-client connections, as programs connect
// (websocket, bearer token), each subscribed as server/realtime-protocol.ts describes: to the firm
// overview (`subscribe {topic: "overview", query: {offset: 0, limit: 100}}`, then `overview`
// pages and deltas) or to one account (`subscribe {topic: "account", accountId}`, then `account`
// messages). Each counts the bytes it receives (every Engine.IO packet's payload as it came off
// the websocket: Socket.IO sends text frames, uncompressed) and notes when it first sees a breach
// account leave ACTIVE: an overview row (or row patch, or breached-today row) of it whose
// `tradingState` is not ACTIVE; an account message whose view is not ACTIVE or whose events hold
// an `account.locked_out`, `breaker.tripped` or `account.reducing`.
import type { Socket } from "socket.io-client";
import { io } from "socket.io-client";
import type { ClientToServer, OverviewRowPatch, ServerToClient } from "../realtime-protocol";
import { TOKEN } from "./support";

export type DashboardKind = "overview" | "account";

const URGENT = new Set(["account.locked_out", "breaker.tripped", "account.reducing"]);

export class Dashboard {
  readonly socket: Socket<ServerToClient, ClientToServer>;
  bytes = 0;
  messages = 0;
  /** When the subscription's first page (overview) or view (account page) arrived, ms after the connection began. */
  joinMs: number | null = null;
  /** Breach accounts seen leaving ACTIVE, and when (performance.now()). */
  readonly breachesSeen = new Map<string, number>();
  /** `problem` messages and connection errors. */
  readonly problems: string[] = [];
  /** Messages are searched for breaches only once the fall has begun (the accounts' states before it are checked apart). */
  watching = false;
  private readonly startedAt = performance.now();
  private readonly joined: Promise<void>;

  constructor(
    url: string,
    readonly kind: DashboardKind,
    readonly accountId: string | null,
    private readonly breachAccounts: Set<string>,
  ) {
    this.socket = io(url, { transports: ["websocket"], forceNew: true, reconnection: false, auth: { token: TOKEN } });
    this.socket.io.on("open", () => {
      this.socket.io.engine.on("packet", (packet: { type: string; data?: unknown }) => {
        const data = packet.data;
        // The frame: the packet type's digit and its data.
        this.bytes += 1 + (typeof data === "string" ? Buffer.byteLength(data) : data instanceof ArrayBuffer ? data.byteLength : ArrayBuffer.isView(data) ? data.byteLength : 0);
      });
    });
    this.socket.on("connect", () => {
      this.socket.emit("subscribe", kind === "overview" || accountId === null ? { topic: "overview", query: { offset: 0, limit: 100 } } : { topic: "account", accountId });
    });
    this.socket.on("problem", (problem) => this.problems.push(`${problem.code}: ${problem.detail}`));
    this.joined = new Promise<void>((resolve, reject) => {
      const joined = () => {
        if (this.joinMs !== null) return;
        this.joinMs = performance.now() - this.startedAt;
        resolve();
      };
      this.socket.on("overview", (message) => {
        this.messages++;
        if (message.kind === "page") {
          joined();
          this.noteRows(message.page.rows);
          this.noteRows(message.page.breachedToday);
        } else {
          this.noteRows(message.rows);
          if (message.breachedToday) this.noteRows(message.breachedToday);
        }
      });
      this.socket.on("account", (message) => {
        this.messages++;
        if (message.accountId !== this.accountId) return;
        joined();
        if (!this.watching || !this.breachAccounts.has(message.accountId) || this.breachesSeen.has(message.accountId)) return;
        if (message.account.tradingState !== "ACTIVE" || message.events.some((record) => URGENT.has(record.event.type))) this.breachesSeen.set(message.accountId, performance.now());
      });
      this.socket.once("connect_error", (error) => {
        this.problems.push(error.message);
        reject(new Error(`a dashboard could not connect: ${error.message}`));
      });
    });
  }

  /** Resolves once the first page (or the account's view) arrived; rejects after `timeoutMs`. */
  ready(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`a ${this.kind} dashboard had no first ${this.kind === "overview" ? "page" : "view"} after ${timeoutMs} ms${this.problems.length ? ` (${this.problems.join("; ")})` : ""}`)), timeoutMs);
    });
    return Promise.race([this.joined, timeout]).finally(() => clearTimeout(timer));
  }

  close(): void {
    this.socket.disconnect();
  }

  private noteRows(rows: OverviewRowPatch[]): void {
    if (!this.watching) return;
    const at = performance.now();
    for (const row of rows) {
      if (row.tradingState !== undefined && row.tradingState !== "ACTIVE" && this.breachAccounts.has(row.accountId) && !this.breachesSeen.has(row.accountId)) this.breachesSeen.set(row.accountId, at);
    }
  }
}
