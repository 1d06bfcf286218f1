import type { IncomingMessage, ServerResponse } from "node:http";
import { endpoints } from "../api/catalog";

/**
 * 405 for a method a route does not take, as problem+json with `Allow`, before the request
 * reaches Next (which answers an empty 405 with neither). The routes are the catalog's: every
 * path template with the methods it answers; HEAD goes with GET.
 */
const templates: { pattern: RegExp; methods: Set<string> }[] = [];
for (const { method, path } of Object.values(endpoints)) {
  const source = `^${path.replace(/[.]/g, "\\.").replace(/\{[^}]+\}/g, "[^/]+")}$`;
  let template = templates.find((known) => known.pattern.source === source);
  if (!template) templates.push((template = { pattern: new RegExp(source), methods: new Set() }));
  template.methods.add(method);
  if (method === "GET") template.methods.add("HEAD");
}

/** The methods the routes matching `pathname` take (sorted), or null when no route serves it. */
export function allowedMethods(pathname: string): string[] | null {
  let allowed: Set<string> | null = null;
  for (const { pattern, methods } of templates) {
    if (!pattern.test(pathname)) continue;
    allowed ??= new Set();
    for (const method of methods) allowed.add(method);
  }
  return allowed === null ? null : [...allowed].sort();
}

/** Answers 405 when `request` names a route that does not take its method; true when it did. */
export function refuseMethod(request: IncomingMessage, response: ServerResponse): boolean {
  const pathname = (request.url ?? "/").split("?", 1)[0]!;
  if (!pathname.startsWith("/api/")) return false;
  const allowed = allowedMethods(pathname);
  if (allowed === null || allowed.includes(request.method ?? "GET")) return false;
  const allow = allowed.join(", ");
  response.writeHead(405, { "content-type": "application/problem+json", allow });
  response.end(
    JSON.stringify({
      type: "/problems/method-not-allowed",
      title: "Method not allowed",
      status: 405,
      code: "method_not_allowed",
      detail: `${request.method} is not a method of ${pathname}: it takes ${allow}`,
    }),
  );
  return true;
}
