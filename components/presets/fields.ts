import { z } from "zod";
import { Preset } from "@/server/engine/preset";

/**
 * The editor's form, derived from the Preset schema (the one the server checks): every object
 * a fieldset, every figure an input of its kind. Under `rules` a field may be left empty: the
 * preset then leaves that figure to the firm's configuration.
 */

export type Path = readonly (string | number)[];

type Common = {
  key: string;
  path: Path;
  label: string;
  /** Under `rules`: empty means "the firm's value". */
  patch: boolean;
  required: boolean;
  /** The schema's default, when the field has one outside `rules`. */
  fallback?: unknown;
};

export type FieldNode =
  | (Common & { kind: "object"; children: FieldNode[] })
  | (Common & { kind: "array"; item: FieldNode; maxItems?: number })
  | (Common & { kind: "number"; integer: boolean; nullable: boolean; min?: number; max?: number; exclusiveMin?: number; exclusiveMax?: number })
  | (Common & { kind: "string"; nullable: boolean; maxLength?: number; pattern?: string; format?: string; multiline: boolean })
  | (Common & { kind: "boolean" })
  | (Common & { kind: "enum"; options: string[] });

type JsonSchema = {
  type?: string;
  anyOf?: JsonSchema[];
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  maxLength?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
};

const UNITS: Record<string, string> = { usd: "USD", pct: "%", ms: "ms" };
const WORDS: Record<string, string> = { obi: "OBI", adv: "ADV", cvar: "CVaR", eod: "EOD", id: "ID", url: "URL", usd: "USD" };

/** `maxOrderNotionalUsd` → "Max order notional (USD)". */
export function labelOf(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .split(/[\s_]+/)
    .map((word) => word.toLowerCase());
  const last = words.at(-1);
  const unit = last && words.length > 1 && UNITS[last] ? UNITS[last] : null;
  const text = (unit ? words.slice(0, -1) : words).map((word) => WORDS[word] ?? word).join(" ");
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}${unit ? ` (${unit})` : ""}`;
}

function build(schema: JsonSchema, key: string, path: Path, patch: boolean, required: boolean): FieldNode {
  const nullable = schema.anyOf?.some((option) => option.type === "null") ?? false;
  const inner = schema.anyOf?.find((option) => option.type !== "null") ?? schema;
  const common: Common = { key, path, label: labelOf(key), patch, required, ...(schema.default !== undefined && !patch ? { fallback: schema.default } : {}) };
  if (inner.enum) return { ...common, kind: "enum", options: inner.enum.map(String) };
  switch (inner.type) {
    case "object":
      return {
        ...common,
        kind: "object",
        children: Object.entries(inner.properties ?? {}).map(([child, sub]) =>
          build(sub, child, [...path, child], patch || (path.length === 0 && child === "rules"), inner.required?.includes(child) ?? false),
        ),
      };
    case "array":
      return { ...common, kind: "array", item: build(inner.items ?? {}, "item", [...path, 0], patch, true), ...(inner.maxItems ? { maxItems: inner.maxItems } : {}) };
    case "number":
    case "integer": {
      const bound = (value: number | undefined) => (value !== undefined && Math.abs(value) < Number.MAX_SAFE_INTEGER ? value : undefined);
      return {
        ...common,
        kind: "number",
        integer: inner.type === "integer",
        nullable,
        min: bound(inner.minimum),
        max: bound(inner.maximum),
        exclusiveMin: bound(inner.exclusiveMinimum),
        exclusiveMax: bound(inner.exclusiveMaximum),
      };
    }
    case "boolean":
      return { ...common, kind: "boolean" };
    default:
      return {
        ...common,
        kind: "string",
        nullable,
        maxLength: inner.maxLength,
        pattern: inner.pattern,
        format: inner.format,
        multiline: (inner.maxLength ?? 0) > 500,
      };
  }
}

/** The whole preset as a tree of fields (computed once: the schema does not change). */
export const PRESET_FORM = build(z.toJSONSchema(Preset, { io: "input", unrepresentable: "any" }) as JsonSchema, "preset", [], false, true) as Extract<
  FieldNode,
  { kind: "object" }
>;

export const pathKey = (path: Path) => path.map(String).join(".");

/** A DOM id for the input of a field path. */
export const fieldId = (path: Path | string) => `preset-field-${typeof path === "string" ? path : pathKey(path)}`;

export const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

export function getAt(value: unknown, path: Path): unknown {
  let current = value;
  for (const key of path) {
    if (Array.isArray(current) && typeof key === "number") current = current[key];
    else if (isRecord(current) && Object.hasOwn(current, key)) current = current[String(key)];
    else return undefined;
  }
  return current;
}

/**
 * `root` with `value` at `path` (undefined removes the key); objects missing on the way are
 * made. Under `rules`, objects left empty by a removal are removed too: the patch says nothing there.
 */
export function setAt(root: unknown, path: Path, value: unknown): unknown {
  const [head, ...rest] = path;
  if (head === undefined) return value;
  if (typeof head === "number") {
    const list = Array.isArray(root) ? [...root] : [];
    list[head] = setAt(list[head], rest, value);
    return list;
  }
  const object: Record<string, unknown> = isRecord(root) ? { ...root } : {};
  const next = setAt(object[head], rest, value);
  const emptied = value === undefined && rest.length > 0 && isRecord(next) && Object.keys(next).length === 0;
  if (next === undefined || (emptied && head !== "rules" && head !== "objectives")) delete object[head];
  else object[head] = next;
  return object;
}

/** Every leaf of a JSON value with its dotted path (arrays by index); empty objects and arrays are leaves. */
export function leaves(value: unknown, prefix: string[] = []): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const walk = (node: unknown, path: string[]) => {
    if (isRecord(node) && Object.keys(node).length > 0) for (const [key, child] of Object.entries(node)) walk(child, [...path, key]);
    else if (Array.isArray(node) && node.length > 0) node.forEach((child, index) => walk(child, [...path, String(index)]));
    else out.set(path.join("."), node);
  };
  walk(value, prefix);
  return out;
}

/** A value as the editor prints it. */
export function show(value: unknown): string {
  if (value === undefined) return "—";
  if (typeof value === "string") return value === "" ? '""' : value;
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "—";
  return JSON.stringify(value);
}
