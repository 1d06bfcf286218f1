// The dashboards of `npm run bench:firm`: real socket.io-client connections, as programs connect
// (websocket, bearer token), each subscribed to the firm overview (a window of 100 rows) or to one
// account's page. Each counts the bytes it receives (every Engine.IO packet's payload as it came
// off the websocket: Socket.IO sends text frames, uncompressed) and notes when it first sees a
// breach account leave ACTIVE: an `account.locked_out`, `breaker.tripped` or `account.reducing`
// event for it, or a row or view of it whose `tradingState` is not ACTIVE, wherever they are in
// the message (the overview's rows and breached-today list, an account page's view and events).
import type { Socket } from "socket.io-client";
import { io } from "socket.io-client";
import { TOKEN } from "./support";

export type DashboardKind = "overview" | "account";

const URGENT = new Set(["account.locked_out", "breaker.tripped", "account.reducing"]);

export class Dashboard {
  readonly socket: Socket;
  bytes = 0;
  messages = 0;
  /** When the subscription's first rows (overview) or view (account page) arrived, ms after `connectedAt`. */
  joinMs: number | null = null;
  /** Breach accounts seen leaving ACTIVE, and when (performance.now()). */
  readonly breachesSeen = new Map<string, number>();
  private readonly startedAt = performance.now();
  private readonly joined: Promise<void>;
  error: string | null = null;

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
      this.socket.emit("subscribe", kind === "overview" ? { topic: "overview", query: { offset: 0, limit: 100 } } : { topic: "account", accountId });
    });
    this.joined = new Promise<void>((resolve, reject) => {
      this.socket.onAny((_event: string, ...args: unknown[]) => {
        const at = performance.now();
        this.messages++;
        for (const arg of args) this.scan(arg, at, 0);
        if (this.joinMs === null && args.some((arg) => this.hasFirstView(arg))) {
          this.joinMs = at - this.startedAt;
          resolve();
        }
      });
      this.socket.once("connect_error", (error) => {
        this.error = error.message;
        reject(new Error(`a dashboard could not connect: ${error.message}`));
      });
    });
  }

  /** Resolves once the first rows (or the account's view) arrived; rejects after `timeoutMs`. */
  ready(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`a ${this.kind} dashboard had no first ${this.kind === "overview" ? "rows" : "view"} after ${timeoutMs} ms`)), timeoutMs);
    });
    return Promise.race([this.joined, timeout]).finally(() => clearTimeout(timer));
  }

  close(): void {
    this.socket.disconnect();
  }

  /** An overview page (rows), an account's view, or (the protocol before subscriptions) a snapshot of accounts. */
  private hasFirstView(message: unknown): boolean {
    if (typeof message !== "object" || message === null) return false;
    const record = message as Record<string, unknown>;
    if (this.kind === "overview") return Array.isArray(record.rows) || Array.isArray(record.accounts);
    if (record.accountId === this.accountId && "tradingState" in record) return true;
    for (const key of ["account", "view"]) {
      const inner = record[key] as Record<string, unknown> | undefined;
      if (inner && inner.accountId === this.accountId) return true;
    }
    return Array.isArray(record.accounts);
  }

  /** Notes breach accounts the message shows out of ACTIVE (an urgent event, or a row/view in another state). */
  private scan(value: unknown, at: number, depth: number): void {
    if (depth > 6 || typeof value !== "object" || value === null) return;
    if (Array.isArray(value)) {
      for (const item of value) this.scan(item, at, depth + 1);
      return;
    }
    const record = value as Record<string, unknown>;
    const accountId = record.accountId;
    if (typeof accountId === "string" && this.breachAccounts.has(accountId) && !this.breachesSeen.has(accountId)) {
      const urgent = typeof record.type === "string" && URGENT.has(record.type);
      const state = record.tradingState;
      if (urgent || (typeof state === "string" && state !== "ACTIVE")) this.breachesSeen.set(accountId, at);
    }
    for (const key in record) {
      const inner = record[key];
      if (typeof inner === "object" && inner !== null) this.scan(inner, at, depth + 1);
    }
  }
}
