import { z } from "zod";
import { rolesFor } from "../auth/roles";
import type { Endpoint } from "./catalog";
import { endpoints } from "./catalog";
import { named } from "./responses";

type JsonSchema = Record<string, unknown>;

/** Where a named schema (`responses.ts`, `named`) is described once. */
export const COMPONENT_REF = "#/components/schemas/";

/**
 * The JSON Schema of a zod schema. Answers (`io: "output"`) refer to the named schemas
 * (`LedgerRecord`, `EngineEvent`, `AccountView`, …) by `$ref`; each is added to `components`,
 * described once. Requests are inlined (their field paths are what a 422 names).
 */
export function jsonSchemaOf(
  schema: z.ZodType,
  io: "input" | "output",
  components: Record<string, JsonSchema>,
  target: "draft-2020-12" | "draft-07" = "draft-2020-12",
): JsonSchema {
  const generated = z.toJSONSchema(schema, { target, io, unrepresentable: "any", ...(io === "output" ? { metadata: named } : {}) }) as JsonSchema;
  const text = JSON.stringify(generated).replaceAll('"#/$defs/', `"${COMPONENT_REF}`).replaceAll('"#/definitions/', `"${COMPONENT_REF}`);
  const { $schema: _dialect, $defs, definitions, ...json } = JSON.parse(text) as JsonSchema & { $defs?: Record<string, JsonSchema>; definitions?: Record<string, JsonSchema> };
  for (const [id, definition] of Object.entries($defs ?? definitions ?? {})) components[id] ??= definition;
  return json;
}

/** The schemas the answers name, gathered while the document is built. */
const namedSchemas: Record<string, JsonSchema> = {};
const toSchema = (schema: z.ZodType, io: "input" | "output" = "input"): JsonSchema => jsonSchemaOf(schema, io, namedSchemas);

const problem = { $ref: "#/components/schemas/Problem" };
const header = (name: string) => ({ $ref: `#/components/headers/${name}` });
const problemResponse = (description: string, headers: Record<string, unknown> = {}) => ({
  description,
  ...(Object.keys(headers).length > 0 ? { headers } : {}),
  content: { "application/problem+json": { schema: problem } },
});

/** What `Idempotency-Key` may hold (server/http/route.ts). */
const IDEMPOTENCY_KEY = "^[\\x21-\\x7e]{1,200}$";

/** Path and query parameters from an object schema: one OpenAPI parameter per property. */
function parameters(schema: z.ZodType | undefined, where: "path" | "query"): unknown[] {
  if (!schema) return [];
  const json = toSchema(schema) as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === "path" || (json.required ?? []).includes(name),
    schema: property,
    ...(typeof property.description === "string" ? { description: property.description } : {}),
  }));
}

/** The operations that answer 429 (with `Retry-After`), and when. */
const RATE_LIMITED: Record<string, string> = {
  login: "Too many failed logins from this address or for this user: wait `Retry-After` seconds",
  createBacktest: "Too many backtests queued or running",
  explainDecision: "The server is busy replaying the ledger for other callers",
  dryRunPreset: "The server is busy replaying the ledger for other callers",
};

