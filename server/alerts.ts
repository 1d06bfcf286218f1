import type { EngineEvent } from "./engine/events";
import type { LedgerRecord } from "./ledger";
import { log } from "./log";

/**
 * Alerts: breaker trips, lock-outs and operator actions, taken from committed ledger records and
 * delivered to the configured sinks (a JSON webhook, the Telegram Bot API). Delivery happens in
 * the background: `AlertDispatcher.observe` only queues, so an unreachable sink never holds up a
 * decision. Each sink has its own queue, delivered in ledger order with retries and backoff.
 */

export type AlertKind =
  | "breaker_tripped"
  | "breaker_reset"
  | "account_locked_out"
  | "account_reopened"
  | "firm_halted"
  | "firm_resumed"
  | "symbol_locked"
  | "symbol_unlocked"
  | "side_locked"
  | "side_unlocked"
  | "reducing_started"
  | "reducing_ended"
  | "flatten_ordered"
  | "preset_activated";

export type AlertSeverity = "critical" | "warning" | "info";

export type Alert = {
  /** Stable across retries and restarts (the ledger seq), so a receiver can de-duplicate. */
  id: string;
  seq: number;
  /** Event time, epoch ms. */
  at: number;
  kind: AlertKind;
  severity: AlertSeverity;
  /** null: firm-wide. */
  accountId: string | null;
  title: string;
  text: string;
  /** Who did it: an operator, "engine" for automatic actions; null where the event names no actor. */
  by: string | null;
};

const ENGINE = "engine";

const actor = (by: string): string => (by === ENGINE ? "the engine (automatic)" : by);

const money = (amount: number, currency = "USD"): string =>
  `${amount.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })} ${currency}`;

const iso = (at: number): string => new Date(at).toISOString();

const sideEntries = (side: "BUY" | "SELL"): string => (side === "BUY" ? "new longs (BUY entries)" : "new shorts (SELL entries)");

type Content = Pick<Alert, "kind" | "severity" | "accountId" | "title" | "by"> & { lines: string[] };

