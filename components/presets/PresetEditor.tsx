"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import type { KeyboardEvent } from "react";
import { useId, useMemo, useState } from "react";
import { flushSync } from "react-dom";
import type { PresetInput } from "@/server/engine/preset";
import type { AccountView } from "@/server/realtime-protocol";
import { ApiError, queryKeys } from "../api";
import { money } from "../format";
import { ReasonDialog } from "../ReasonDialog";
import type { PresetSummary, PresetVersion } from "./api";
import { presetKeys, presetsApi } from "./api";
import { DryRun } from "./DryRun";
import type { Path } from "./fields";
import { fieldId, isRecord, setAt } from "./fields";
import type { Issue } from "./messages";
import { checkPreset, fieldTitle } from "./messages";
import { describePreset } from "./describe";
import { PresetDiff, diffPresets } from "./PresetDiff";
import type { FirmValue } from "./SchemaForm";
import { SchemaForm } from "./SchemaForm";

type Parsed = { ok: true; value: unknown } | { ok: false; error: string };

const MIN_NOTE = 3;
const pretty = (value: unknown) => JSON.stringify(value, null, 2);
const presetHref = (presetId: string, version?: number) => `/presets?preset=${encodeURIComponent(presetId)}${version ? `&version=${version}` : ""}`;

export type PresetEditorProps = {
  summary: PresetSummary;
  /** The version opened in the editor. */
  base: PresetVersion;
  presets: PresetSummary[];
  accounts: AccountView[];
  firmValue: FirmValue;
  canOperate: boolean;
};

/**
 * One draft, edited through a form generated from the schema or as raw JSON, checked on every
 * change by the schema the server uses; its diff against a stored version; a dry-run against an
 * account's recent decisions; saving it as the next version (or as a new preset); activating
 * the opened version for an account.
 */
