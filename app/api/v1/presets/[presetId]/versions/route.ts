import { endpoints } from "@/server/api/catalog";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** A new version of the preset: `{preset, note}`. Accounts keep their version until one is activated. */
export const POST = handle(endpoints.addPresetVersion, async ({ params, body, services, actor }) => {
  return json(await services.presets.addVersion(params.presetId, body.preset, actor, body.note), 201);
});