/** What an event says to a risk manager, or null when it is not worth an alert. */
function contentOf(event: EngineEvent): Content | null {
  switch (event.type) {
    case "breaker.tripped":
      return {
        kind: "breaker_tripped",
        severity: "critical",
        accountId: event.accountId,
        by: event.by,
        title: `Breaker tripped: ${event.accountId} (${event.breaker})`,
        lines: [
          `Account ${event.accountId} is HALTED: the ${event.breaker} breaker tripped.`,
          `Why: ${event.reason}`,
          `By: ${actor(event.by)}`,
        ],
      };
    case "breaker.reset":
      return {
        kind: "breaker_reset",
        // An operator lifting a halt is worth a look; a cooldown passing is routine.
        severity: event.by === ENGINE ? "info" : "warning",
        accountId: event.accountId,
        by: event.by,
        title: `Breaker reset: ${event.accountId} (${event.breaker})`,
        lines: [
          `The ${event.breaker} breaker of account ${event.accountId} was reset (the account trades again unless another breaker or lock holds it).`,
          `Why: ${event.reason}`,
          `By: ${actor(event.by)}`,
        ],
      };
    case "account.locked_out": {
      const floor = event.rule === "max_loss" ? "max-loss floor" : "daily-loss floor";
      return {
        kind: "account_locked_out",
        severity: "critical",
        accountId: event.accountId,
        by: null,
        title: `Account locked out: ${event.accountId} (${event.rule})`,
        lines: [
          `Account ${event.accountId} is LOCKED OUT: equity ${money(event.equity, event.currency)} is at or below the ${floor} of ${money(event.floor, event.currency)}.`,
          "Its open positions are being flattened; only an operator can reopen it.",
          `By: ${actor(ENGINE)}`,
        ],
      };
    }
    case "account.reopened":
      return {
        kind: "account_reopened",
        severity: "warning",
        accountId: event.accountId,
        by: event.by,
        title: `Account reopened: ${event.accountId}`,
        lines: [`Account ${event.accountId} was reopened after a lock-out.`, `Why: ${event.reason}`, `By: ${actor(event.by)}`],
      };
    case "preset.activated":
      return {
        kind: "preset_activated",
        severity: "warning",
        accountId: event.accountId,
        by: event.by,
        title: `Preset activated: ${event.accountId} (${event.presetId} v${event.version})`,
        lines: [
          `Account ${event.accountId} now decides under preset ${event.presetId} version ${event.version}.`,
          `Why: ${event.reason}`,
          `By: ${actor(event.by)}`,
        ],
      };
    case "firm.halted":
      return {
        kind: "firm_halted",
        severity: "critical",
        accountId: null,
        by: event.by,
        title: "Firm halted",
        lines: ["All trading is HALTED firm-wide.", `Why: ${event.reason}`, `By: ${actor(event.by)}`],
      };
    case "firm.resumed":
      return {
        kind: "firm_resumed",
        severity: "warning",
        accountId: null,
        by: event.by,
        title: "Firm resumed",
        lines: ["The firm-wide halt was lifted.", `Why: ${event.reason}`, `By: ${actor(event.by)}`],
      };
    case "veto.added":
      // Automatic locks (stop-loss hits, exit cooldowns) come with every stop and exit: too frequent.
      if (event.reason !== "manual") return null;
      return {
        kind: "symbol_locked",
        severity: "warning",
        accountId: event.accountId,
        by: event.by,
        title: `Symbol locked: ${event.symbol} on ${event.accountId}`,
        lines: [
          `${event.symbol} is locked for new entries on account ${event.accountId} ${event.expiresAt === null ? "until the next daily reset" : `until ${iso(event.expiresAt)}`}.`,
          ...(event.note ? [`Why: ${event.note}`] : []),
          `By: ${actor(event.by)}`,
        ],
      };
    case "veto.cleared":
      return {
        kind: "symbol_unlocked",
        severity: "info",
        accountId: event.accountId,
        by: event.by,
        title: `Symbol unlocked: ${event.symbol} on ${event.accountId}`,
        lines: [`${event.symbol} was unlocked on account ${event.accountId}.`, `Why: ${event.reason}`, `By: ${actor(event.by)}`],
      };
    case "side.locked":
      return {
        kind: "side_locked",
        severity: "warning",
        accountId: event.accountId,
        by: event.by,
        title: `Side locked: ${event.side} on ${event.accountId}`,
        lines: [
          `Account ${event.accountId}: ${sideEntries(event.side)} are locked ${event.expiresAt === null ? "until the next daily reset" : `until ${iso(event.expiresAt)}`}.`,
          `Why: ${event.reason}${event.note ? ` (${event.note})` : ""}`,
          `By: ${actor(event.by)}`,
        ],
      };
    case "side.unlocked":
      return {
        kind: "side_unlocked",
        severity: "info",
        accountId: event.accountId,
        by: event.by,
        title: `Side unlocked: ${event.side} on ${event.accountId}`,
        lines: [`Account ${event.accountId}: ${sideEntries(event.side)} are allowed again.`, `Why: ${event.reason}`, `By: ${actor(event.by)}`],
      };
    case "account.reducing":
      return {
        kind: "reducing_started",
        severity: "warning",
        accountId: event.accountId,
        by: event.by,
        title: `Reduce-only: ${event.accountId} (${event.cause})`,
        lines: [
          `Account ${event.accountId} is REDUCE-ONLY: it takes only exposure-reducing intents ${event.untilReset ? "until the next daily reset" : "until an operator ends it"}.`,
          `Why: ${event.reason}`,
          `By: ${actor(event.by)}`,
        ],
      };
    case "account.reducing_ended":
      return {
        kind: "reducing_ended",
        severity: "info",
        accountId: event.accountId,
        by: event.by,
        title: `Reduce-only ended: ${event.accountId}`,
        lines: [`Account ${event.accountId} takes new exposure again.`, `Why: ${event.reason}`, `By: ${actor(event.by)}`],
      };
    case "flatten.ordered":
      return {
        kind: "flatten_ordered",
        severity: "warning",
        accountId: event.accountId,
        by: event.by ?? null,
        title: `Flatten ordered: ${event.symbol} on ${event.accountId}`,
        lines: event.by
          ? [`Account ${event.accountId}: ${event.side} ${event.quantity} ${event.symbol} ordered to close the position by an operator.`, `Why: ${event.reason ?? ""}`, `By: ${actor(event.by)}`]
          : [`Account ${event.accountId}: ${event.side} ${event.quantity} ${event.symbol} ordered to close the position after a lock-out.`, `By: ${actor(ENGINE)}`],
      };
    case "config.applied":
    case "day.started":
    case "market.tick":
    case "market.bar":
    case "market.book":
    case "account.opened":
    case "intent.received":
    case "intent.decided":
    case "reviewer.verdict":
    case "advisory.memo":
    case "order.queued":
    case "order.superseded":
    case "order.sent":
    case "order.acknowledged":
    case "order.cancelled":
    case "execution.filled":
    case "execution.failed":
    case "latency.observed":
      return null;
  }
}

