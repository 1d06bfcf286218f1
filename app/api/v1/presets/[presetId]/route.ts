import { endpoints } from "@/server/api/catalog";
import { AppError } from "@/server/errors";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** The preset's latest version, and every version's number, origin, note, author and time. */
export const GET = handle(endpoints.getPreset, async ({ params, services }) => {
  const versions = await services.presets.versions(params.presetId);
  const latest = versions.at(-1);
  if (!latest) throw new AppError("not_found", `no preset ${params.presetId}`);
  return json({
    ...latest,
    versions: versions.map(({ version, origin, note, createdBy, createdAt }) => ({ version, origin, note, createdBy, createdAt })),
  });
});
