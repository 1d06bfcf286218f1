"use client";

import type { FirmValue } from "./SchemaForm";
import { isRecord, leaves, show } from "./fields";

type Change = { path: string; was: unknown; now: unknown };

const SECTIONS = [
  { name: "Rules", test: (path: string) => path.startsWith("rules.") || path === "rules" },
  { name: "Objectives", test: (path: string) => path.startsWith("objectives.") || path === "objectives" },
  { name: "Sources", test: (path: string) => path.startsWith("sources.") || path === "sources" },
  { name: "Metadata", test: () => true },
] as const;

const isEmpty = (value: unknown) => value === undefined || (isRecord(value) && Object.keys(value).length === 0) || (Array.isArray(value) && value.length === 0);

/** Every leaf that differs between two presets, by dotted path. */
export function diffPresets(was: unknown, now: unknown): Change[] {
  const before = leaves(was);
  const after = leaves(now);
  const paths = [...new Set([...before.keys(), ...after.keys()])];
  return paths
    .map((path) => ({ path, was: before.get(path), now: after.get(path) }))
    .filter(({ was: a, now: b }) => JSON.stringify(a) !== JSON.stringify(b) && !(isEmpty(a) && isEmpty(b)));
}

/** The draft against a stored version: the changed paths with the old and new values, rules first. */
export function PresetDiff({ was, now, firmValue }: { was: unknown; now: unknown; firmValue: FirmValue }) {
  const changes = diffPresets(was, now);
  if (changes.length === 0) return <p className="muted" data-testid="diff-empty">No changes.</p>;
  const rulesValue = (path: string, value: unknown) => {
    if (value !== undefined || !path.startsWith("rules.")) return show(value);
    const firm = firmValue(path);
    return firm ? `firm's (${show(firm.value)})` : "firm's";
  };
  return (
    <table className="diff" data-testid="diff">
      <caption className="sr-only">Changed fields</caption>
      <thead>
        <tr>
          <th scope="col">Field</th>
          <th scope="col">Was</th>
          <th scope="col">Now</th>
        </tr>
      </thead>
      {SECTIONS.map((section) => {
        const rows = changes.filter((change) => SECTIONS.find((candidate) => candidate.test(change.path)) === section);
        if (rows.length === 0) return null;
        return (
          <tbody key={section.name}>
            <tr>
              <th scope="colgroup" colSpan={3} className="diff-section">
                {section.name}
              </th>
            </tr>
            {rows.map((change) => (
              <tr key={change.path} data-testid="diff-row" data-path={change.path}>
                <th scope="row" className="mono">
                  {change.path.replace(/^(rules|objectives)\./, "")}
                </th>
                <td className="was mono">{rulesValue(change.path, change.was)}</td>
                <td className="now mono">{rulesValue(change.path, change.now)}</td>
              </tr>
            ))}
          </tbody>
        );
      })}
    </table>
  );
}