/** The alertable events among committed records, in ledger order. Pure. */
export function alertsFrom(records: LedgerRecord[]): Alert[] {
  const alerts: Alert[] = [];
  for (const { seq, event } of records) {
    const content = contentOf(event);
    if (!content) continue;
    const { lines, ...rest } = content;
    alerts.push({ id: String(seq), seq, at: event.at, ...rest, text: [...lines, `At: ${iso(event.at)} (ledger seq ${seq})`].join("\n") });
  }
  return alerts;
}

// ---------------------------------------------------------------------------------------------
// Sinks

export type AlertSink = {
  readonly name: string;
  /** Resolves once the receiver accepted the alert; rejects (ideally with AlertDeliveryError) otherwise. */
  deliver(alert: Alert, signal: AbortSignal): Promise<void>;
};

/** A failed delivery. `retryAfterMs`: the receiver said when to retry; `permanent`: retrying cannot help. */
export class AlertDeliveryError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number | null = null,
    readonly permanent = false,
  ) {
    super(message);
  }
}

const DEFAULT_TIMEOUT_MS = 5_000;
const TELEGRAM_MAX_TEXT = 4096;

/** 4xx other than 408 (timeout) and 429 (rate limit) will not get better by retrying. */
const isPermanent = (status: number): boolean => status >= 400 && status < 500 && status !== 408 && status !== 429;

/** A `Retry-After` header in seconds (the HTTP-date form is ignored). */
function retryAfterHeader(response: Response): number | null {
  const seconds = Number(response.headers.get("retry-after"));
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : null;
}

/** A fetch failure in a few words; never the URL (a Telegram URL holds the bot token). */
function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === "TimeoutError") return "timed out";
  if (error.name === "AbortError") return "aborted";
  const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
  return cause ? `${error.message} (${cause.code ?? cause.message ?? "unknown cause"})` : error.message;
}

async function post(url: string, body: unknown, signal: AbortSignal, timeoutMs: number, headers: Record<string, string> = {}): Promise<Response> {
  try {
    return await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
    });
  } catch (error) {
    throw new AlertDeliveryError(describeFetchError(error));
  }
}

/** The plain-text form of an alert: severity and title on the first line, then the text. */
export function alertMessage(alert: Alert): string {
  return `[${alert.severity.toUpperCase()}] ${alert.title}\n${alert.text}`;
}

/**
 * POSTs `{ text, alert }` as JSON: `text` is the plain-text message (what Slack-style incoming
 * webhooks display), `alert` the structured record. The `idempotency-key` header is the alert id.
 * Any 2xx is success.
 */
export function webhookSink(url: string, options: { timeoutMs?: number } = {}): AlertSink {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return {
    name: `webhook ${new URL(url).host}`,
    async deliver(alert, signal) {
      const response = await post(url, { text: alertMessage(alert), alert }, signal, timeoutMs, { "idempotency-key": alert.id });
      await response.body?.cancel().catch(() => undefined);
      if (!response.ok) {
        throw new AlertDeliveryError(`HTTP ${response.status}`, retryAfterHeader(response), isPermanent(response.status));
      }
    },
  };
}

type TelegramAnswer = { ok?: unknown; description?: unknown; parameters?: { retry_after?: unknown } };

/**
 * Telegram Bot API `sendMessage` (plain text, no link previews). Telegram answers
 * `{ ok: true, result }`; `ok: false` or a non-2xx status is a failure, and a 429 carries
 * `parameters.retry_after` in seconds. `apiBaseUrl` is overridable so tests can use a local server.
 */
