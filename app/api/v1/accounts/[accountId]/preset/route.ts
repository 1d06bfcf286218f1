import { endpoints } from "@/server/api/catalog";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** `{presetId, version?, reason}`: the account decides under that version (the latest by default) from now on. */
export const POST = handle(endpoints.activatePreset, async ({ params, body, services, actor }) => {
  const account = await services.runtime.activatePreset(params.accountId, body.presetId, body.version, body.reason, actor);
  return json({ seq: services.runtime.lastSeq, account });
});
