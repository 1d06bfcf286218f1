import { endpoints } from "@/server/api/catalog";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** Changed decisions listed at most. */
const LISTED = 500;

/**
 * Decides the account's latest intents again under an edited preset (`preset`) or a stored
 * version (`presetId`, `version`), and lists the decisions that would change. Nothing is
 * recorded.
 */
export const POST = handle(endpoints.dryRunPreset, async ({ params, body, services }) => {
  const candidate = body.preset
    ? { presetId: body.preset.id, version: 0, rules: body.preset.rules, preset: body.preset }
    : await services.presets.resolve(body.presetId!, body.version);
  const result = await services.runtime.dryRunPreset(params.accountId, candidate, body.decisions);
  const { changed, ...counts } = result;
  return json({
    accountId: params.accountId,
    candidate: { presetId: candidate.presetId, version: body.preset ? null : candidate.version },
    ...counts,
    changedCount: changed.length,
    changed: changed.slice(-LISTED).map(({ seq, at, intent, recorded, candidate: now }) => ({
      seq,
      at,
      intentId: intent.intentId,
      symbol: intent.symbol,
      side: intent.side,
      action: intent.action,
      quantity: intent.quantity ?? null,
      recorded,
      candidate: now,
    })),
  });
});
