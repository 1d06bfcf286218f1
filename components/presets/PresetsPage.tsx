"use client";

import { useQueries, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { Suspense, useMemo } from "react";
import { Rules } from "@/server/engine/config";
import type { AccountView } from "@/server/realtime-protocol";
import { api, queryKeys } from "../api";
import { money, when } from "../format";
import { useSession } from "../session";
import type { PresetSummary } from "./api";
import { presetKeys, presetsApi } from "./api";
import { describePreset } from "./describe";
import { getAt } from "./fields";
import { PresetEditor } from "./PresetEditor";
import type { FirmValue } from "./SchemaForm";
import "./presets.css";

/** The rules of the engine's own defaults: the last resort for "the firm's value". */
const ENGINE_DEFAULTS = Rules.parse({});

const presetHref = (presetId: string, version?: number) => `/presets?preset=${encodeURIComponent(presetId)}${version ? `&version=${version}` : ""}`;

/** Presets: the list, one preset's versions and accounts, and its editor. The selection lives in the URL (`?preset=…&version=…`). */
export function PresetsPage() {
  return (
    <Suspense fallback={<p className="muted">Loading presets…</p>}>
      <Presets />
    </Suspense>
  );
}

function Presets() {
  const params = useSearchParams();
  const selectedId = params.get("preset");
  const versionParam = Number(params.get("version"));
  const presets = useQuery({ queryKey: presetKeys.all, queryFn: presetsApi.list });
  const accounts = useQuery({ queryKey: queryKeys.accounts, queryFn: api.accounts });
  const list = presets.data?.presets ?? [];
  const selected = list.find((preset) => preset.id === selectedId) ?? null;

  return (
    <div className="presets">
      <nav className="card preset-list" aria-labelledby="preset-list-title">
        <h2 id="preset-list-title">Presets</h2>
        {presets.isPending && <p className="muted">Loading…</p>}
        {presets.isError && (
          <p className="error" role="alert">
            Cannot load presets: {presets.error.message}
          </p>
        )}
        <ul>
          {list.map((preset) => (
            <li key={preset.id}>
              <Link href={presetHref(preset.id)} aria-current={preset.id === selectedId ? "page" : undefined} data-testid="preset-link" data-preset={preset.id}>
                <span className="preset-name">{preset.name}</span>
                <span className="muted small">
                  {preset.firm} · {preset.program}
                  {preset.currency && (
                    <>
                      {" · "}
                      <span data-testid="preset-currency">{preset.currency}</span>
                    </>
                  )}
                </span>
                <span className="small">
                  v{preset.latestVersion} · {preset.versions.length} {preset.versions.length === 1 ? "version" : "versions"}
                  {preset.accounts.length > 0 && (
                    <>
                      {" · "}
                      <span className="accent">
                        {preset.accounts.map((account) => `${account.accountId}${account.version ? ` v${account.version}` : ""}`).join(", ")}
                      </span>
                    </>
                  )}
                </span>
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <div className="preset-detail">
        {selected ? (
          <PresetDetail
            key={selected.id}
            summary={selected}
            version={Number.isInteger(versionParam) && versionParam > 0 ? versionParam : selected.latestVersion}
            presets={list}
            accounts={accounts.data?.accounts ?? []}
          />
        ) : (
          !presets.isPending && (
            <section className="card">
              <h2>{selectedId ? `No preset ${selectedId}` : "Choose a preset"}</h2>
              <p className="muted">
                A preset is a firm&apos;s rules for one program: loss limits, the daily reset, breakers and guards, and the objectives the compliance
                check reads. Choose one to see its versions, edit it, try it against an account&apos;s recent decisions, and activate it.
              </p>
            </section>
          )
        )}
      </div>
    </div>
  );
}

function PresetDetail({ summary, version, presets, accounts }: { summary: PresetSummary; version: number; presets: PresetSummary[]; accounts: AccountView[] }) {
  const { canOperate } = useSession();
  const opened = useQuery({ queryKey: presetKeys.version(summary.id, version), queryFn: () => presetsApi.version(summary.id, version), staleTime: Infinity });
  const firmValue = useFirmValue(accounts);
  const info = summary.versions.find((candidate) => candidate.version === version);
  const running = accounts.filter((account) => account.presetId === summary.id);

  return (
    <>
      <section className="card" aria-labelledby="preset-title">
        <header className="card-header">
          <div>
            <h2 id="preset-title">{summary.name}</h2>
            <p className="muted">
              <span className="mono">{summary.id}</span> · {summary.firm} · {summary.program} ·{" "}
              {summary.initialBalanceUsd === null ? "any account size" : `for ${money(summary.initialBalanceUsd, summary.currency ?? undefined)} accounts`}
              {summary.currency && (
                <>
                  {" · "}
                  <span data-testid="preset-detail-currency">accounts in {summary.currency}</span>
                </>
              )}
            </p>
          </div>
          {!canOperate && <span className="badge badge-wait">read-only</span>}
        </header>
        {opened.data ? (
          <>
            <p className="description" data-testid="preset-description">
              <span className="muted small">v{opened.data.version} in words: </span>
              {describePreset(opened.data.preset).join(" ")}
            </p>
            {opened.data.preset.description && (
              <p className="description notes" data-testid="preset-notes">
                <span className="muted small">Notes: </span>
                {opened.data.preset.description}
              </p>
            )}
          </>
        ) : null}
        <h3>Accounts under this preset</h3>
        {running.length === 0 ? (
          <p className="muted">None.</p>
        ) : (
          <ul className="running" data-testid="preset-accounts">
            {running.map((account) => (
              <li key={account.accountId}>
                <Link href={`/accounts/${encodeURIComponent(account.accountId)}`}>{account.name}</Link>{" "}
                <span className="muted">({account.accountId})</span> runs{" "}
                <strong data-testid="running-version" data-account={account.accountId}>
                  v{account.preset?.version ?? "?"}
                </strong>
                {account.preset && (
                  <span className="muted small">
                    {" "}
                    since {when(account.preset.at)} by {account.preset.by}: “{account.preset.reason}”
                  </span>
                )}
              </li>
            ))}
          </ul>
        )}
      </section>

      <section className="card" aria-labelledby="versions-title">
        <h2 id="versions-title">Versions</h2>
        <div className="versions-scroll" tabIndex={0} role="region" aria-label={`Versions of ${summary.id}`}>
        <table className="versions">
          <caption className="sr-only">Versions of {summary.id}, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Origin</th>
              <th scope="col">Note</th>
              <th scope="col">By</th>
              <th scope="col">Created</th>
              <th scope="col">Accounts</th>
            </tr>
          </thead>
          <tbody>
            {[...summary.versions].reverse().map((row) => {
              const on = summary.accounts.filter((account) => account.version === row.version).map((account) => account.accountId);
              const current = row.version === version;
              return (
                <tr key={row.version} className={current ? "current" : undefined} data-testid="version-row" data-version={row.version}>
                  <th scope="row">
                    {current ? (
                      <span aria-current="true">v{row.version} (open)</span>
                    ) : (
                      <Link href={presetHref(summary.id, row.version)} aria-label={`Open v${row.version}`}>
                        v{row.version}
                      </Link>
                    )}
                    {row.version === summary.latestVersion && <span className="muted small"> latest</span>}
                  </th>
                  <td>{row.origin === "file" ? "file" : "API"}</td>
                  <td>{row.note}</td>
                  <td>{row.createdBy}</td>
                  <td className="small">{when(row.createdAt)}</td>
                  <td className="small">{on.length ? on.join(", ") : <span className="muted">—</span>}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
        </div>
        {!info && (
          <p className="error" role="alert">
            {summary.id} has no version {version}.
          </p>
        )}
      </section>

      {opened.isError && (
        <p className="error" role="alert">
          Cannot load {summary.id} v{version}: {opened.error.message}
        </p>
      )}
      {opened.isPending && <p className="muted">Loading v{version}…</p>}
      {opened.data && (
        <PresetEditor
          key={`${summary.id}@${version}`}
          summary={summary}
          base={opened.data}
          presets={presets}
          accounts={accounts}
          firmValue={firmValue}
          canOperate={canOperate}
        />
      )}
    </>
  );
}

/**
 * The firm's value of a rules field: an account whose preset leaves the field alone decides
 * under the firm's value, so its effective rules show it; failing any, the engine's default.
 */
function useFirmValue(accounts: AccountView[]): FirmValue {
  const pairs = useMemo(() => {
    const seen = new Map<string, { presetId: string; version: number }>();
    for (const account of accounts) if (account.preset) seen.set(`${account.preset.presetId}@${account.preset.version}`, account.preset);
    return [...seen.values()];
  }, [accounts]);
  const versions = useQueries({
    queries: pairs.map(({ presetId, version }) => ({
      queryKey: presetKeys.version(presetId, version),
      queryFn: () => presetsApi.version(presetId, version),
      staleTime: Infinity,
    })),
  });
  const patches = versions.map((query) => query.data);
  return (path) => {
    const inRules = path.split(".").slice(1);
    for (const account of accounts) {
      if (!account.preset) return { value: getAt(account.rules, inRules), from: "firm" };
      const { presetId, version } = account.preset;
      const patch = patches.find((candidate) => candidate?.presetId === presetId && candidate.version === version);
      if (patch && getAt(patch.preset.rules, inRules) === undefined) return { value: getAt(account.rules, inRules), from: "firm" };
    }
    return { value: getAt(ENGINE_DEFAULTS, inRules), from: "engine default" };
  };
}
