import type { z } from "zod";
import type { Endpoint, Input } from "../api/catalog";
import { CLIENT_IP_HEADER, CSRF_HEADER } from "../auth/auth";
import type { Principal } from "../auth/roles";
import { actorOf, canSee, hasPermission } from "../auth/roles";
import { AppError } from "../errors";
import type { Services } from "../services";
import { services } from "../services";
import type { StoredResponse } from "./idempotency";
import { toProblem, validationError } from "./problem";

/** Bodies above this are refused (413) before they are parsed. */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;

/** A JSON answer's text, kept on the Response so the fast path writes it without reading the body stream back. */
export const RAW_JSON = Symbol.for("riskgate.rawJson");
/**
 * What a retry with the answer's Idempotency-Key gets instead of the answer itself, when the
 * answer holds a secret that must not be kept (a new token's): set by `json(…, {retry})`.
 */
const RETRY_JSON = Symbol.for("riskgate.retryJson");
const IDEMPOTENCY_HEADER = "idempotency-key";
/**
 * Body fields holding a password, left out of what an Idempotency-Key's request is matched
 * against: its SHA-256 is stored, and a fast hash of a password can be guessed offline.
 */
const PASSWORD_FIELDS = ["password", "currentPassword", "newPassword"];

export type Context<P, Q, B> = Input<P, Q, B> & {
  request: Request;
  services: Services;
  /** The caller; null only on public endpoints (where it is set only if the endpoint `identifies` callers and the credentials are valid). */
  principal: Principal | null;
  /** How the caller is recorded on the ledger (`user:alice`, `token:feed`; `anonymous` on public endpoints). */
  actor: string;
  /** Whether the caller may see an account (scoped principals see only theirs). */
  visible: (accountId: string) => boolean;
  /** The client's address as the server saw it (login rate limit, audit). */
  address: string;
};

/**
 * The one wrapper around every API route: authenticates the caller (bearer token or session
 * cookie + CSRF header), checks the endpoint's permission and account scope, parses params,
 * query and body with the catalog's zod schemas, applies `Idempotency-Key` to mutating calls,
 * and maps every error to `application/problem+json`. Authorization comes before the body is
 * even read. A handler body is call -> respond.
 */
