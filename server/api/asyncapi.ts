import type { z } from "zod";
import { STREAM_LIMITS } from "../realtime-protocol";
import { jsonSchemaOf } from "./openapi";
import {
  AccountMessageSchema,
  ConnectRefusalSchema,
  HandshakeSchema,
  OverviewMessageSchema,
  StreamProblemSchema,
  SubscribeMessage,
  UnsubscribeMessage,
} from "./stream-schemas";

type Json = Record<string, unknown>;
const { BURST, CATCH_UP_COMMITS, CATCH_UP_EVENTS, DROPS_BEFORE_DISCONNECT, FLOOD_COOLDOWN_MS, MAX_ACCOUNT_SUBSCRIPTIONS, PER_SECOND } = STREAM_LIMITS;
const count = (n: number) => n.toLocaleString("en-US");

/**
 * The stream's contract as an AsyncAPI 3.0 document (`GET /api/v1/asyncapi.json`), generated from
 * the zod schemas the stream parses and is checked against (stream-schemas.ts). The application
 * described is the server: it receives `subscribe` and `unsubscribe`, it sends `overview`,
 * `account` and `problem`, and it refuses connections with a `connect_error` whose `data` is a
 * `ConnectRefusal`. Each message's `name` is its Socket.IO event name.
 */
let cached: Json | null = null;

