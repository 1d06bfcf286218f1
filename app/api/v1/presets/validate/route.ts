import { endpoints } from "@/server/api/catalog";
import { validatePreset } from "@/server/engine/preset";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** Checks a preset without saving it: `{valid, issues: [{path, message}]}` (the editor's inline messages). */
export const POST = handle(endpoints.validatePreset, async ({ body }) => {
  const result = validatePreset(body);
  return json(result.ok ? { valid: true, issues: [], preset: result.preset } : { valid: false, issues: result.issues });
});
