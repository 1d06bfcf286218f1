import { z } from "zod";
import type { AccountMessage, ConnectRefusal, Handshake, OverviewMessage, StreamProblem } from "../realtime-protocol";
import { SubscribeMessage, UnsubscribeMessage } from "../realtime-protocol";
import { AccountId } from "../engine/ids";
import {
  AccountViewSchema,
  DecisionRecordSchema,
  FirmExposureSchema,
  fits,
  FirmViewSchema,
  LedgerRecordSchema,
  named,
  OverviewCountsSchema,
  OverviewPageSchema,
  OverviewRow,
} from "./responses";
import type { Fits } from "./responses";

/**
 * The stream's messages as zod schemas (server/realtime-protocol.ts has the protocol and its
 * types): what a client sends is parsed with the protocol's own schemas; what the server sends
 * is described here from the HTTP answers' schemas, and checked against the protocol's types
 * below. The AsyncAPI document (`asyncapi.ts`) is generated from these.
 */

const ref = z.number().int().min(0).describe("The client's counter of its overview subscription, echoed in every message of it");
const seq = z.number().int().min(0);

const OverviewPageMessage = z.object({ kind: z.literal("page"), ref, page: OverviewPageSchema }).describe("The first answer to an overview subscription: the whole window");
const OverviewDeltaMessage = z
  .object({
    kind: z.literal("delta"),
    ref,
    seq: seq.describe("The ledger seq the delta includes"),
    firm: FirmViewSchema.optional().describe("Present when it changed"),
    counts: OverviewCountsSchema.optional(),
    matching: z.number().int().optional(),
    ids: z.array(AccountId).optional().describe("The window's accounts in order, when its order or membership changed"),
    rows: z.array(OverviewRow.partial().extend({ accountId: AccountId })).describe("Rows of the window that changed: their changed fields (whole rows for rows new to the window)"),
    breachedToday: z.array(OverviewRow).optional(),
    exposure: FirmExposureSchema.optional(),
    decisions: z.array(DecisionRecordSchema).optional().describe("Decisions newer than the last sent, newest first (at most 10)"),
  })
  .describe("What changed in the window since the last message: figures at most twice a second, a state change, trip, lock-out, lock or denial within 15 ms");
export const OverviewMessageSchema = z.discriminatedUnion("kind", [OverviewPageMessage, OverviewDeltaMessage]);

export const AccountMessageSchema = z
  .object({
    accountId: AccountId,
    fromSeq: seq.describe("The first ledger seq this message covers"),
    toSeq: seq.describe("The last ledger seq this message covers: the client's last seq from now on"),
    reset: z.boolean().describe("true: the history is not continued from the client's `lastSeq` (too far back, or none given): replace everything, read older events over HTTP"),
    firm: FirmViewSchema,
    account: AccountViewSchema.partial({ rules: true }).describe("The account's whole view; `rules` only when they changed since the last message (keep the last ones)"),
    events: z.array(LedgerRecordSchema).describe("The account's ledger records in fromSeq..toSeq (no market data): the same records as GET /api/v1/ledger"),
    decisions: z.array(DecisionRecordSchema),
  })
  .describe("One account's view, events and decisions over seqs fromSeq..toSeq. Skip events and decisions with seq <= your last; a fromSeq > last + 1 is a gap: subscribe again with lastSeq");

export const StreamProblemSchema = z
  .object({
    code: z.enum(["invalid_message", "forbidden", "not_found", "too_many_subscriptions", "rate_limited", "credentials_revoked", "session_expired"]),
    detail: z.string(),
    accountId: z.string().optional(),
  })
  .describe("A client message refused (invalid_message, forbidden: an account the caller may not see, not_found, too_many_subscriptions, rate_limited), or the end of the stream's credentials (credentials_revoked, session_expired: the server disconnects next)");

export const ConnectRefusalSchema = z
  .discriminatedUnion("code", [
    z.object({ code: z.enum(["unauthenticated", "forbidden", "unavailable"]), detail: z.string() }),
    z.object({ code: z.literal("too_many_requests"), detail: z.string(), retryAfterSeconds: z.number().int().min(1) }),
  ])
  .describe("The `data` of a refused connection's connect_error: unauthenticated (log in, or pass auth.token), forbidden (a feed or metrics role reads nothing), too_many_requests (a stream of these credentials was cut for flooding: retry after retryAfterSeconds), unavailable (the credentials could not be checked now: retry)");

export const HandshakeSchema = z.object({ token: z.string().optional().describe("A bearer API token (programs); browsers send the session cookie instead") });

export { SubscribeMessage, UnsubscribeMessage };

for (const [id, schema] of Object.entries({
  OverviewMessage: OverviewMessageSchema,
  AccountMessage: AccountMessageSchema,
  StreamProblem: StreamProblemSchema,
  ConnectRefusal: ConnectRefusalSchema,
} satisfies Record<string, z.ZodType>)) named.add(schema, { id });

// Type-level checks: what realtime.ts sends must fit these schemas, and what a client may send
// is what the protocol's types say.
fits<Fits<OverviewMessage, typeof OverviewMessageSchema>>(true);
fits<Fits<AccountMessage, typeof AccountMessageSchema>>(true);
fits<Fits<StreamProblem, typeof StreamProblemSchema>>(true);
fits<Fits<ConnectRefusal, typeof ConnectRefusalSchema>>(true);
fits<Fits<Handshake, typeof HandshakeSchema>>(true);
