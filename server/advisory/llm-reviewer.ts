/**
 * The LLM reviewer of guard 18 ("red team"; SPEC section 3, issue 8): asks a model behind an
 * OpenAI-compatible chat-completions endpoint to look for reasons to kill the trade. It sends an
 * adversarial system instruction and, as the user message, the intent, the chain's decision,
 * the account's standing (with its `currency`: the figures and the memo's amounts are in it) and
 * the deal memo as JSON; it asks for a JSON object and accepts only
 *   {"veto": boolean, "kill_reason": string | null, "risk_flags": string[]}
 * Anything else (HTTP error, no content, not JSON, wrong shape) throws an error naming what was
 * wrong, which `obtainReview` records as a failed review. The AbortSignal is passed to the
 * request, so a timeout cancels it.
 */
import { z } from "zod";
import type { ReviewRequest, Reviewer, Verdict } from "../reviewer";
import type { Memo } from "./memo";

export type LlmReviewerOptions = {
  /** e.g. https://api.openai.com/v1 (…/chat/completions is appended). */
  readonly baseUrl: string;
  readonly model: string;
  readonly apiKey?: string;
  /** The deal memo of a request (e.g. the rule reviewer's `assess`), or null when there is none. */
  readonly memoOf?: (request: ReviewRequest, signal: AbortSignal) => Promise<Memo | null> | Memo | null;
  readonly fetch?: typeof fetch;
};

export const RED_TEAM_INSTRUCTION = [
  "You are the red team of a pre-trade risk gate. A trade intent has passed every automatic risk check.",
  "Your job is to look for reasons to KILL it: ruin risk in the Monte Carlo (chaos) results, crises the account would not survive,",
  "a position too large for the distance to the loss floors, thin or missing history, expensive or unavailable hedges, anything inconsistent.",
  "Veto when a prudent risk manager would refuse the trade; do not veto on taste alone.",
  'Answer with one JSON object and nothing else: {"veto": boolean, "kill_reason": string or null (required when veto is true), "risk_flags": [short strings]}.',
].join(" ");

export const LlmVerdict = z.strictObject({
  veto: z.boolean(),
  kill_reason: z.string().max(2_000).nullable(),
  risk_flags: z.array(z.string().max(1_000)).max(100),
});

const Completion = z.object({
  choices: z.array(z.object({ message: z.object({ content: z.string().nullable().optional() }) })).min(1),
});

const issuesOf = (error: z.ZodError) => error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`).join("; ");

/** The user message: what the model reviews. */
export function reviewContent(request: ReviewRequest, memo: Memo | null): string {
  const { intent, decision, account } = request;
  return JSON.stringify({
    intent,
    decision,
    account: {
      accountId: account.accountId,
      currency: account.currency,
      tradingState: account.tradingState,
      equity: account.equity,
      balance: account.balance,
      dailyLossFloor: account.dailyLossFloor,
      maxLossFloor: account.maxLossFloor,
      dailyDrawdownPct: account.dailyDrawdownPct,
      positions: account.positions,
    },
    memo,
  });
}

/** Reads the model's answer: strict JSON of the verdict's shape, or an error saying what was wrong. */
export function parseLlmVerdict(body: unknown): Verdict {
  const completion = Completion.safeParse(body);
  if (!completion.success) throw new Error(`LLM reviewer: not a chat completion (${issuesOf(completion.error)})`);
  const content = completion.data.choices[0]!.message.content;
  if (!content) throw new Error("LLM reviewer: the answer has no content");
  let json: unknown;
  try {
    json = JSON.parse(content);
  } catch {
    throw new Error(`LLM reviewer: the answer is not JSON: ${content.slice(0, 80)}`);
  }
  const verdict = LlmVerdict.safeParse(json);
  if (!verdict.success) throw new Error(`LLM reviewer: malformed verdict (${issuesOf(verdict.error)})`);
  const { veto, kill_reason, risk_flags } = verdict.data;
  if (veto && !kill_reason) throw new Error("LLM reviewer: malformed verdict (kill_reason: required when veto is true)");
  return { veto, killReason: veto ? kill_reason : null, riskFlags: risk_flags };
}

export function createLlmReviewer(options: LlmReviewerOptions): Reviewer {
  const url = `${options.baseUrl.replace(/\/+$/, "")}/chat/completions`;
  const doFetch = options.fetch ?? fetch;
  return {
    name: `llm:${options.model}`.slice(0, 120),
    async review(request, signal) {
      const memo = options.memoOf ? await options.memoOf(request, signal) : null;
      signal.throwIfAborted();
      const response = await doFetch(url, {
        method: "POST",
        signal,
        headers: { "content-type": "application/json", ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}) },
        body: JSON.stringify({
          model: options.model,
          temperature: 0,
          response_format: { type: "json_object" },
          messages: [
            { role: "system", content: RED_TEAM_INSTRUCTION },
            { role: "user", content: reviewContent(request, memo) },
          ],
        }),
      });
      if (!response.ok) throw new Error(`LLM reviewer: HTTP ${response.status} from the endpoint`);
      let body: unknown;
      try {
        body = await response.json();
      } catch {
        throw new Error("LLM reviewer: the endpoint's response is not JSON");
      }
      const verdict = parseLlmVerdict(body);
      return memo ? { ...verdict, memo } : verdict;
    },
  };
}