export function handle<P extends z.ZodType | undefined, Q extends z.ZodType | undefined, B extends z.ZodType | undefined>(
  spec: Endpoint<P, Q, B>,
  handler: (context: Context<P, Q, B>) => Promise<Response>,
) {
  return async (request: Request, context: RouteContext<Record<string, string>>): Promise<Response> => {
    try {
      const running = services();
      const address = request.headers.get(CLIENT_IP_HEADER) ?? "unknown";
      let principal: Principal | null = null;
      if (spec.permission === "public" && spec.identifies) {
        // Credentials are optional here: a valid one identifies the caller; one that is not valid,
        // or that cannot be checked while the database is away, counts as none.
        principal = await running.auth
          .authenticate({ authorization: request.headers.get("authorization"), cookie: request.headers.get("cookie") })
          .catch((error: unknown) => {
            if (AppError.is(error) && error.code === "storage_unavailable") return null;
            throw error;
          });
      } else if (spec.permission !== "public") {
        principal = await running.auth.authenticate({ authorization: request.headers.get("authorization"), cookie: request.headers.get("cookie") });
        if (!principal) throw new AppError("unauthenticated", "log in, or send a valid API token as `Authorization: Bearer <token>`");
        if (spec.method !== "GET" && !running.auth.csrfValid(principal, request.headers.get(CSRF_HEADER))) {
          throw new AppError("forbidden", `a cookie session must send its CSRF token in the ${CSRF_HEADER} header`);
        }
        if (!hasPermission(principal, spec.permission)) {
          throw new AppError("forbidden", `the ${principal.role} role may not ${spec.summary.charAt(0).toLowerCase()}${spec.summary.slice(1)}`);
        }
      }
      const rawParams = await context.params;
      assertStorableText(rawParams, ["params"]);
      const rawQuery = searchParams(request);
      assertStorableText(rawQuery, ["query"]);
      const params = (spec.params ? parseWith(spec.params, rawParams, ["params"]) : undefined) as Input<P, Q, B>["params"];
      const query = (spec.query ? parseWith(spec.query, rawQuery, ["query"]) : undefined) as Input<P, Q, B>["query"];
      const text = spec.body ? await readText(request) : "";
      const parsed = spec.body ? parseJson(text) : undefined;
      if (spec.body) assertStorableText(parsed, []);
      const body = (spec.body ? parseWith(spec.body, parsed, []) : undefined) as Input<P, Q, B>["body"];
      const input = { params, query, body } as Input<P, Q, B>;
      if (principal) authorizeScope(spec, principal, input);

      const run = () =>
        handler({
          ...input,
          request,
          services: running,
          principal,
          actor: principal ? actorOf(principal) : "anonymous",
          visible: (accountId) => principal === null || canSee(principal, accountId),
          address,
        });
      const key = request.headers.get(IDEMPOTENCY_HEADER);
      if (key === null || spec.method === "GET" || spec.idempotent === false || !principal) return delivered(request, await run());
      if (!/^[\x21-\x7e]{1,200}$/.test(key)) {
        throw new AppError("validation_failed", "Idempotency-Key: 1 to 200 visible ASCII characters", [
          { path: "headers.idempotency-key", message: "1 to 200 visible ASCII characters" },
        ]);
      }
      // The answer sent to this call, when what is kept for retries differs (it held a secret).
      let sent: StoredResponse | null = null;
      const { response: kept, replayed } = await running.idempotency.run(
        `${principal.kind}:${principal.id}\n${spec.method} ${new URL(request.url).pathname}`,
        key,
        withoutPasswords(text, parsed),
        async () => {
          const answer = await run().catch(toProblem);
          const stored = { status: answer.status, contentType: answer.headers.get("content-type") ?? "application/json", body: await answer.text() };
          const retry = (answer as Response & { [RETRY_JSON]?: string })[RETRY_JSON];
          if (retry === undefined) return stored;
          sent = stored;
          return { ...stored, body: retry };
        },
      );
      const response: StoredResponse = !replayed && sent ? sent : kept;
      return new Response(response.status === 204 ? null : response.body, {
        status: response.status,
        headers: { "content-type": response.contentType, ...(replayed ? { "idempotent-replayed": "true" } : {}) },
      });
    } catch (error) {
      return toProblem(error);
    }
  };
}

function authorizeScope<P extends z.ZodType | undefined, Q extends z.ZodType | undefined, B extends z.ZodType | undefined>(
  spec: Endpoint<P, Q, B>,
  principal: Principal,
  input: Input<P, Q, B>,
): void {
  if (spec.firmWide && principal.accounts !== null) {
    throw new AppError("forbidden", `${actorOf(principal)} is scoped to some accounts and may not act on the whole firm`);
  }
  const named = spec.accounts?.(input).filter((id): id is string => id !== undefined) ?? [];
  const hidden = named.find((accountId) => !canSee(principal, accountId));
  if (hidden) throw new AppError("forbidden", `${actorOf(principal)} may not act on account ${hidden}`);
  if (principal.accounts !== null && spec.accounts && named.length === 0 && spec.method === "GET") {
    throw new AppError("forbidden", "a caller scoped to accounts must name one (accountId)");
  }
  const refusal = spec.refuse?.(principal, input);
  if (refusal) throw new AppError("forbidden", refusal);
}

/** NUL and unpaired surrogates: text no database column (nor PostgreSQL's jsonb) can hold. */
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Refuses (422, naming the field) any string or key that could not be stored as it was sent. */
function assertStorableText(value: unknown, path: (string | number)[], depth = 0): void {
  if (depth > 64) {
    throw new AppError("validation_failed", `${path.join(".") || "(body)"}: nested too deeply`, [{ path: path.join(".") || "(body)", message: "nested too deeply" }]);
  }
  const refuse = (at: (string | number)[]) => {
    const where = at.join(".") || "(body)";
    throw new AppError("validation_failed", `${where}: contains NUL or an unpaired surrogate`, [{ path: where, message: "contains NUL or an unpaired surrogate" }]);
  };
  if (typeof value === "string") {
    if (UNSTORABLE.test(value)) refuse(path);
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => assertStorableText(item, [...path, index], depth + 1));
  } else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      if (UNSTORABLE.test(key)) refuse([...path, "(key)"]);
      assertStorableText(item, [...path, key], depth + 1);
    }
  }
}

