import fs from "node:fs";
import path from "node:path";
import { createConfig, lintFromString } from "@redocly/openapi-core";
import { describe, expect, it } from "vitest";
import { API_TYPES_FILE, apiTypes, untypedAnswers } from "@/server/api/api-types";
import type { Endpoint } from "@/server/api/catalog";
import { endpoints } from "@/server/api/catalog";
import { asyncApiDocument } from "@/server/api/asyncapi";
import { openApiDocument } from "@/server/api/openapi";

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any
const root = path.resolve(import.meta.dirname, "../..");
const document = openApiDocument() as Json;

/** Every success answer of every operation as `operationId status`, with its content. */
function successAnswers(source: Json): { id: string; status: string; content: Record<string, { schema?: Json }> | undefined }[] {
  return Object.values(source.paths as Record<string, Record<string, Json>>).flatMap((item) =>
    Object.values(item).flatMap((operation) =>
      Object.entries(operation.responses as Record<string, Json>)
        .filter(([status]) => /^2\d\d$/.test(status))
        .map(([status, answer]) => ({ id: operation.operationId as string, status, content: answer.content })),
    ),
  );
}

const described = (schema: Json) => schema !== undefined && ["type", "$ref", "anyOf", "oneOf", "allOf", "const", "enum"].some((key) => key in schema);

describe("the OpenAPI document describes every answer", () => {
  it("gives every operation's success answer a schema (204s have no body)", () => {
    const answers = successAnswers(document);
    expect(answers.map((answer) => answer.id).sort()).toEqual(Object.keys(endpoints).sort());
    const missing = answers.filter(({ status, content }) => (status === "204" ? content !== undefined : !content || Object.values(content).some((media) => !described(media.schema))));
    expect(missing.map(({ id, status }) => `${id} ${status}`)).toEqual([]);
  });

  it("documents the NDJSON exports as application/x-ndjson, a LedgerRecord a line", () => {
    for (const id of ["ledgerExport", "backtestLedger"] as const) {
      const spec = endpoints[id] as Endpoint;
      expect(document.paths[spec.path].get.responses["200"].content).toEqual({ "application/x-ndjson": { schema: { $ref: "#/components/schemas/LedgerRecord" } } });
    }
    // The ledger page's events are the same records, described once.
    expect(document.paths["/api/v1/ledger"].get.responses["200"].content["application/json"].schema.properties.events.items).toEqual({ $ref: "#/components/schemas/LedgerRecord" });
    expect(document.components.schemas.LedgerRecord).toMatchObject({ required: ["seq", "recordedAt", "event"], properties: { event: { $ref: "#/components/schemas/EngineEvent" } } });
  });

  it("resolves every $ref of the document to a component", () => {
    const refs = [...JSON.stringify(document).matchAll(/"\$ref":"#\/components\/(\w+)\/(\w+)"/g)];
    expect(refs.length).toBeGreaterThan(0);
    expect(refs.filter(([, kind, name]) => !document.components[kind!]?.[name!]).map(([ref]) => ref)).toEqual([]);
  });

  it("uses one time format: every time field of an answer or a stream message is epoch milliseconds", () => {
    // Fields named like times (`at`, `…At`) in the components and the answers: integers, never
    // strings. A stress scenario's `worstAt` names a point of a historical path ("19 Oct 1987
    // close"), not an instant.
    const LABELS = ["worstAt"];
    const offenders: string[] = [];
    let checked = 0;
    const walk = (node: Json, where: string) => {
      if (!node || typeof node !== "object") return;
      for (const [name, child] of Object.entries(node.properties ?? {}) as [string, Json][]) {
        if (/^(at|ts|.+At)$/.test(name) && !LABELS.includes(name)) {
          checked++;
          const types = [child, ...(child.anyOf ?? [])].map((option: Json) => option.type ?? (option.$ref ? "ref" : undefined)).filter(Boolean);
          if (!types.includes("integer") || types.includes("string")) offenders.push(`${where}.${name}`);
        }
      }
      for (const [key, child] of Object.entries(node)) if (typeof child === "object") walk(child, `${where}.${key}`);
    };
    walk(document.components.schemas, "components");
    for (const answer of successAnswers(document)) walk(answer.content, answer.id);
    // The stream's messages too.
    const stream = asyncApiDocument() as Json;
    walk(stream.components.schemas, "asyncapi.components");
    walk(stream.channels.stream.messages, "asyncapi.messages");
    expect(offenders).toEqual([]);
    expect(checked).toBeGreaterThan(50);
  });
});

