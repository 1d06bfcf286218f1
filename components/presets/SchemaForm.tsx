"use client";

import { useState } from "react";
import type { FieldNode, Path } from "./fields";
import { PRESET_FORM, fieldId, getAt, pathKey, show } from "./fields";

/** The value a rules field has when the preset leaves it empty, and where it comes from. */
export type FirmValue = (path: string) => { value: unknown; from: "firm" | "engine default" } | undefined;

export type SchemaFormProps = {
  draft: unknown;
  onChange: (path: Path, value: unknown) => void;
  /** Issue messages by dotted path. */
  issues: ReadonlyMap<string, string[]>;
  firmValue: FirmValue;
  readOnly: boolean;
  /** Editing a version of a stored preset: its id cannot change. */
  lockedId: boolean;
};

/** The preset as a form generated from its schema: every object a fieldset, every figure an input of its kind. */
export function SchemaForm(props: SchemaFormProps) {
  const scalars = PRESET_FORM.children.filter((node) => node.kind !== "object" && node.kind !== "array");
  const groups = PRESET_FORM.children.filter((node) => node.kind === "object" || node.kind === "array");
  return (
    <fieldset className="schema-form" disabled={props.readOnly}>
      <legend className="sr-only">Preset</legend>
      <Issues messages={props.issues.get("")} id={fieldId("root")} />
      <fieldset className="group">
        <legend>Preset</legend>
        <div className="fields">
          {scalars.map((node) => (
            <Field key={node.key} node={node} path={[node.key]} {...props} />
          ))}
        </div>
      </fieldset>
      {groups.map((node) => (
        <Node key={node.key} node={node} path={[node.key]} {...props} />
      ))}
    </fieldset>
  );
}

type NodeProps = SchemaFormProps & { node: FieldNode; path: Path };

function Node(props: NodeProps) {
  const { node, path } = props;
  if (node.kind === "array") return <ArrayField {...props} node={node} />;
  if (node.kind !== "object") return <Field {...props} />;
  const scalars = node.children.filter((child) => child.kind !== "object" && child.kind !== "array");
  const nested = node.children.filter((child) => child.kind === "object" || child.kind === "array");
  const isRules = path.length === 1 && node.key === "rules";
  return (
    <fieldset className={`group depth-${Math.min(path.length, 3)}`} id={fieldId(path)} tabIndex={-1}>
      <legend>{node.label}</legend>
      {isRules && <p className="muted small hint">A patch over the firm&apos;s configuration: an empty field keeps the firm&apos;s value (shown greyed).</p>}
      <Issues messages={props.issues.get(pathKey(path))} id={`${fieldId(path)}-issues`} />
      {scalars.length > 0 && (
        <div className="fields">
          {scalars.map((child) => (
            <Field key={child.key} {...props} node={child} path={[...path, child.key]} />
          ))}
        </div>
      )}
      {nested.length > 0 && (
        <div className={path.length >= 2 && nested.every((child) => child.kind === "object") ? "subgroups" : undefined}>
          {nested.map((child) => (
            <Node key={child.key} {...props} node={child} path={[...path, child.key]} />
          ))}
        </div>
      )}
    </fieldset>
  );
}

function ArrayField(props: NodeProps & { node: Extract<FieldNode, { kind: "array" }> }) {
  const { node, path, draft, onChange } = props;
  const value = getAt(draft, path);
  const items = Array.isArray(value) ? value : [];
  const itemNode = node.item;
  const singular = node.label.replace(/s$/, "");
  const prefix = pathKey(path);
  const hasIssues = [...props.issues.keys()].some((key) => key === prefix || key.startsWith(`${prefix}.`));
  const [opened, setOpened] = useState(false);
  return (
    <details className="group depth-1 collapsible" open={opened || hasIssues} onToggle={(event) => setOpened(event.currentTarget.open)}>
      <summary>
        {node.label} <span className="muted">({items.length})</span>
      </summary>
      <fieldset className="bare" id={fieldId(path)} tabIndex={-1}>
        <legend className="sr-only">{node.label}</legend>
        <Issues messages={props.issues.get(pathKey(path))} id={`${fieldId(path)}-issues`} />
        {items.map((_, index) => (
          <fieldset key={index} className="group depth-2" id={fieldId([...path, index])} tabIndex={-1}>
            <legend>
              {singular} {index + 1}
            </legend>
            <Issues messages={props.issues.get(pathKey([...path, index]))} id={`${fieldId([...path, index])}-issues`} />
            <div className="fields">
              {itemNode.kind === "object" ? (
                itemNode.children.map((child) => <Field key={child.key} {...props} node={child} path={[...path, index, child.key]} />)
              ) : (
                <Field {...props} node={itemNode} path={[...path, index]} />
              )}
            </div>
            <button
              type="button"
              className="small-button"
              onClick={() => onChange(path, items.filter((__, other) => other !== index))}
              aria-label={`Remove ${singular.toLowerCase()} ${index + 1}`}
            >
              Remove
            </button>
          </fieldset>
        ))}
        <button
          type="button"
          className="small-button"
          disabled={node.maxItems !== undefined && items.length >= node.maxItems}
          onClick={() => onChange(path, [...items, itemNode.kind === "object" ? {} : ""])}
        >
          Add {singular.toLowerCase()}
        </button>
      </fieldset>
    </details>
  );
}