async function readText(request: Request): Promise<string> {
  const type = request.headers.get("content-type");
  if (type && !/^application\/([a-z.+-]*\+)?json\b/i.test(type)) {
    throw new AppError("unsupported_media_type", `send application/json, not ${type}`);
  }
  return readBodyText(request);
}

/**
 * The body as text, at most MAX_BODY_BYTES: refused at once when the announced length is over,
 * cut off at the limit while read otherwise (413 either way).
 */
export async function readBodyText(request: Pick<Request, "headers" | "text"> & { body?: unknown }): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  // Read a chunk at a time and stop at the limit: a body sent without a length (chunked) is cut
  // off there, never read whole.
  // The fast path's light request (and the NDJSON adapter) hold a body already read under the
  // limit; a web Request's body is a stream.
  const body: unknown = request.body;
  if (typeof (body as ReadableStream | null)?.getReader !== "function") {
    const text = await request.text();
    if (Buffer.byteLength(text) > MAX_BODY_BYTES) throw tooLarge();
    return text;
  }
  const reader = (body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

const tooLarge = () => new AppError("payload_too_large", `the body may be at most ${MAX_BODY_BYTES} bytes`);

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new AppError("invalid_json", `the body is not valid JSON: ${(error as Error).message}`);
  }
}

type RouteContext<P> = { params: Promise<P> };

/** Parses path or query parameters, naming the offending one. */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown, prefix: string[]): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw validationError(parsed.error, prefix);
  return parsed.data;
}

export function searchParams(request: Request): Record<string, string> {
  return Object.fromEntries(new URL(request.url).searchParams);
}

/**
 * A JSON answer. `retry`: what a retry with the call's Idempotency-Key answers instead, and the
 * only version kept (for an answer carrying a secret shown once).
 */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}, options: { retry?: unknown } = {}): Response {
  const answer = new JsonAnswer(status, JSON.stringify(body), { "content-type": "application/json", ...headers }, options.retry === undefined ? undefined : JSON.stringify(options.retry));
  // `handle` makes it a web Response for Next, or hands it as it is to the fast path.
  return answer as unknown as Response;
}

/**
 * Set on a request served by the fast path (server/http/fast-path.ts), which writes a JSON
 * answer's text itself: `handle` gives it the `JsonAnswer` as it is. A web Response (undici:
 * a body stream, header copies) costs more than the rest of an intent's HTTP path.
 */
export const FAST_REQUEST = Symbol.for("riskgate.fastRequest");

/** A JSON answer as `json` makes it: what a web Response has that the callers read, and its text. */
export class JsonAnswer {
  readonly [RAW_JSON]: string;
  readonly [RETRY_JSON]: string | undefined;
  readonly headers: { get(name: string): string | null; [Symbol.iterator](): IterableIterator<[string, string]> };

  constructor(
    readonly status: number,
    text: string,
    private readonly fields: Record<string, string>,
    retry?: string,
  ) {
    this[RAW_JSON] = text;
    this[RETRY_JSON] = retry;
    const lower = new Map(Object.entries(fields).map(([name, value]) => [name.toLowerCase(), value]));
    this.headers = { get: (name) => lower.get(name.toLowerCase()) ?? null, [Symbol.iterator]: () => lower.entries() };
  }

  text(): Promise<string> {
    return Promise.resolve(this[RAW_JSON]);
  }

  toResponse(): Response {
    const response = new Response(this[RAW_JSON], { status: this.status, headers: this.fields });
    Object.defineProperty(response, RAW_JSON, { value: this[RAW_JSON] });
    if (this[RETRY_JSON] !== undefined) Object.defineProperty(response, RETRY_JSON, { value: this[RETRY_JSON] });
    return response;
  }
}

/** A handler's answer as the caller takes it: a web Response, but for the fast path. */
function delivered(request: Request, answer: Response): Response {
  if (!(answer instanceof JsonAnswer) || (request as Request & { [FAST_REQUEST]?: boolean })[FAST_REQUEST]) return answer;
  return answer.toResponse();
}

/** The request as an Idempotency-Key is matched against: the body, but its password fields. */
function withoutPasswords(text: string, parsed: unknown): string {
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed) || !PASSWORD_FIELDS.some((field) => field in parsed)) return text;
  const rest: Record<string, unknown> = { ...(parsed as Record<string, unknown>) };
  for (const field of PASSWORD_FIELDS) delete rest[field];
  return JSON.stringify({ withoutPasswords: rest });
}