function operation(id: string, spec: Endpoint): Record<string, unknown> {
  const mutating = spec.method !== "GET";
  const roles = rolesFor(spec.permission);
  const idempotent = mutating && spec.idempotent !== false && spec.permission !== "public";
  const hasInput = Boolean(spec.params || spec.query || spec.body);
  const { response } = spec.success;
  const successHeaders = idempotent ? { "Idempotent-Replayed": header("IdempotentReplayed") } : {};
  const responses: Record<string, unknown> = {
    [String(spec.success.status)]: {
      description: spec.success.description,
      ...(Object.keys(successHeaders).length > 0 ? { headers: successHeaders } : {}),
      ...(spec.success.status === 204
        ? {}
        : { content: { [spec.success.contentType ?? "application/json"]: { schema: response ? toSchema(response, "output") : {} } } }),
    },
    "405": problemResponse("The path does not take this method; `Allow` lists those it does", { Allow: header("Allow") }),
    "500": problemResponse("An unexpected error (nothing leaks)"),
    "503": problemResponse("The ledger is unavailable: nothing was recorded (fail closed); or a read-only stream node refuses a change", { "Retry-After": header("RetryAfter") }),
  };
  if (hasInput || idempotent) responses["422"] = problemResponse("A parameter, the body or the Idempotency-Key failed validation; `errors` names each field");
  if (spec.params) responses["400"] = problemResponse("A malformed path (e.g. bad percent-encoding), or a body that is not JSON");
  if (spec.body) {
    responses["400"] = problemResponse("The body is not JSON, or a path segment is malformed");
    responses["413"] = problemResponse("The body is larger than 2 MiB");
    responses["415"] = problemResponse("The body is not `application/json`");
  }
  if (spec.permission !== "public") {
    responses["401"] = problemResponse("No valid session or bearer token", { "WWW-Authenticate": header("WWWAuthenticate") });
    responses["403"] = problemResponse("The role or account scope does not allow this call (or a cookie session sent no CSRF token)");
  }
  if (id === "login") {
    responses["401"] = problemResponse("Wrong user name or password, or a disabled user", { "WWW-Authenticate": header("WWWAuthenticate") });
  }
  const limited = RATE_LIMITED[id];
  if (limited) responses["429"] = problemResponse(limited, { "Retry-After": header("RetryAfter") });
  if (spec.path.includes("{")) responses["404"] = problemResponse("Nothing with that id (or not one the caller may see)");
  if (mutating || id === "backtestLedger" || id === "backtestReplay") responses["409"] = problemResponse("Conflicts with the current state (e.g. a backtest not finished), or an Idempotency-Key reused with another body");
  const headers = [
    ...(idempotent
      ? [{ name: "Idempotency-Key", in: "header", required: false, schema: { type: "string", minLength: 1, maxLength: 200, pattern: IDEMPOTENCY_KEY }, description: "1 to 200 visible ASCII characters (0x21-0x7E). A retry with the same key and body returns the first answer, with `Idempotent-Replayed: true`; the same key with another body is 409" }]
      : []),
    ...(mutating && spec.permission !== "public"
      ? [{ name: "x-csrf-token", in: "header", required: false, schema: { type: "string" }, description: "Cookie sessions only (required for them): the csrfToken that login and /auth/me answer. Bearer tokens do not send it" }]
      : []),
  ];
  return {
    operationId: id,
    summary: spec.summary,
    tags: [spec.tag],
    description: spec.permission !== "public" ? `Roles: ${roles.join(", ")}.` : spec.identifies ? "No authentication needed; credentials are optional (a credential that is not valid counts as none)." : "No authentication.",
    // Optional credentials: no requirement, or either scheme.
    ...(spec.permission === "public" ? { security: spec.identifies ? [{}, { bearer: [] }, { session: [] }] : [] } : {}),
    parameters: [...parameters(spec.params, "path"), ...parameters(spec.query, "query"), ...headers],
    ...(spec.body ? { requestBody: { required: true, content: { "application/json": { schema: toSchema(spec.body) } } } } : {}),
    responses,
  };
}

let cached: Record<string, unknown> | null = null;

/** The OpenAPI 3.1 document, generated from the catalog and its zod schemas. */
export function openApiDocument(): Record<string, unknown> {
  if (cached) return cached;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [id, spec] of Object.entries(endpoints) as [string, Endpoint][]) {
    (paths[spec.path] ??= {})[spec.method.toLowerCase()] = operation(id, spec);
  }
  cached = {
    openapi: "3.1.0",
    info: {
      title: "Riskgate API",
      version: "1",
      description:
        "Pre-trade risk gate. Authenticate with a bearer API token (programs) or a session cookie from /api/v1/auth/login (browsers; mutating calls send x-csrf-token). Errors are RFC 9457 problem details. Every time is epoch milliseconds (UTC). A ledger record has one shape everywhere (`LedgerRecord`: the paged ledger, each line of the NDJSON exports, the stream). The realtime stream's contract is the AsyncAPI document at /api/v1/asyncapi.json.",
    },
    servers: [{ url: "/" }],
    security: [{ bearer: [] }, { session: [] }],
    paths,
    components: {
      headers: {
        RetryAfter: { description: "Seconds to wait before retrying", schema: { type: "integer", minimum: 0 } },
        IdempotentReplayed: { description: "`true` when this is the first answer to an earlier call with the same Idempotency-Key, replayed", schema: { type: "string", enum: ["true"] } },
        WWWAuthenticate: { description: "`Bearer realm=\"riskgate\"`", schema: { type: "string" } },
        Allow: { description: "The methods the path takes", schema: { type: "string" } },
      },
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer" },
        session: { type: "apiKey", in: "cookie", name: "riskgate_session" },
      },
      schemas: {
        ...Object.fromEntries(Object.entries(namedSchemas).sort(([a], [b]) => a.localeCompare(b))),
        Problem: {
          type: "object",
          required: ["type", "title", "status", "code", "detail"],
          properties: {
            type: { type: "string" },
            title: { type: "string" },
            status: { type: "integer" },
            code: { type: "string" },
            detail: { type: "string" },
            errors: { type: "array", items: { type: "object", properties: { path: { type: "string" }, message: { type: "string" } } } },
          },
        },
      },
    },
  };
  return cached;
}
