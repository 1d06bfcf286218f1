import { endpoints } from "@/server/api/catalog";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** Every preset with its versions, and the accounts (that the caller may see) deciding under each. */
export const GET = handle(endpoints.listPresets, async ({ services, visible }) => {
  const presets = await services.presets.list();
  const accounts = services.runtime.accounts().filter((account) => visible(account.accountId));
  return json({
    presets: presets.map((preset) => ({
      ...preset,
      accounts: accounts
        .filter((account) => account.presetId === preset.id)
        .map((account) => ({ accountId: account.accountId, version: account.preset?.version ?? null })),
    })),
  });
});

/** A new preset: `{preset, note}`; it becomes version 1. 409 if the id exists. */
export const POST = handle(endpoints.createPreset, async ({ body, services, actor }) => {
  return json(await services.presets.create(body.preset, actor, body.note), 201);
});