describe("the console's types generated from the document", () => {
  it("types every operation's success answer (openapi-typescript leaves none unknown)", async () => {
    expect(untypedAnswers(await apiTypes())).toEqual([]);
  });

  it("would notice an answer without a schema", async () => {
    const broken = structuredClone(document);
    broken.paths["/api/v1/firm"].get.responses["200"].content["application/json"].schema = {};
    expect(untypedAnswers(await apiTypes(broken))).toEqual(["firm 200"]);
  });

  it(`keeps ${API_TYPES_FILE} what the current document generates (npm run api:types)`, async () => {
    const committed = fs.readFileSync(path.join(root, API_TYPES_FILE), "utf8");
    expect(committed === (await apiTypes()), `${API_TYPES_FILE} is stale: run npm run api:types`).toBe(true);
  });
});

describe("Redocly's recommended rules", () => {
  const lint = async (source: Json, name: string) => {
    const config = await createConfig({ extends: ["recommended"] });
    const problems = await lintFromString({ source: JSON.stringify(source), absoluteRef: name, config });
    return problems.filter((problem) => problem.severity === "error").map((problem) => `${problem.ruleId}: ${problem.message} (${problem.location[0]?.pointer})`);
  };

  it("find no error in the OpenAPI document", async () => {
    expect(await lint(document, "openapi.json")).toEqual([]);
  });

  it("find no error in the stream's AsyncAPI document (and do check AsyncAPI 3)", async () => {
    expect(await lint(asyncApiDocument(), "asyncapi.json")).toEqual([]);
    const broken = structuredClone(asyncApiDocument()) as Json;
    broken.operations.subscribe.action = "publish";
    expect((await lint(broken, "asyncapi.json")).join("\n")).toMatch(/action/);
  });
});

describe("the stream's AsyncAPI document", () => {
  const stream = asyncApiDocument() as Json;

  it("lists the messages both ways, each operation on the one channel, every $ref resolving", () => {
    const byAction = (action: string) =>
      Object.values(stream.operations as Record<string, Json>)
        .filter((operation) => operation.action === action)
        .flatMap((operation) => operation.messages.map((message: Json) => stream.channels.stream.messages[message.$ref.split("/").at(-1)].name))
        .sort();
    expect(byAction("receive")).toEqual(["subscribe", "unsubscribe"]);
    expect(byAction("send")).toEqual(["account", "connect_error", "overview", "problem"]);
    const text = JSON.stringify(stream);
    const unresolved = [...text.matchAll(/"\$ref":"#\/([^"]+)"/g)].map(([, pointer]) => pointer!).filter((pointer) => pointer.split("/").reduce<Json>((node, key) => node?.[key], stream) === undefined);
    expect(unresolved).toEqual([]);
  });

  it("names the connect-error codes, the problems and catch-up by seq", () => {
    expect(stream.components.schemas.ConnectRefusal.oneOf ?? stream.components.schemas.ConnectRefusal.anyOf).toBeDefined();
    const codes = JSON.stringify(stream.components.schemas.ConnectRefusal);
    for (const code of ["unauthenticated", "forbidden", "too_many_requests", "unavailable"]) expect(codes).toContain(`"${code}"`);
    expect(JSON.stringify(stream.channels.stream.messages.subscribe.payload)).toContain('"lastSeq"');
    expect(stream.channels.stream.messages.subscribe.description).toMatch(/Catch-up by seq/);
    // The account message's events are the one ledger record of the API.
    expect(stream.components.schemas.AccountMessage.properties.events.items).toEqual({ $ref: "#/components/schemas/LedgerRecord" });
  });
});
