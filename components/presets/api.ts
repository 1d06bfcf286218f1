import type { Preset, PresetInput } from "@/server/engine/preset";
import type { Decision } from "@/server/engine/types";
import type { AccountView } from "@/server/realtime-protocol";
import { request } from "../api";

/** The presets API as the console reads it (see README, "Presets"). */

export type PresetVersionInfo = { version: number; origin: "file" | "api"; note: string; createdBy: string; createdAt: number };

export type PresetSummary = {
  id: string;
  name: string;
  firm: string;
  program: string;
  description: string;
  initialBalanceUsd: number | null;
  latestVersion: number;
  versions: PresetVersionInfo[];
  /** The accounts (the caller may see) under this preset, and the version each runs (null: none activated). */
  accounts: { accountId: string; version: number | null }[];
};

export type PresetVersion = PresetVersionInfo & { presetId: string; preset: Preset };

export type ChangedDecision = {
  seq: number;
  at: number;
  intentId: string;
  symbol: string;
  side: string;
  action: string;
  quantity: number | null;
  recorded: Decision;
  /** null: the engine would refuse the intent outright. */
  candidate: Decision | null;
};

export type DryRunResult = {
  accountId: string;
  candidate: { presetId: string; version: number | null };
  /** Decisions decided again. */
  decisions: number;
  allowedToDenied: number;
  deniedToAllowed: number;
  resized: number;
  otherReason: number;
  /** Allowed decisions the draft would send to the reviewer without a recorded verdict (decided without it). */
  unreviewed: number;
  /** Every decision that would change; the four counts above are part of it (the rest: same outcome, other figures). */
  changedCount: number;
  changed: ChangedDecision[];
};

export const presetKeys = {
  all: ["presets"] as const,
  version: (presetId: string, version: number) => ["presets", presetId, version] as const,
};

const presetPath = (presetId: string) => `/api/v1/presets/${encodeURIComponent(presetId)}`;
const accountPath = (accountId: string) => `/api/v1/accounts/${encodeURIComponent(accountId)}`;

export const presetsApi = {
  list: () => request<{ presets: PresetSummary[] }>("/api/v1/presets"),
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