export function telegramSink(options: { botToken: string; chatId: string; apiBaseUrl: string; timeoutMs?: number }): AlertSink {
  const url = `${options.apiBaseUrl.replace(/\/+$/, "")}/bot${options.botToken}/sendMessage`;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return {
    name: "telegram",
    async deliver(alert, signal) {
      const text = alertMessage(alert).slice(0, TELEGRAM_MAX_TEXT);
      const response = await post(url, { chat_id: options.chatId, text, disable_web_page_preview: true }, signal, timeoutMs);
      let answer: TelegramAnswer | null = null;
      try {
        answer = (await response.json()) as TelegramAnswer;
      } catch {
        // Not JSON (a proxy's error page): judged by the status alone.
      }
      if (response.ok && answer?.ok === true) return;
      const retryAfterS = answer?.parameters?.retry_after;
      const retryAfterMs = typeof retryAfterS === "number" && retryAfterS > 0 ? retryAfterS * 1000 : retryAfterHeader(response);
      const description = typeof answer?.description === "string" ? `: ${answer.description.slice(0, 200)}` : "";
      throw new AlertDeliveryError(`HTTP ${response.status}${description}`, retryAfterMs, isPermanent(response.status));
    },
  };
}

/** The sinks the configuration names (the `alerts` field of `Config`); none is fine. */
export function alertSinksFromConfig(alerts: {
  webhookUrl: string | null;
  telegram: { botToken: string; chatId: string; apiBaseUrl: string } | null;
}): AlertSink[] {
  const sinks: AlertSink[] = [];
  if (alerts.webhookUrl) sinks.push(webhookSink(alerts.webhookUrl));
  if (alerts.telegram) sinks.push(telegramSink(alerts.telegram));
  return sinks;
}

// ---------------------------------------------------------------------------------------------
// Dispatcher

export type AlertDispatcherOptions = {
  /** Attempts per alert and sink before giving up on it. */
  maxAttempts?: number;
  /** The delay before the second attempt; doubles each attempt, with jitter, up to `maxDelayMs`. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Alerts waiting per sink; beyond it the oldest waiting one is dropped. */
  maxQueue?: number;
  log?: (message: string) => void;
};

export type AlertStats = { queued: number; delivered: number; failed: number; dropped: number; lastError: string | null };

type SinkQueue = {
  readonly sink: AlertSink;
  readonly waiting: Alert[];
  /** The alert being delivered or waiting for its retry: the head of the queue. */
  current: { alert: Alert; attempts: number } | null;
  retryTimer: NodeJS.Timeout | null;
  /** Set while dropping, so a long outage logs one line, not one per alert. */
  overflowing: boolean;
  delivered: number;
  failed: number;
  dropped: number;
};

/** One sink's deliveries since the start (the metrics' alert counters). */
export type SinkStats = { sink: string; delivered: number; failed: number; dropped: number; queued: number };

/**
 * Hands alerts to every sink without blocking the caller. Per sink: one delivery in flight, in
 * ledger order; a failed attempt is retried after an exponential, jittered delay (or when the
 * receiver asked); after `maxAttempts` (or a permanent failure) the alert is given up on and the
 * queue moves on. Timers are unref'd; `close` abandons whatever is pending.
 */
export class AlertDispatcher {
  private readonly queues: SinkQueue[];
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxQueue: number;
  private readonly log: (message: string) => void;
  private readonly closing = new AbortController();
  private readonly inFlight = new Set<Promise<void>>();
  private delivered = 0;
  private failed = 0;
  private dropped = 0;
  private lastError: string | null = null;

