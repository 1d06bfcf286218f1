import { z } from "zod";
import type { ErrorCode, FieldIssue } from "../errors";
import { AppError, errorStatus } from "../errors";

/** RFC 9457 problem details, the body of every error response. */
export type Problem = {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail: string;
  errors?: FieldIssue[];
};

const titles: Record<ErrorCode, string> = {
  invalid_json: "Malformed JSON",
  invalid_path: "Malformed path",
  unsupported_media_type: "Unsupported media type",
  validation_failed: "Validation failed",
  unauthenticated: "Authentication required",
  forbidden: "Forbidden",
  payload_too_large: "Payload too large",
  rate_limited: "Too many requests",
  not_found: "Not found",
  method_not_allowed: "Method not allowed",
  conflict: "Conflict",
  idempotency_mismatch: "Idempotency key reused with a different body",
  storage_unavailable: "Storage unavailable",
  read_only: "Read-only server",
  internal: "Internal server error",
};

export function problemResponse(code: ErrorCode, detail: string, issues: FieldIssue[] = [], retryAfterSeconds?: number): Response {
  const status = errorStatus[code];
  const body: Problem = {
    type: `/problems/${code.replaceAll("_", "-")}`,
    title: titles[code],
    status,
    code,
    detail,
    ...(issues.length > 0 ? { errors: issues } : {}),
  };
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      "content-type": "application/problem+json",
      ...(retryAfterSeconds !== undefined ? { "retry-after": String(retryAfterSeconds) } : status === 503 ? { "retry-after": "5" } : {}),
      ...(status === 401 ? { "www-authenticate": 'Bearer realm="riskgate"' } : {}),
    },
  });
}

export function fieldIssues(error: z.ZodError, prefix: (string | number)[] = []): FieldIssue[] {
  return error.issues.map((issue) => ({
    path: [...prefix, ...issue.path].map(String).join(".") || "(body)",
    message: issue.message,
  }));
}

export function validationError(error: z.ZodError, prefix: (string | number)[] = []): AppError {
  const issues = fieldIssues(error, prefix);
  return new AppError(
    "validation_failed",
    issues.map((issue) => `${issue.path}: ${issue.message}`).join("; "),
    issues,
  );
}

/** Maps any thrown value to a problem response; unknown errors leak nothing. */
export function toProblem(error: unknown): Response {
  if (AppError.is(error)) return problemResponse(error.code, error.message, error.issues, error.hints?.retryAfterSeconds);
  if (error instanceof z.ZodError) {
    const mapped = validationError(error);
    return problemResponse(mapped.code, mapped.message, mapped.issues);
  }
  console.error("unhandled error in a route handler", error);
  return problemResponse("internal", "An unexpected error occurred.");
}
