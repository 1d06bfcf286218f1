/**
 * The one error module: a closed set of error codes, each with its HTTP status. Route handlers
 * and the socket map these to `application/problem+json`; anything else becomes a plain 500.
 */
export const errorStatus = {
  invalid_json: 400,
  invalid_path: 400,
  unsupported_media_type: 415,
  validation_failed: 422,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  idempotency_mismatch: 409,
  payload_too_large: 413,
  rate_limited: 429,
  storage_unavailable: 503,
  /** A read-only stream node (another server decides on its database). */
  read_only: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof errorStatus;

export type FieldIssue = { path: string; message: string };

const APP_ERROR = Symbol.for("riskgate.AppError");

/**
 * Route handlers are bundled apart from the runtime, so each side has its own copy of this
 * class and `instanceof` fails across them: errors are recognised by a global brand instead.
 */
export class AppError extends Error {
  readonly [APP_ERROR] = true;

  static is(error: unknown): error is AppError {
    return (
      typeof error === "object" &&
      error !== null &&
      (error as { [APP_ERROR]?: unknown })[APP_ERROR] === true &&
      (error as { code?: unknown }).code as string in errorStatus
    );
  }

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly issues: FieldIssue[] = [],
    options?: ErrorOptions,
    /** Seconds the client should wait before retrying (429, 503). */
    readonly hints: { retryAfterSeconds?: number } = {},
  ) {
    super(message, options);
    this.name = "AppError";
  }

  get status(): number {
    return errorStatus[this.code];
  }
}
