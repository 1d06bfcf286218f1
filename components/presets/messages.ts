import type { z } from "zod";
import { Preset } from "@/server/engine/preset";
import type { FieldNode } from "./fields";
import { PRESET_FORM, getAt, labelOf } from "./fields";

/**
 * The preset editor's check, in the words of the people who edit presets: the schema the server
 * uses (`Preset`), its issues said in plain language ("Daily loss must be 100% or less", not
 * "Too big: expected number to be <=100") and placed at the field they are about, so the form
 * shows each next to its input. A source that backs a figure the draft no longer sets is said at
 * that figure ("Source 1 backs this figure …"), where the edit was made.
 */

export type Issue = { path: string; message: string };

type ZodIssue = z.core.$ZodIssue;

/** The form's node at a dotted path (array items by index), or null when the form has none there. */
export function fieldAt(path: string): FieldNode | null {
  let node: FieldNode = PRESET_FORM;
  for (const part of path === "" ? [] : path.split(".")) {
    if (node.kind === "object") {
      const child: FieldNode | undefined = node.children.find((candidate) => candidate.key === part);
      if (!child) return null;
      node = child;
    } else if (node.kind === "array" && /^\d+$/.test(part)) node = node.item;
    else return null;
  }
  return node;
}

/** A field's name and unit: `dailyLossPct` → "Daily loss", "%". */
function nameAndUnit(key: string): { name: string; unit: "%" | "USD" | "ms" | null } {
  const label = labelOf(key);
  const match = /^(.*) \((%|USD|ms)\)$/.exec(label);
  return match ? { name: match[1]!, unit: match[2] as "%" | "USD" | "ms" } : { name: label, unit: null };
}

const figure = new Intl.NumberFormat("en-US", { maximumFractionDigits: 6 });

/** A bound with its unit: "100%", "5,000,000 USD", "2,000 ms", "0". */
function amount(value: number | bigint, unit: "%" | "USD" | "ms" | null): string {
  const text = figure.format(value);
  return unit === "%" ? `${text}%` : unit ? `${text} ${unit}` : text;
}

/** What a path names, for the summary: "Account rules › Daily loss (%)", "Sources › Source 2 › Field". */
export function fieldTitle(path: string): string {
  if (path === "") return "The preset";
  const titles: string[] = [];
  let node: FieldNode | null = PRESET_FORM;
  for (const part of path.split(".")) {
    if (node?.kind === "array" && /^\d+$/.test(part)) {
      titles.push(`${node.label.replace(/s$/, "")} ${Number(part) + 1}`);
      node = node.item;
      continue;
    }
    node = node?.kind === "object" ? (node.children.find((child) => child.key === part) ?? null) : null;
    titles.push(node?.label ?? labelOf(part));
  }
  return titles.join(" › ");
}

const host = (url: unknown) => {
  try {
    return typeof url === "string" ? new URL(url).host : null;
  } catch {
    return null;
  }
};

/** One issue of the schema in plain language, at the path of the field it is about. */
export function plainIssue(issue: ZodIssue, draft: unknown): Issue {
  const path = issue.path.map(String).join(".");
  const key = String(issue.path.findLast((part) => typeof part === "string") ?? "preset");
  const { name, unit } = nameAndUnit(key);
  const value = getAt(draft, issue.path as (string | number)[]);
  switch (issue.code) {
    case "too_big":
      if (issue.origin === "string") return { path, message: `${name} must be at most ${figure.format(issue.maximum)} characters` };
      if (issue.origin === "array") return { path, message: `${name}: at most ${figure.format(issue.maximum)}` };
      return { path, message: issue.inclusive ? `${name} must be ${amount(issue.maximum, unit)} or less` : `${name} must be less than ${amount(issue.maximum, unit)}` };
    case "too_small":
      if (issue.origin === "string") return { path, message: Number(issue.minimum) <= 1 ? `${name} cannot be empty` : `${name} must be at least ${figure.format(issue.minimum)} characters` };
      if (issue.origin === "array") return { path, message: `${name}: at least ${figure.format(issue.minimum)}` };
      return { path, message: issue.inclusive ? `${name} must be ${amount(issue.minimum, unit)} or more` : `${name} must be more than ${amount(issue.minimum, unit)}` };
    case "invalid_type":
      if (value === undefined) return { path, message: `${name} is required` };
      if (issue.expected === "int") return { path, message: `${name} must be a whole number` };
      if (issue.expected === "number") return { path, message: `${name} must be a number` };
      if (issue.expected === "boolean") return { path, message: `${name} must be on or off` };
      if (issue.expected === "string") return { path, message: `${name} must be text` };
      return { path, message: `${name} must be ${issue.expected === "object" ? "a group of fields" : issue.expected === "array" ? "a list" : `of type ${issue.expected}`}` };
    case "invalid_value":
      return { path, message: `${name} must be one of: ${issue.values.map(String).join(", ")}` };
    case "invalid_format":
      if (issue.format === "url") return { path, message: `${name} must be a web address starting with https:// or http://` };
      return { path, message: `${name}: use ${issue.message}` };
    case "not_multiple_of":
      return { path, message: `${name} must be a multiple of ${amount(Number(issue.divisor), unit)}` };
    case "unrecognized_keys":
      return { path, message: `${issue.keys.length === 1 ? `“${issue.keys[0]}” is` : `${issue.keys.map((k) => `“${k}”`).join(", ")} are`} not ${issue.keys.length === 1 ? "a field" : "fields"} of ${path === "" ? "a preset" : name}: remove ${issue.keys.length === 1 ? "it" : "them"} in the raw JSON` };
    case "custom":
      return customIssue(issue, path, name, draft);
    default:
      return { path, message: `${name}: ${issue.message}` };
  }
}

function customIssue(issue: ZodIssue, path: string, name: string, draft: unknown): Issue {
  const source = /^sources\.(\d+)\.field$/.exec(path);
  if (source) {
    const index = Number(source[1]);
    const field = getAt(draft, ["sources", index, "field"]);
    const at = typeof field === "string" ? field : "";
    const site = host(getAt(draft, ["sources", index, "url"]));
    const cited = `Source ${index + 1}${site ? ` (${site})` : ""}`;
    // A figure of the form the draft leaves empty: said there, where it was cleared.
    if (at !== "" && fieldAt(at) !== null) return { path: at, message: `${cited} backs this figure: give it a value, or remove that source` };
    return { path, message: `${cited} names “${at}”, which is not a figure of this preset: name one it sets, or remove the source` };
  }
  const allowance = /^a daily allowance of ([\d.]+)% of the initial balance exceeds the max-loss allowance of ([\d.]+)%$/.exec(issue.message);
  if (allowance) return { path, message: `Daily loss (${allowance[1]}% of the initial balance) must not exceed the max loss (${allowance[2]}%)` };
  if (/^an? /.test(issue.message)) return { path, message: `${name} must be ${issue.message}` };
  return { path, message: `${name}: ${issue.message}` };
}

/** The draft checked as the server will check it: the preset, or every issue in plain language. */
export function checkPreset(draft: unknown): { ok: true; preset: Preset } | { ok: false; issues: Issue[] } {
  const parsed = Preset.safeParse(draft);
  if (parsed.success) return { ok: true, preset: parsed.data };
  const issues: Issue[] = [];
  const seen = new Set<string>();
  for (const issue of parsed.error.issues) {
    const plain = plainIssue(issue, draft);
    const key = `${plain.path}\n${plain.message}`;
    if (!seen.has(key)) issues.push(plain);
    seen.add(key);
  }
  return { ok: false, issues };
}
