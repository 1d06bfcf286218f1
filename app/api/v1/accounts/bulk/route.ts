import { endpoints } from "@/server/api/catalog";
import { parseBulkAccounts } from "@/server/api/schemas";
import type { FieldIssue } from "@/server/errors";
import { AppError } from "@/server/errors";
import { handle, json, readBodyText } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** Issues a refused bulk open lists at most (the detail says how many there were). */
const MAX_ISSUES = 100;

const NDJSON = /^application\/(x-)?ndjson\b/i;

/**
 * Open up to 10,000 accounts in one commit, all or none: `{accounts: [{accountId, name,
 * presetId, initialBalanceUsd, execution?}, …]}`, or NDJSON with one account a line. Every item
 * is checked before any opens; a refusal names each offending item (`accounts.17.accountId`,
 * and its `line` in NDJSON). `201 {seq, opened, accounts: [{accountId, tradingState}]}`.
 */
const openAccounts = handle(endpoints.openAccounts, async ({ body, request, services, actor }) => {
  const lines = request instanceof NdjsonRequest ? request.lines : null;
  const { accounts, issues } = parseBulkAccounts(body.accounts);
  if (issues.length > 0) throw refusal("validation_failed", issues, lines);
  const opened = await services.runtime.openAccounts(accounts, actor).catch((error: unknown) => {
    throw AppError.is(error) && error.issues.length > 0 ? refusal(error.code, error.issues, lines) : error;
  });
  return json(opened, 201);
});

export const POST = (request: Request, context: { params: Promise<Record<string, string>> }) =>
  openAccounts(NDJSON.test(request.headers.get("content-type") ?? "") ? (new NdjsonRequest(request) as unknown as Request) : request, context);

/** A refused bulk open: the first `MAX_ISSUES` issues, each with its NDJSON line when sent so. */
function refusal(code: AppError["code"], issues: readonly FieldIssue[], lines: readonly number[] | null): AppError {
  const listed = issues.slice(0, MAX_ISSUES).map((issue): FieldIssue & { line?: number } => {
    const index = /^accounts\.(\d+)/.exec(issue.path)?.[1];
    const line = lines && index !== undefined ? lines[Number(index)] : undefined;
    return line === undefined ? issue : { ...issue, line };
  });
  const first = listed
    .slice(0, 3)
    .map((issue) => `${issue.line === undefined ? issue.path : `line ${issue.line} (${issue.path})`}: ${issue.message}`)
    .join("; ");
  const count = issues.length === 1 ? "1 problem" : `${issues.length} problems${issues.length > MAX_ISSUES ? ` (the first ${MAX_ISSUES} listed)` : ""}`;
  return new AppError(code, `${count}, no account opened: ${first}${issues.length > 3 ? "; …" : ""}`, listed);
}

/**
 * An NDJSON body (one account a line) as the route wrapper reads a JSON one: its content type
 * says JSON and its text is `{"accounts": [...]}`, made from the lines when the wrapper reads
 * the body, after authentication. Blank lines are skipped; each item's line is kept for errors.
 */
class NdjsonRequest {
  readonly headers: { get(name: string): string | null };
  readonly url: string;
  readonly method: string;
  /** The line (from 1) of each item, once the body is read. */
  readonly lines: number[] = [];

  constructor(private readonly request: Request) {
    this.headers = { get: (name) => (name.toLowerCase() === "content-type" ? "application/json" : request.headers.get(name)) };
    this.url = request.url;
    this.method = request.method;
  }

  async text(): Promise<string> {
    // Read under the limit, like every other body (never whole first).
    const raw = await readBodyText(this.request);
    const items: string[] = [];
    raw.split("\n").forEach((text, index) => {
      const item = text.trim();
      if (item === "") return;
      try {
        JSON.parse(item);
      } catch (error) {
        throw new AppError("invalid_json", `line ${index + 1} is not valid JSON: ${(error as Error).message}`);
      }
      items.push(item);
      this.lines.push(index + 1);
    });
    return `{"accounts":[${items.join(",")}]}`;
  }
}