/** One input: its label, the firm's value as the placeholder under `rules`, a way to clear it, and its issues inline. */
function Field({ node, path, draft, onChange, issues, firmValue, lockedId }: NodeProps) {
  const key = pathKey(path);
  const id = fieldId(path);
  const value = getAt(draft, path);
  const messages = issues.get(key);
  const firm = node.patch ? firmValue(key) : undefined;
  const unset = value === undefined;
  const describedBy = messages?.length ? `${id}-issues` : undefined;
  const aria = { id, "aria-invalid": messages?.length ? true : undefined, "aria-describedby": describedBy } as const;
  /** What an emptied field becomes: nothing under rules (the firm's value), null where allowed, the default where there is one. */
  const emptied = () => {
    if (node.kind === "number" && node.nullable) return null;
    if (node.kind === "string" && node.required) return "";
    return undefined;
  };
  const placeholder = firm
    ? `${firm.from === "firm" ? "firm's" : "default"}: ${show(firm.value)}`
    : node.kind === "number" && node.nullable
      ? "none"
      : node.fallback !== undefined && node.fallback !== ""
        ? `default: ${show(node.fallback)}`
        : undefined;

  let input;
  switch (node.kind) {
    case "number": {
      const lower = node.min ?? node.exclusiveMin;
      const upper = node.max ?? node.exclusiveMax;
      input = (
        <input
          {...aria}
          type="number"
          inputMode="decimal"
          step={node.integer ? 1 : "any"}
          min={lower}
          max={upper}
          value={typeof value === "number" ? value : ""}
          placeholder={typeof value === "number" || value === undefined || value === null ? placeholder : `not a number: ${show(value)}`}
          onChange={(event) => {
            const text = event.target.value;
            if (text === "") {
              if (!event.target.validity.badInput) onChange(path, emptied());
              return;
            }
            const number = Number(text);
            if (Number.isFinite(number)) onChange(path, number);
          }}
        />
      );
      break;
    }
    case "boolean": {
      const shown = unset ? (firm?.value ?? node.fallback) : value;
      input = (
        <input
          {...aria}
          type="checkbox"
          className={unset ? "inherited" : undefined}
          checked={shown === true}
          onChange={(event) => onChange(path, event.target.checked)}
        />
      );
      break;
    }
    case "enum":
      input = (
        <select {...aria} value={typeof value === "string" ? value : ""} onChange={(event) => onChange(path, event.target.value === "" ? undefined : event.target.value)}>
          {(!node.required || unset) && <option value="">{placeholder ?? "—"}</option>}
          {node.options.map((option) => (
            <option key={option} value={option}>
              {option}
            </option>
          ))}
        </select>
      );
      break;
    case "string": {
      const common = {
        ...aria,
        value: typeof value === "string" ? value : value === undefined || value === null ? "" : show(value),
        placeholder,
        maxLength: node.maxLength,
        readOnly: lockedId && key === "id",
        onChange: (event: { target: { value: string } }) => onChange(path, event.target.value === "" ? emptied() : event.target.value),
      };
      input = node.multiline ? <textarea {...common} rows={3} /> : <input {...common} type={node.format === "uri" ? "url" : "text"} spellCheck={false} />;
      break;
    }
    default:
      return null;
  }

  const range = node.kind === "number" ? rangeOf(node) : null;
  return (
    <div className={`form-field kind-${node.kind}${node.kind === "string" && node.multiline ? " wide" : ""}${messages?.length ? " invalid" : ""}`}>
      <div className="field-head">
        <label htmlFor={id}>
          {node.label}
          {node.required && node.kind !== "boolean" ? <span aria-hidden="true"> *</span> : null}
        </label>
        {range && <span className="range">{range}</span>}
      </div>
      <div className="control">
        {input}
        {node.kind === "boolean" && unset && firm && <span className="muted small">firm&apos;s: {firm.value ? "on" : "off"}</span>}
        {node.patch && !unset && (
          <button type="button" className="clear" onClick={() => onChange(path, undefined)} aria-label={`Clear ${node.label}: use the firm's value`} title="Use the firm's value">
            ×
          </button>
        )}
      </div>
      {key === "id" && lockedId && <span className="muted small">a version keeps its preset&apos;s id</span>}
      <Issues messages={messages} id={`${id}-issues`} />
    </div>
  );
}

const compact = new Intl.NumberFormat("en-US", { notation: "compact" });
const bound = (value: number) => (Math.abs(value) >= 1e6 ? compact.format(value) : String(value));

/** The allowed range in a few characters: "> 0, ≤ 100", "≥ 2, whole". */
function rangeOf(node: Extract<FieldNode, { kind: "number" }>): string | null {
  const lower = node.min !== undefined ? `≥ ${bound(node.min)}` : node.exclusiveMin !== undefined ? `> ${bound(node.exclusiveMin)}` : null;
  const upper = node.max !== undefined ? `≤ ${bound(node.max)}` : node.exclusiveMax !== undefined ? `< ${bound(node.exclusiveMax)}` : null;
  const parts = [lower, upper].filter(Boolean);
  if (node.integer) parts.push("whole");
  return parts.length ? parts.join(", ") : null;
}

function Issues({ messages, id }: { messages: string[] | undefined; id: string }) {
  if (!messages?.length) return null;
  return (
    <ul className="field-issues" id={id} data-testid="field-issue">
      {messages.map((message) => (
        <li key={message}>{message}</li>
      ))}
    </ul>
  );
}
