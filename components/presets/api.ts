import type { PresetInput } from "@/server/engine/preset";
import type { AccountView } from "@/server/realtime-protocol";
import type { Answer, ApiSchema } from "../api";
import { request } from "../api";

/** The presets API as the console reads it (see README, "Presets"). */

export type PresetVersionInfo = PresetSummary["versions"][number];

/** A preset with its versions, and the accounts (the caller may see) under it with the version each runs (null: none activated). */
export type PresetSummary = Answer<"listPresets">["presets"][number];

export type PresetVersion = ApiSchema<"PresetVersion">;

export type ChangedDecision = ApiSchema<"ChangedDecision">;

/** The account's recent decisions decided again under a draft: the counts, and the changes (`candidate` null: refused outright). */
export type DryRunResult = Answer<"dryRunPreset">;

export const presetKeys = {
  all: ["presets"] as const,
  version: (presetId: string, version: number) => ["presets", presetId, version] as const,
};

const presetPath = (presetId: string) => `/api/v1/presets/${encodeURIComponent(presetId)}`;
const accountPath = (accountId: string) => `/api/v1/accounts/${encodeURIComponent(accountId)}`;

export const presetsApi = {
  list: () => request<Answer<"listPresets">>("/api/v1/presets"),
  version: (presetId: string, version: number) => request<PresetVersion>(`${presetPath(presetId)}/versions/${version}`),
  /** A new preset: version 1 (409 when the id is taken). */
  create: (preset: PresetInput, note: string) => request<PresetVersion>("/api/v1/presets", { method: "POST", body: JSON.stringify({ preset, note }) }),
  /** The next version of a preset (409 when it equals the latest). */
  addVersion: (presetId: string, preset: PresetInput, note: string) =>
    request<PresetVersion>(`${presetPath(presetId)}/versions`, { method: "POST", body: JSON.stringify({ preset, note }) }),
  activate: (accountId: string, presetId: string, version: number, reason: string) =>
    request<{ seq: number; account: AccountView }>(`${accountPath(accountId)}/preset`, {
      method: "POST",
      body: JSON.stringify({ presetId, version, reason }),
    }),
  /** The account's latest decisions decided again under an edited, unsaved preset; nothing is recorded. */
  dryRun: (accountId: string, preset: unknown, decisions: number) =>
    request<DryRunResult>(`${accountPath(accountId)}/preset/dry-run`, { method: "POST", body: JSON.stringify({ preset, decisions }) }),
};