export function asyncApiDocument(): Json {
  if (cached) return cached;
  const schemas: Record<string, Json> = {};
  const schema = (zod: z.ZodType, io: "input" | "output") => jsonSchemaOf(zod, io, schemas, "draft-07");
  const message = (name: string, title: string, summary: string, description: string, payload: Json) => ({ name, title, summary, description, contentType: "application/json", payload });

  const messages = {
    subscribe: message(
      "subscribe",
      "Subscribe",
      "Subscribe to the overview's window or to one account",
      [
        "`{topic: \"overview\", query, ref?}`: a window of the firm overview (the filters of `GET /api/v1/overview` and `offset`, `limit` <= 500); one per socket, a new one replaces it. Answered by `overview` messages carrying `ref`.",
        `\`{topic: "account", accountId, lastSeq?}\`: one account (at most ${MAX_ACCOUNT_SUBSCRIPTIONS} per socket). Answered by \`account\` messages.`,
        `Catch-up by seq: after a reconnection, subscribe again with \`lastSeq\` (the \`toSeq\` of the last \`account\` message): the first message carries exactly what was missed (from the last ${count(CATCH_UP_COMMITS)} commits the server keeps, or up to ${count(CATCH_UP_EVENTS)} of the account's events from the ledger); further back, or without \`lastSeq\`, a fresh view with \`reset: true\`.`,
        "A scoped credential may subscribe only to its accounts (`problem {code: \"forbidden\"}` otherwise).",
      ].join("\n\n"),
      schema(SubscribeMessage, "input"),
    ),
    unsubscribe: message("unsubscribe", "Unsubscribe", "End a subscription", "`{topic: \"overview\"}` or `{topic: \"account\", accountId}`.", schema(UnsubscribeMessage, "input")),
    overview: message(
      "overview",
      "Overview window",
      "The overview window: a page, then deltas",
      "`{kind: \"page\", ref, page}` (an OverviewPage, as `GET /api/v1/overview`), then `{kind: \"delta\", ref, seq, rows, ...}`: the rows of the window that changed (their changed fields), and the rest only when it changed. Ignore messages whose `ref` is not your current subscription's.",
      schema(OverviewMessageSchema, "output"),
    ),
    account: message(
      "account",
      "Account",
      "One account's view, ledger records and decisions over fromSeq..toSeq",
      "Figures at most twice a second, anything else within 15 ms. Events and decisions carry their `seq`: skip those <= your last; a `fromSeq` greater than last + 1 is a gap: subscribe again with `lastSeq`. `events` are ledger records in the one shape of the API (`LedgerRecord`).",
      schema(AccountMessageSchema, "output"),
    ),
    problem: message(
      "problem",
      "Problem",
      "A refused client message, or the end of the stream's credentials",
      `\`invalid_message\`, \`forbidden\`, \`not_found\`, \`too_many_subscriptions\`, \`rate_limited\` (more than ${PER_SECOND} messages a second, bursts of ${BURST}: messages beyond are dropped unread; after ${DROPS_BEFORE_DISCONNECT} drops the connection is cut and the credential refused for ${FLOOD_COOLDOWN_MS / 1000} s: \`too_many_requests\` on reconnection), \`credentials_revoked\`, \`session_expired\` (the server disconnects next; log in again).`,
      schema(StreamProblemSchema, "output"),
    ),
    connectError: message(
      "connect_error",
      "Connection refused",
      "Why the server refused to open the stream (Socket.IO `connect_error`, this is its `data`)",
      "Codes: `unauthenticated` (no valid session cookie or token: log in, or pass `auth.token`), `forbidden` (the credential's role reads nothing: `feed`, `metrics`), `too_many_requests` (a stream of these credentials was cut for flooding: retry after `retryAfterSeconds`), `unavailable` (the credentials could not be checked just now: retry). A page of another origin is refused earlier, at the HTTP handshake (403), which a client sees as a transport error without a code.",
      schema(ConnectRefusalSchema, "output"),
    ),
  };

  const channel = "#/channels/stream";
  const operation = (action: "send" | "receive", name: keyof typeof messages, summary: string) => ({
    action,
    channel: { $ref: channel },
    summary,
    messages: [{ $ref: `${channel}/messages/${name}` }],
  });

  cached = {
    asyncapi: "3.0.0",
    info: {
      title: "Riskgate stream",
      version: "1",
      description: [
        "The realtime stream: Socket.IO 4 (Engine.IO protocol 4) on the HTTP server's port, path `/socket.io/`, over WebSocket or HTTP long-polling; each message is a Socket.IO event whose name is the message's `name` and whose one argument is its payload.",
        "Authenticate like an HTTP call: the session cookie (browsers) or `auth: {token}` in the handshake (programs); pages of another origin are refused. A stream lives as long as its credentials.",
        `A dashboard receives what it shows, by subscription, and nothing before it is committed. Every client message is checked; a socket may send ${PER_SECOND} messages a second (bursts of ${BURST}). Times are epoch milliseconds (UTC), as in the HTTP API (\`/api/v1/openapi.json\`).`,
      ].join("\n\n"),
    },
    defaultContentType: "application/json",
    servers: {
      riskgate: {
        host: "localhost:3000",
        protocol: "ws",
        pathname: "/socket.io/",
        description: "The Riskgate server itself (Socket.IO beside the HTTP API; use wss behind TLS)",
        security: [{ $ref: "#/components/securitySchemes/token" }, { $ref: "#/components/securitySchemes/session" }],
      },
    },
    channels: {
      stream: {
        address: "/",
        title: "The default Socket.IO namespace",
        description: "One connection carries every subscription of a dashboard.",
        messages,
        bindings: { ws: { query: { type: "object", properties: { EIO: { type: "string", const: "4" }, transport: { type: "string", enum: ["websocket", "polling"] } } } } },
      },
    },
    operations: {
      subscribe: operation("receive", "subscribe", "A client subscribes (catch-up by `lastSeq`)"),
      unsubscribe: operation("receive", "unsubscribe", "A client ends a subscription"),
      sendOverview: operation("send", "overview", "The overview window to its subscriber"),
      sendAccount: operation("send", "account", "An account to its subscribers"),
      sendProblem: operation("send", "problem", "A problem to the socket concerned"),
      refuseConnection: operation("send", "connectError", "A connection refused, with a machine-readable code"),
    },
    components: {
      schemas: { ...Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b))), Handshake: schema(HandshakeSchema, "input") },
      securitySchemes: {
        token: { type: "http", scheme: "bearer", description: "Programs: an API token, as `auth: {token}` in Socket.IO's handshake (the Handshake schema), or as `Authorization: Bearer` on the handshake's HTTP request" },
        session: { type: "httpApiKey", name: "riskgate_session", in: "cookie", description: "Browsers: the session cookie of /api/v1/auth/login" },
      },
    },
  };
  return cached;
}