  constructor(sinks: AlertSink[], options: AlertDispatcherOptions = {}) {
    this.queues = sinks.map((sink) => ({ sink, waiting: [], current: null, retryTimer: null, overflowing: false, delivered: 0, failed: 0, dropped: 0 }));
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 8);
    this.baseDelayMs = Math.max(0, options.baseDelayMs ?? 500);
    this.maxDelayMs = Math.max(this.baseDelayMs, options.maxDelayMs ?? 60_000);
    this.maxQueue = Math.max(1, options.maxQueue ?? 10_000);
    this.log = options.log ?? ((message) => log.warn(message));
  }

  /** Queues the alerts among `records` for every sink and returns at once. Never throws. */
  observe(records: LedgerRecord[]): void {
    if (this.queues.length === 0 || this.closing.signal.aborted) return;
    try {
      const alerts = alertsFrom(records);
      if (alerts.length === 0) return;
      for (const queue of this.queues) {
        for (const alert of alerts) {
          this.enqueue(queue, alert);
          this.pump(queue);
        }
      }
    } catch (error) {
      this.lastError = `observe: ${error instanceof Error ? error.message : String(error)}`;
      this.log(`alerts: ${this.lastError}`);
    }
  }

  stats(): AlertStats {
    const queued = this.queues.reduce((sum, queue) => sum + queue.waiting.length + (queue.current ? 1 : 0), 0);
    return { queued, delivered: this.delivered, failed: this.failed, dropped: this.dropped, lastError: this.lastError };
  }

  /** Per sink: alerts delivered, given up on, dropped, and waiting. */
  sinkStats(): SinkStats[] {
    return this.queues.map((queue) => ({
      sink: queue.sink.name,
      delivered: queue.delivered,
      failed: queue.failed,
      dropped: queue.dropped,
      queued: queue.waiting.length + (queue.current ? 1 : 0),
    }));
  }

  /** Stops retries and aborts deliveries in flight; what is still queued is abandoned. */
  async close(): Promise<void> {
    if (this.closing.signal.aborted) return;
    this.closing.abort();
    let abandoned = 0;
    for (const queue of this.queues) {
      if (queue.retryTimer) clearTimeout(queue.retryTimer);
      queue.retryTimer = null;
      abandoned += queue.waiting.length + (queue.current ? 1 : 0);
      queue.waiting.length = 0;
      queue.current = null;
    }
    if (abandoned > 0) this.log(`alerts: closing with ${abandoned} undelivered alert deliveries abandoned`);
    await Promise.allSettled([...this.inFlight]);
  }

  private enqueue(queue: SinkQueue, alert: Alert): void {
    queue.waiting.push(alert);
    if (queue.waiting.length <= this.maxQueue) return;
    const oldest = queue.waiting.shift()!;
    this.dropped += 1;
    queue.dropped += 1;
    if (!queue.overflowing) {
      queue.overflowing = true;
      this.log(`alerts: ${queue.sink.name}: more than ${this.maxQueue} alerts waiting; dropping the oldest (first: ${oldest.id})`);
    }
  }

  /** Starts the next delivery of `queue` unless one is in flight or waiting for its retry. */
  private pump(queue: SinkQueue): void {
    if (queue.current || this.closing.signal.aborted) return;
    const next = queue.waiting.shift();
    if (!next) return;
    if (queue.waiting.length < this.maxQueue) queue.overflowing = false;
    queue.current = { alert: next, attempts: 0 };
    this.attempt(queue);
  }

  private attempt(queue: SinkQueue): void {
    queue.retryTimer = null;
    const current = queue.current;
    if (!current || this.closing.signal.aborted) return;
    current.attempts += 1;
    let delivery: Promise<void>;
    try {
      delivery = queue.sink.deliver(current.alert, this.closing.signal);
    } catch (error) {
      delivery = Promise.reject(error);
    }
    const settled = delivery.then(
      () => this.succeeded(queue),
      (error: unknown) => this.attemptFailed(queue, error),
    );
    this.inFlight.add(settled);
    void settled.finally(() => this.inFlight.delete(settled));
  }

  private succeeded(queue: SinkQueue): void {
    if (this.closing.signal.aborted) return;
    this.delivered += 1;
    queue.delivered += 1;
    queue.current = null;
    this.pump(queue);
  }

  private attemptFailed(queue: SinkQueue, error: unknown): void {
    if (this.closing.signal.aborted || !queue.current) return;
    const { alert, attempts } = queue.current;
    const message = error instanceof Error ? error.message : String(error);
    this.lastError = `${queue.sink.name}: ${message}`;
    const permanent = error instanceof AlertDeliveryError && error.permanent;
    if (permanent || attempts >= this.maxAttempts) {
      this.failed += 1;
      queue.failed += 1;
      this.log(`alerts: ${queue.sink.name} gave up on alert ${alert.id} (${alert.kind}) after ${attempts} attempt(s): ${message}`);
      queue.current = null;
      this.pump(queue);
      return;
    }
    const asked = error instanceof AlertDeliveryError ? error.retryAfterMs : null;
    queue.retryTimer = setTimeout(() => this.attempt(queue), asked ?? this.backoffMs(attempts)).unref();
  }

  /** Exponential with "equal jitter": between half and all of base * 2^(attempts - 1), capped. */
  private backoffMs(attempts: number): number {
    const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempts - 1));
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }
}
