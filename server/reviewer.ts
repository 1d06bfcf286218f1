import type { Intent } from "./engine/intent";
import type { Decision, ReviewOutcome } from "./engine/types";
import type { AccountView } from "./engine/views";
import type { ReviewMarket } from "./advisory/history";
import type { Memo } from "./advisory/memo";

/**
 * The external reviewer of guard 18 ("red team"). The engine never calls out: the runtime asks
 * the reviewer before deciding, and hands the outcome to the engine, which records it. The rule
 * and LLM reviewers implement this interface.
 */
export type ReviewRequest = {
  readonly intent: Intent;
  readonly decision: Decision;
  readonly account: AccountView;
  /** The symbol's market history from the engine state, for the deal memo. */
  readonly market?: ReviewMarket;
};

/** A reviewer's answer; `memo`: the deal memo it judged, which the runtime records before the verdict. */
export type Verdict = { readonly veto: boolean; readonly killReason: string | null; readonly riskFlags: readonly string[]; readonly memo?: Memo };

export type Reviewer = {
  readonly name: string;
  review(request: ReviewRequest, signal: AbortSignal): Promise<Verdict>;
};

/**
 * Asks `reviewer` within `timeoutMs`. Never throws: no reviewer, a timeout, or an error becomes
 * a `failed` outcome that the engine handles under the configured failure policy.
 */
export async function obtainReview(
  reviewer: Reviewer | null,
  request: ReviewRequest,
  timeoutMs: number,
  /** Hears the reviewer's whole verdict (its memo too), when there is one in time. */
  onVerdict?: (verdict: Verdict) => void,
): Promise<ReviewOutcome> {
  if (!reviewer) return { status: "failed", reviewer: "none", detail: "no reviewer is configured" };
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`no verdict within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    const verdict = await Promise.race([reviewer.review(request, controller.signal), timeout]);
    onVerdict?.(verdict);
    return {
      status: "verdict",
      reviewer: reviewer.name,
      veto: verdict.veto,
      killReason: verdict.killReason === null ? null : verdict.killReason.slice(0, 500),
      riskFlags: verdict.riskFlags.slice(0, 50).map((flag) => flag.slice(0, 200)),
    };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { status: "failed", reviewer: reviewer.name, detail: detail.slice(0, 500) };
  } finally {
    clearTimeout(timer);
  }
}
