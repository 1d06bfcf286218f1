import { z } from "zod";
import { rolesFor } from "../auth/roles";
import type { Endpoint } from "./catalog";
import { endpoints } from "./catalog";

type JsonSchema = Record<string, unknown>;

const toSchema = (schema: z.ZodType): JsonSchema =>
  z.toJSONSchema(schema, { target: "draft-2020-12", io: "input", unrepresentable: "any" }) as JsonSchema;

const problem = { $ref: "#/components/schemas/Problem" };
const problemResponse = (description: string) => ({ description, content: { "application/problem+json": { schema: problem } } });

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

function operation(id: string, spec: Endpoint): Record<string, unknown> {
  const mutating = spec.method !== "GET";
  const roles = rolesFor(spec.permission);
  const responses: Record<string, unknown> = {
    [String(spec.success.status)]: {
      description: spec.success.description,
      ...(spec.success.status === 204 ? {} : { content: { [spec.success.contentType ?? "application/json"]: { schema: {} } } }),
    },
    "422": problemResponse("A parameter or the body failed validation; `errors` names each field"),
    "500": problemResponse("An unexpected error (nothing leaks)"),
    "503": problemResponse("The ledger is unavailable: nothing was recorded (fail closed)"),
  };
  if (spec.permission !== "public") {
    responses["401"] = problemResponse("No valid session or bearer token");
    responses["403"] = problemResponse("The role or account scope does not allow this call (or a cookie session sent no CSRF token)");
  }
  if (mutating) responses["409"] = problemResponse("Conflicts with the current state, or an Idempotency-Key reused with another body");
  const headers =
    mutating && spec.idempotent !== false
      ? [{ name: "Idempotency-Key", in: "header", required: false, schema: { type: "string", maxLength: 200 }, description: "A retry with the same key and body returns the first answer" }]
      : [];
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
        "Pre-trade risk gate. Authenticate with a bearer API token (programs) or a session cookie from /api/v1/auth/login (browsers; mutating calls send x-csrf-token). Errors are RFC 9457 problem details.",
    },
    servers: [{ url: "/" }],
    security: [{ bearer: [] }, { session: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer" },
        session: { type: "apiKey", in: "cookie", name: "riskgate_session" },
      },
      schemas: {
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