export function PresetEditor({ summary, base, presets, accounts, firmValue, canOperate }: PresetEditorProps) {
  const id = useId();
  const router = useRouter();
  const queryClient = useQueryClient();
  const [mode, setMode] = useState<"version" | "new">("version");
  const [text, setText] = useState(() => pretty(base.preset));
  const [tab, setTab] = useState<"form" | "raw">("form");
  const [note, setNote] = useState("");
  const [compareWith, setCompareWith] = useState(base.version);
  const [chosenAccount, setAccountId] = useState<string | null>(null);
  // Until one is chosen: the first account under this preset, or the first account.
  const accountId = chosenAccount ?? summary.accounts[0]?.accountId ?? accounts[0]?.accountId ?? null;
  const [activating, setActivating] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);

  const parsed = useMemo<Parsed>(() => {
    try {
      return { ok: true, value: JSON.parse(text) as unknown };
    } catch (error) {
      return { ok: false, error: (error as Error).message };
    }
  }, [text]);
  const draft = parsed.ok ? parsed.value : null;
  // The server's schema, its issues in plain language at the fields they are about.
  const validation = useMemo(() => (parsed.ok ? checkPreset(parsed.value) : null), [parsed]);

  // What the schema cannot know: a version keeps its preset's id; a new preset needs a free one.
  const draftId = isRecord(draft) && typeof draft.id === "string" ? draft.id : null;
  const ruleIssues: Issue[] = [];
  if (mode === "version" && draftId !== null && draftId !== base.presetId) ruleIssues.push({ path: "id", message: `A version of ${base.presetId} keeps its ID; use “New preset” for a copy under another ID` });
  if (mode === "new" && draftId !== null && presets.some((preset) => preset.id === draftId)) ruleIssues.push({ path: "id", message: `A preset ${draftId} exists already: choose another ID` });

  const save = useMutation({
    mutationFn: async ({ preset, note: text }: { preset: PresetInput; note: string; draftText: string }) =>
      mode === "new" ? presetsApi.create(preset, text) : presetsApi.addVersion(base.presetId, preset, text),
    onSuccess: async (saved) => {
      await queryClient.invalidateQueries({ queryKey: presetKeys.all });
      router.push(presetHref(saved.presetId, saved.version));
    },
  });
  // The server's field issues of the last save, while the draft is the one it refused.
  const serverIssues: Issue[] =
    save.error instanceof ApiError && save.variables?.draftText === text
      ? save.error.issues.map((issue) => ({ path: issue.path.replace(/^preset\.?/, ""), message: issue.message }))
      : [];

  const issues: Issue[] = [...(validation && !validation.ok ? validation.issues : []), ...ruleIssues, ...serverIssues];
  const issuesByPath = new Map<string, string[]>();
  for (const issue of issues) issuesByPath.set(issue.path, [...(issuesByPath.get(issue.path) ?? []), issue.message]);

  const valid = parsed.ok && validation?.ok === true && ruleIssues.length === 0;
  const changes = validation?.ok ? diffPresets(base.preset, validation.preset) : [];
  const dirty = mode === "new" || !parsed.ok || (validation?.ok ? changes.length > 0 : text !== pretty(base.preset));
  const invalidReason = !parsed.ok ? "the raw JSON does not parse" : !valid ? `${issues.length} ${issues.length === 1 ? "issue" : "issues"} to fix` : null;
  const nextVersion = summary.latestVersion + 1;
  const saveBlocked =
    invalidReason ?? (!dirty ? `no changes to v${base.version}` : note.trim().length < MIN_NOTE ? `write a note of at least ${MIN_NOTE} characters` : null);

  const account = accounts.find((candidate) => candidate.accountId === accountId) ?? null;
  const running = account?.presetId === base.presetId ? (account.preset?.version ?? null) : null;
  const activateBlocked =
    invalidReason ??
    (mode === "new"
      ? "save the new preset first"
      : dirty
        ? `unsaved changes: save them as v${nextVersion} first`
        : !account
          ? "choose an account"
          : running === base.version
            ? `${account.accountId} runs v${base.version} already`
            : null);

  // Jump from the summary to a field: the form tab, then the nearest element of the path.
  const jumpTo = (path: string) => {
    flushSync(() => setTab("form"));
    const parts = path === "" ? [] : path.split(".");
    for (let length = parts.length; length >= 0; length--) {
      const element = document.getElementById(fieldId(length === 0 ? "root" : parts.slice(0, length).join(".")));
      if (element) {
        element.scrollIntoView({ block: "center" });
        element.focus();
        return;
      }
    }
  };

  const edit = (path: Path, value: unknown) => {
    if (!parsed.ok) return;
    setText(pretty(setAt(parsed.value, path, value)));
  };

  const startNew = () => {
    const source = isRecord(draft) ? draft : base.preset;
    const taken = new Set(presets.map((preset) => preset.id));
    let newId = `${base.presetId}-copy`;
    for (let n = 2; taken.has(newId); n++) newId = `${base.presetId}-copy-${n}`;
    setMode("new");
    setText(pretty({ ...source, id: newId, name: `${String(source.name ?? base.preset.name)} (copy)` }));
    setNote(`copy of ${base.presetId} v${base.version}`);
    setCompareWith(base.version);
  };

  const compared = useQuery({
    queryKey: presetKeys.version(base.presetId, compareWith),
    queryFn: () => presetsApi.version(base.presetId, compareWith),
    enabled: compareWith !== base.version,
    staleTime: Infinity,
  });
  const against = compareWith === base.version ? base : compared.data;

  const onTabKey = (event: KeyboardEvent<HTMLButtonElement>) => {
    if (event.key !== "ArrowLeft" && event.key !== "ArrowRight" && event.key !== "Home" && event.key !== "End") return;
    event.preventDefault();
    const next = tab === "form" ? "raw" : "form";
    const target = event.key === "Home" ? "form" : event.key === "End" ? "raw" : next;
    setTab(target);
    document.getElementById(`${id}-tab-${target}`)?.focus();
  };

  const title = mode === "new" ? `New preset (a copy of ${base.presetId} v${base.version})` : `Editing ${base.presetId} v${base.version}`;
  return (
    <div className="editor-layout">
      <div className="editor-row">
        <section className="card editor" aria-labelledby={`${id}-title`}>
          <header className="card-header">
            <div>
              <h2 id={`${id}-title`}>{canOperate ? title : `${base.presetId} v${base.version} (read-only)`}</h2>
              <p className="muted small">
                {mode === "new"
                  ? "Saving creates version 1 of a preset under the id you give it."
                  : base.version === summary.latestVersion
                    ? `The latest version. Saving creates v${nextVersion}; accounts keep their version until one is activated.`
                    : `An older version (the latest is v${summary.latestVersion}). Saving it creates v${nextVersion}.`}
              </p>
            </div>
            {canOperate && (
              <div className="toolbar">
                {mode === "new" ? (
                  <button
                    type="button"
                    onClick={() => {
                      setMode("version");
                      setText(pretty(base.preset));
                      setNote("");
                    }}
                  >
                    Discard new preset
                  </button>
                ) : (
                  <>
                    <button type="button" disabled={!dirty} onClick={() => setText(pretty(base.preset))}>
                      Discard changes
                    </button>
                    <button type="button" onClick={startNew}>
                      New preset
                    </button>
                  </>
                )}
              </div>
            )}
          </header>
          <div role="tablist" aria-label="Edit the preset as" className="tabs">
            {(["form", "raw"] as const).map((name) => (
              <button
                key={name}
                type="button"
                role="tab"
                id={`${id}-tab-${name}`}
                aria-selected={tab === name}
                aria-controls={`${id}-panel-${name}`}
                tabIndex={tab === name ? 0 : -1}
                onClick={() => setTab(name)}
                onKeyDown={onTabKey}
              >
                {name === "form" ? "Form" : "Raw JSON"}
                {name === "raw" && !parsed.ok ? <span className="tab-flag"> (does not parse)</span> : null}
              </button>
            ))}
          </div>
          <div role="tabpanel" id={`${id}-panel-${tab}`} aria-labelledby={`${id}-tab-${tab}`} className="tabpanel">
            {tab === "form" ? (
              parsed.ok ? (
                <SchemaForm draft={draft} onChange={edit} issues={issuesByPath} firmValue={firmValue} readOnly={!canOperate} lockedId={mode === "version"} />
              ) : (
                <p className="error" role="alert">
                  The raw JSON does not parse ({parsed.error}). Fix it in the Raw JSON tab, or discard the changes, to use the form.
                </p>
              )
            ) : (
              <div className="raw">
                <label htmlFor={`${id}-raw`}>Preset JSON</label>
                <textarea
                  id={`${id}-raw`}
                  className="mono"
                  value={text}
                  readOnly={!canOperate}
                  spellCheck={false}
                  rows={Math.min(40, Math.max(16, text.split("\n").length + 1))}
                  aria-invalid={!parsed.ok || undefined}
                  aria-describedby={!parsed.ok ? `${id}-parse` : undefined}
                  onChange={(event) => setText(event.target.value)}
                />
                {!parsed.ok && (
                  <p className="error" id={`${id}-parse`} role="alert" data-testid="parse-error">
                    Not JSON: {parsed.error}
                  </p>
                )}
              </div>
            )}
          </div>
        </section>

        <aside className="editor-side" aria-label="Check, save, dry-run and activate">
          <section className="card" aria-labelledby={`${id}-check`}>
            <h2 id={`${id}-check`}>Check</h2>
            {!parsed.ok ? (
              <p className="error" data-testid="validation-status">
                The raw JSON does not parse.
              </p>
            ) : issues.length === 0 ? (
              <>
                <p className="up" data-testid="validation-status">
                  Valid preset.
                </p>
                {validation?.ok && (
                  <p className="small draft-words" data-testid="draft-description">
                    <span className="muted">In words: </span>
                    {describePreset(validation.preset).join(" ")}
                  </p>
                )}
              </>
            ) : (
              <>
                <p className="error" data-testid="validation-status">
                  {issues.length} {issues.length === 1 ? "issue" : "issues"}:
                </p>
                <ul className="issue-summary" data-testid="issue-summary">
                  {issues.map((issue, index) => (
                    <li key={`${issue.path}-${index}`}>
                      <button
                        type="button"
                        className="link"
                        onClick={() => jumpTo(issue.path)}
                      >
                        {fieldTitle(issue.path)}
                      </button>
                      : {issue.message}
                    </li>
                  ))}
                </ul>
              </>
            )}
          </section>

          {canOperate && (
            <section className="card" aria-labelledby={`${id}-save`}>
              <h2 id={`${id}-save`}>{mode === "new" ? "Save the new preset" : `Save as v${nextVersion}`}</h2>
              <form
                onSubmit={(event) => {
                  event.preventDefault();
                  if (saveBlocked === null && validation?.ok) save.mutate({ preset: validation.preset, note: note.trim(), draftText: text });
                }}
              >
                <label className="field">
                  <span>Note (what changed and why)</span>
                  <input value={note} onChange={(event) => setNote(event.target.value)} maxLength={500} placeholder="e.g. tighter order size for news week" />
                </label>
                <div className="actions">
                  <button type="submit" className="primary" disabled={saveBlocked !== null || save.isPending} aria-describedby={saveBlocked ? `${id}-save-blocked` : undefined}>
                    {save.isPending ? "Saving…" : mode === "new" ? "Save new preset" : `Save as v${nextVersion}`}
                  </button>
                </div>
                {saveBlocked && (
                  <p className="muted small" id={`${id}-save-blocked`} data-testid="save-blocked">
                    Cannot save: {saveBlocked}.
                  </p>
                )}
                {save.isError && (
                  <p className="error" role="alert">
                    Not saved: {save.error.message}
                  </p>
                )}
              </form>
            </section>
          )}

          {canOperate && (
            <section className="card try" aria-labelledby={`${id}-try`}>
              <header className="card-header">
                <div>
                  <h2 id={`${id}-try`}>Dry-run and activate</h2>
                  <p className="muted small">
                    A dry-run decides the account&apos;s latest intents again under the draft (unsaved) and lists the decisions that would change;
                    nothing is recorded. Activation puts the opened version in force for the account at once.
                  </p>
                </div>
                <div className="toolbar">
                  <label className="field">
                    <span>Account</span>
                    <select value={accountId ?? ""} onChange={(event) => setAccountId(event.target.value || null)}>
                      {accounts.length === 0 && <option value="">no accounts</option>}
                      {accounts.map((candidate) => (
                        <option key={candidate.accountId} value={candidate.accountId}>
                          {candidate.accountId} · {candidate.presetId}
                          {candidate.preset ? ` v${candidate.preset.version}` : ""}
                        </option>
                      ))}
                    </select>
                  </label>
                  <button
                    type="button"
                    className="danger"
                    disabled={activateBlocked !== null}
                    aria-describedby={activateBlocked ? `${id}-activate-blocked` : undefined}
                    onClick={() => {
                      setNotice(null);
                      setActivating(true);
                    }}
                  >
                    Activate v{base.version}
                  </button>
                </div>
              </header>
              {activateBlocked && (
                <p className="muted small" id={`${id}-activate-blocked`} data-testid="activate-blocked">
                  Cannot activate: {activateBlocked}.
                </p>
              )}
              {notice && (
                <p className="up" role="status" data-testid="activation-notice">
                  {notice}
                </p>
              )}
              <DryRun accountId={accountId} draft={validation?.ok ? validation.preset : draft} blocked={invalidReason} />
            </section>
          )}

          <section className="card" aria-labelledby={`${id}-diff`}>
            <header className="card-header">
              <h2 id={`${id}-diff`}>Changes</h2>
              <label className="field">
                <span>Draft against</span>
                <select value={compareWith} onChange={(event) => setCompareWith(Number(event.target.value))}>
                  {[...summary.versions].reverse().map((version) => (
                    <option key={version.version} value={version.version}>
                      v{version.version}
                      {version.version === summary.latestVersion ? " (latest)" : ""}
                      {version.version === base.version ? " (opened)" : ""}
                      {summary.accounts.some((running) => running.version === version.version) ? " (active)" : ""}
                    </option>
                  ))}
                </select>
              </label>
            </header>
            {!parsed.ok ? (
              <p className="muted">The draft does not parse.</p>
            ) : against ? (
              <PresetDiff was={against.preset} now={validation?.ok ? validation.preset : draft} firmValue={firmValue} />
            ) : compared.isError ? (
              <p className="error">Cannot load v{compareWith}: {compared.error.message}</p>
            ) : (
              <p className="muted">Loading v{compareWith}…</p>
            )}
          </section>
        </aside>
      </div>

      {activating && account && (
        <ReasonDialog
          title={`Activate ${base.presetId} v${base.version} for ${account.name} (${account.accountId})?`}
          confirm={`Activate v${base.version}`}
          tone="danger"
          onClose={() => setActivating(false)}
          onConfirm={async (reason) => {
            const { account: updated } = await presetsApi.activate(account.accountId, base.presetId, base.version, reason);
            await Promise.all([queryClient.invalidateQueries({ queryKey: queryKeys.accounts }), queryClient.invalidateQueries({ queryKey: presetKeys.all })]);
            setNotice(`${updated.accountId} now runs ${updated.preset?.presetId ?? base.presetId} v${updated.preset?.version ?? base.version}.`);
          }}
        >
          <p>
            {account.accountId} runs {account.presetId}
            {account.preset ? ` v${account.preset.version}` : " (the firm's rules)"} now. From now on it decides under {base.presetId} v{base.version}; an
            account already past a new floor is locked out or paused at once.
          </p>
          {base.preset.initialBalanceUsd !== null && base.preset.initialBalanceUsd !== account.initialBalanceUsd && (
            <p className="warn">
              This preset is written for {money(base.preset.initialBalanceUsd, base.preset.currency ?? account.currency)} accounts; {account.accountId} has{" "}
              {money(account.initialBalanceUsd, account.currency)}: the server will refuse it.
            </p>
          )}
          {base.preset.currency && base.preset.currency !== account.currency && (
            <p className="warn">
              This preset is written for accounts in {base.preset.currency}; {account.accountId} is in {account.currency}: the server will refuse it.
            </p>
          )}
        </ReasonDialog>
      )}
    </div>
  );
}
