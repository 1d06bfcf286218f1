import type { ApiSchema } from "../api";
import { money } from "../format";
import type { LedgerPage } from "./api";

/** A ledger record as the API and the stream carry it (the OpenAPI document's `LedgerRecord`; the stream's fit it). */
export type LedgerRecord = ApiSchema<"LedgerRecord">;
type Event = LedgerRecord["event"];

/** Who did it: the actor the event names, or the engine for what it did by itself. */
export function whoOf(event: Event): string {
  return "by" in event && event.by ? event.by : "engine";
}

/** Why: the operator's reason or the lock's note, where the event carries one. */
export function whyOf(event: Event): string {
  if (event.type === "veto.added" || event.type === "side.locked") return event.note || event.reason.replaceAll("_", " ");
  if (event.type === "order.cancelled" || event.type === "execution.failed") return "reason" in event ? event.reason : event.detail;
  return "reason" in event && typeof event.reason === "string" ? event.reason : "";
}


/** What happened, in one line. */
export function summaryOf(event: Event): string {
  switch (event.type) {
    case "config.applied":
      return "firm configuration applied";
    case "firm.halted":
      return "firm-wide halt";
    case "firm.resumed":
      return "firm-wide halt lifted";
    case "day.started":
      return `trading day ${event.tradingDay} started`;
    case "market.tick":
      return `${event.symbol} tick ${event.price}`;
    case "market.bar":
      return `${event.symbol} bar close ${event.close}`;
    case "market.book":
      return `${event.symbol} book`;
    case "account.opened":
      return `account opened under ${event.account.presetId} with ${money(event.account.initialBalanceUsd, event.account.currency)}`;
    case "preset.activated":
      return `preset ${event.presetId} v${event.version} activated`;
    case "intent.received": {
      const { intent } = event;
      return `intent ${intent.intentId}: ${intent.action} ${intent.side} ${intent.quantity ?? intent.targetWeight ?? ""} ${intent.symbol}`;
    }
    case "intent.decided": {
      const { decision } = event;
      return decision.outcome === "allowed"
        ? `${decision.intentId} allowed${decision.approvedQuantity === null ? "" : ` (${decision.approvedQuantity})`}`
        : `${decision.intentId} denied by ${decision.guard}: ${decision.reason}`;
    }
    case "breaker.tripped":
      return `${event.breaker} breaker tripped`;
    case "breaker.reset":
      return `${event.breaker} breaker reset`;
    case "veto.added":
      return `${event.symbol} locked (${event.reason.replaceAll("_", " ")})${event.expiresAt === null ? " until reset" : ""}`;
    case "veto.cleared":
      return `${event.symbol} unlocked`;
    case "side.locked":
      return `${event.side} entries locked (${event.reason.replaceAll("_", " ")})`;
    case "side.unlocked":
      return `${event.side} entries unlocked`;
    case "account.locked_out":
      return `locked out: equity ${money(event.equity)} at the ${event.rule.replace("_", "-")} floor ${money(event.floor)}`;
    case "account.reducing":
      return `reduce-only (${event.cause.replaceAll("_", " ")})${event.untilReset ? " until reset" : ""}`;
    case "account.reducing_ended":
      return "reduce-only ended";
    case "account.reopened":
      return "account reopened";
    case "advisory.memo":
      return `deal memo for ${event.intentId}`;
    case "reviewer.verdict":
      return event.outcome.status === "verdict"
        ? `reviewer ${event.outcome.reviewer} on ${event.intentId}: ${event.outcome.veto ? "veto" : "pass"}`
        : `reviewer ${event.outcome.reviewer} failed on ${event.intentId}`;
    case "flatten.ordered":
      return `flatten ${event.symbol}: ${event.side} ${event.quantity}`;
    case "order.queued":
      return `order ${event.orderId} queued: ${event.side} ${event.quantity} ${event.symbol} (${event.kind})`;
    case "order.superseded":
      return `order ${event.orderId} superseded by ${event.byOrderId}`;
    case "order.sent":
      return `order ${event.orderId} sent to ${event.venue}`;
    case "order.acknowledged":
      return `order ${event.orderId} acknowledged in ${event.latencyMs} ms`;
    case "order.cancelled":
      return `order ${event.orderId} cancelled`;
    case "execution.filled":
      return `fill ${event.side} ${event.quantity} ${event.symbol} at ${event.price}${event.trigger === "order" ? "" : ` (${event.trigger.replace("_", " ")})`}`;
    case "execution.failed":
      return `execution ${event.failure} on ${event.symbol}`;
    case "latency.observed":
      return `latency ${event.latencyMs} ms (${event.source.replace("_", " ")})`;
  }
}

/**
 * The decision an entry belongs to, where it has one: the decision itself (with its seq), or the
 * intent, review, memo, order or fill of one (the intent's id).
 */
export function decisionOf({ seq, event }: LedgerRecord): { intentId: string; seq?: number } | null {
  switch (event.type) {
    case "intent.decided":
      return { intentId: event.decision.intentId, seq };
    case "intent.received":
      return { intentId: event.intent.intentId };
    case "reviewer.verdict":
    case "advisory.memo":
      return { intentId: event.intentId };
    case "order.queued":
    case "execution.filled":
    case "execution.failed":
      return event.intentId === null ? null : { intentId: event.intentId };
    default:
      return null;
  }
}

export type Fetch = (afterSeq: number, limit: number) => Promise<LedgerPage>;

export const PAGE = 200;
/** The first stretch of seqs read back from the head; it grows while the account's events are sparse. */
const FIRST_SPAN = 2_000;
const MAX_SPAN = 200_000;

/** Every event with a seq in (afterSeq, uptoSeq], in processing order, following the cursor. */
export async function readBetween(fetch: Fetch, afterSeq: number, uptoSeq: number): Promise<LedgerRecord[]> {
  const events: LedgerRecord[] = [];
  let cursor: number | null = afterSeq;
  while (cursor !== null && cursor < uptoSeq) {
    const page: LedgerPage = await fetch(cursor, PAGE);
    events.push(...page.events.filter((record) => record.seq <= uptoSeq));
    cursor = page.nextAfterSeq;
  }
  return events;
}

/**
 * Reads back from `beforeSeq` (exclusive) until at least `want` of the account's events are found
 * or the ledger's start is reached. The ledger API reads forward only (`afterSeq`), so this reads
 * stretches of seqs backwards, each forward, widening the stretch while the account's events are
 * sparse among the firm's. Returns them newest first, and the seq the next read goes back from
 * (0: the start has been reached).
 */
export async function readBack(fetch: Fetch, beforeSeq: number, want = PAGE, span = FIRST_SPAN): Promise<{ events: LedgerRecord[]; fromSeq: number; span: number }> {
  const found: LedgerRecord[] = [];
  let upto = beforeSeq - 1;
  while (upto > 0 && found.length < want) {
    const after = Math.max(0, upto - span);
    const stretch = await readBetween(fetch, after, upto);
    found.push(...stretch.reverse());
    upto = after;
    if (stretch.length < want / 2) span = Math.min(MAX_SPAN, span * 4);
  }
  return { events: found, fromSeq: Math.max(0, upto) + 1, span };
}
