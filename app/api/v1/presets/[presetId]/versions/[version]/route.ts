import { endpoints } from "@/server/api/catalog";
import { AppError } from "@/server/errors";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

export const GET = handle(endpoints.getPresetVersion, async ({ params, services }) => {
  const found = await services.presets.get(params.presetId, params.version);
  if (!found) throw new AppError("not_found", `no version ${params.version} of preset ${params.presetId}`);
  return json(found);
});
