import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Endpoint, EndpointId } from "@/server/api/catalog";
import { endpoints } from "@/server/api/catalog";
import { DEMO_ACCOUNT, presetFixture, sampleIntent } from "../fixtures";
import type { RunningServer, TestDatabase } from "./harness";
import {
  adminAuth,
  databasesUnderTest,
  startServer,
} from "./harness";

/**
 * API fuzzing: every mutating endpoint of the catalog, and the reads that take path or query
 * parameters, get malformed and hostile requests as the admin (so authorization does not answer
 * first): random JSON, wrong types, huge and non-finite numbers, NUL and lone surrogates, deep
 * nesting, long strings, prototype keys, invalid UTF-8, non-JSON text, wrong content types,
 * unknown fields, hostile path segments and query strings. Whatever comes in, the server answers
 * below 500, every 4xx is problem+json with a code, a refused request appends nothing, and the
 * ledger it leaves can be read and replayed.
 *
 * Each endpoint gets a fixed corpus (one hostile value per field) and random cases from a seeded
 * generator; FUZZ_SEED=<n> repeats a run, FUZZ_RUNS=<n> sets the random cases per endpoint.
 */

const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
const RANDOM_CASES = Number(process.env.FUZZ_RUNS ?? 12);
console.log(`fuzz: fast-check seed ${seed} (FUZZ_SEED=${seed} repeats this run), ${RANDOM_CASES} random cases per endpoint`);


const databases = await databasesUnderTest("the fuzz suite");

// ---------------------------------------------------------------------------------------------
// Valid requests to start from, one per fuzzed endpoint

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any
type Base = { params?: Record<string, string>; query?: Record<string, string>; body?: Json };

const reason = { reason: "fuzz: a valid reason" };
const demo = { accountId: DEMO_ACCOUNT };

/** Fuzzed: every POST, and every GET that takes path or query parameters. */
const targets = (Object.keys(endpoints) as EndpointId[]).filter((id) => {
  const spec = endpoints[id] as Endpoint;
  return spec.method === "POST" || spec.params !== undefined || spec.query !== undefined;
});

const bases: Partial<Record<EndpointId, Base>> = {
  login: { body: { username: "fuzz-nobody", password: "fuzz-password" } },
  logout: {},
  createUser: { body: { username: "fuzz-user", password: "fuzz-user-password", role: "strategy", accounts: [DEMO_ACCOUNT] } },
  createToken: { body: { name: "fuzz-token", role: "strategy", accounts: [DEMO_ACCOUNT] } },
  revokeToken: { params: { tokenId: "00000000-0000-4000-8000-000000000000" } },
  disableUser: { params: { userId: "00000000-0000-4000-8000-000000000000" } },
  enableUser: { params: { userId: "00000000-0000-4000-8000-000000000000" } },
  resetPassword: { params: { userId: "00000000-0000-4000-8000-000000000000" }, body: { password: "fuzz-new-password" } },
  changePassword: { body: { currentPassword: "fuzz-current-password", newPassword: "fuzz-new-password" } },
  flattenAccount: { params: demo, body: reason },
  objectives: { params: demo },
  closedTrades: { params: demo, query: { limit: "10" } },
  openAccount: { body: { accountId: "fuzz-account", name: "Fuzz account", presetId: "ftmo-2step-100k", initialBalanceUsd: 100_000, execution: "external", currency: "EUR" } },
  getAccount: { params: demo },
  openAccounts: { body: { accounts: [{ accountId: "fuzz-bulk", name: "Fuzz bulk", presetId: "ftmo-2step-100k", initialBalanceUsd: 100_000, execution: "external", currency: "EUR" }] } },
  overview: { query: { limit: "5" } },
  equity: { params: demo, query: { from: "2020-01-01T00:00:00Z", to: "2999-01-01T00:00:00Z", points: "100" } },
  reopenAccount: { params: demo, body: reason },
  enterReducing: { params: demo, body: reason },
  endReducing: { params: demo, body: reason },
  tripBreaker: { params: { accountId: DEMO_ACCOUNT, breaker: "manual" }, body: reason },
  resetBreaker: { params: { accountId: DEMO_ACCOUNT, breaker: "manual" }, body: reason },
  listVetoes: { params: demo },
  lockSymbol: { params: demo, body: { symbol: "EURUSD", reason: "fuzz: lock", expiresAt: "2999-01-01T00:00:00Z" } },
  unlockSymbol: { params: { accountId: DEMO_ACCOUNT, symbol: "EURUSD" }, body: reason },
  unlockSide: { params: { accountId: DEMO_ACCOUNT, side: "BUY" }, body: reason },
  submitIntent: {
    body: sampleIntent("fuzz-intent", { limitPrice: 1.09, slPrice: 1.08, tpPrice: 1.1, referencePrice: 1.085, stats: { winRate: 0.5, winLossRatio: 1.5 } }),
  },
  recordFills: { body: { fills: [{ accountId: DEMO_ACCOUNT, intentId: "fuzz-fill", symbol: "EURUSD", side: "BUY", quantity: 0.01, price: 1.085, feeUsd: 1, trigger: "order" }] } },
  recordMarket: {
    body: {
      ticks: [{ symbol: "EURUSD", price: 1.085 }],
      books: [{ symbol: "EURUSD", bids: [{ price: 1.084, size: 5 }], asks: [{ price: 1.086, size: 5 }] }],
      bars: [{ symbol: "EURUSD", closedAt: "2020-01-01T00:00:00Z", open: 1.08, high: 1.09, low: 1.07, close: 1.085, volume: 1000 }],
    },
  },
  decisions: { query: { accountId: DEMO_ACCOUNT, limit: "10" } },
  explainDecision: { params: { seq: "1" }, query: { accountId: DEMO_ACCOUNT } },
  createPreset: { body: { preset: { ...presetFixture("fuzz-preset"), rules: { accountRules: { dailyLossPct: 4 } } }, note: "fuzz: a preset" } },
  validatePreset: { body: presetFixture("fuzz-validate") },
  getPreset: { params: { presetId: "ftmo-2step-100k" } },
  addPresetVersion: { params: { presetId: "ftmo-2step-100k" }, body: { preset: { ...presetFixture("ftmo-2step-100k"), description: "fuzz" }, note: "fuzz: a version" } },
  getPresetVersion: { params: { presetId: "ftmo-2step-100k", version: "1" } },
  activatePreset: { params: demo, body: { presetId: "ftmo-2step-100k", version: 1, reason: "fuzz: activate" } },
  dryRunPreset: { params: demo, body: { presetId: "ftmo-2step-100k", decisions: 20 } },
  haltFirm: { body: reason },
  resumeFirm: { body: reason },
  ledger: { query: { afterSeq: "0", limit: "10", accountId: DEMO_ACCOUNT } },
  ledgerExport: { query: { accountId: DEMO_ACCOUNT } },
  createBacktest: { body: { dataset: "msft-2000-2001-daily", preset: "ftmo-2step-100k", strategy: "buy-and-hold", risk: "on", seed: 1, balance: 100_000, currency: "EUR" } },
  getBacktest: { params: { backtestId: "00000000-0000-4000-8000-000000000000" } },
  backtestLedger: { params: { backtestId: "00000000-0000-4000-8000-000000000000" } },
  backtestReplay: { params: { backtestId: "00000000-0000-4000-8000-000000000000" } },
};

// ---------------------------------------------------------------------------------------------
// What is sent

type Case = { label: string; method: string; path: string; headers: Record<string, string>; body?: string | Uint8Array<ArrayBuffer> };

/** A JSON literal written as is (1e999, NaN, deep nesting), where JSON.stringify cannot. */
class Raw {
  constructor(readonly text: string) {}
}

function toText(value: Json): string {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_key, inner) => (inner instanceof Raw ? `@@raw${raws.push(inner.text) - 1}@@` : inner));
  return (text ?? "null").replace(/"@@raw(\d+)@@"/g, (_, index: string) => raws[Number(index)]!);
}

/** Percent-encodes a segment byte by byte (lone surrogates become U+FFFD, as a browser would send them). */
function encodeSegment(segment: string): string {
  return [...new TextEncoder().encode(segment)].map((byte) => (/[A-Za-z0-9.\-_~]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`)).join("");
}

/** `.` and `..` (however encoded) are resolved away by URL parsing: they would name another route. */
const dotSegment = (segment: string) => /^(\.|%2e){1,2}$/i.test(segment);

function pathOf(spec: Endpoint, params: Record<string, string>, raw: Record<string, string> = {}): string {
  return spec.path.replace(/\{(\w+)\}/g, (_, name: string) => raw[name] ?? encodeSegment(params[name]!));
}

function queryOf(query: Record<string, string> | string | undefined): string {
  if (query === undefined) return "";
  const text = typeof query === "string" ? query : new URLSearchParams(Object.entries(query)).toString();
  return text ? `?${text}` : "";
}

function jsonCase(label: string, spec: Endpoint, base: Base, body: Json, extra: Partial<Case> = {}): Case {
  const text = body === undefined ? undefined : body instanceof Raw ? body.text : toText(body);
  return {
    label,
    method: spec.method,
    path: pathOf(spec, base.params ?? {}) + queryOf(base.query),
    headers: text === undefined ? {} : { "content-type": "application/json" },
    body: text,
    ...extra,
  };
}

/** The paths to every leaf (string, number, boolean, null) of a JSON value. */
function leaves(value: Json, at: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return value.flatMap((item, index) => leaves(item, [...at, index]));
  if (value !== null && typeof value === "object") return Object.entries(value).flatMap(([key, item]) => leaves(item, [...at, key]));
  return [at];
}

function valueAt(value: Json, path: (string | number)[]): Json {
  return path.reduce((inner, key) => inner?.[key], value);
}

/** A copy of `value` with `replacement` at `path`; own properties even for `__proto__`. */
function withValue(value: Json, path: (string | number)[], replacement: Json): Json {
  if (path.length === 0) return replacement;
  const copy = structuredClone(value);
  const parent = valueAt(copy, path.slice(0, -1));
  Object.defineProperty(parent, path[path.length - 1]!, { value: replacement, enumerable: true, writable: true, configurable: true });
  return copy;
}

const NUL = "fuzz\u0000nul";
const LONE_SURROGATE = "fuzz\ud800half";
const HUGE = 1e308;

// Hostile values for one field.
const rawNumbers = ["1e999", "-1e999", `1${"0".repeat(400)}`, "NaN", "Infinity", "-Infinity", "-0", "1e-400", "01", ".5", "+1", "0x1F", "1_000"];
const hostileValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(null, true, false, 0, -0, -1, HUGE, -HUGE, 5e-324, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER, [], {}, [null], { reason: "nested" }),
  fc.constantFrom("", " ", "  \t\n ", "NaN", "Infinity", "-Infinity", "1e999", "0x10", "null", "undefined", "true", "__proto__", "constructor"),
  fc.constantFrom(NUL, "\u0000", LONE_SURROGATE, "\udfff", "\ud83d", "\u202eevil", "\ufeffbom", "💥💥💥", "<script>alert(1)</script>", "'; DROP TABLE ledger_events; --", "../../../etc/passwd", "%00", "${jndi:ldap://x/a}"),
  fc.constantFrom(...rawNumbers).map((text) => new Raw(text)),
  fc.double(),
  fc.integer(),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.integer({ min: 1_000, max: 300_000 }).map((length) => "x".repeat(length)),
  fc.integer({ min: 100, max: 20_000 }).map((depth) => new Raw("[".repeat(depth) + "]".repeat(depth))),
  fc.integer({ min: 100, max: 5_000 }).map((depth) => new Raw('{"a":'.repeat(depth) + "1" + "}".repeat(depth))),
);

const hostileKey = fc.oneof(
  fc.constantFrom("__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "valueOf", "role", "admin", "by", "seq", "$where", ""),
  fc.string({ unit: "binary", maxLength: 20 }),
);

const rawBodies = [
  "", " ", "null", "NaN", "Infinity", "undefined", "true", "0", '""', "[]", "{", "}", "[", '{"reason":', "{'reason': 'single quotes'}",
  '{"reason": "trailing comma",}', '{"reason": "c" /* comment */}', '{"reason":"a"}{"reason":"b"}', '\ufeff{"reason":"a bom"}', "\u0000",
  '{"reason":"dup key","reason":7}', '{"__proto__":{"isAdmin":true},"reason":"proto"}', '{"constructor":{"prototype":{"isAdmin":true}},"reason":"ctor"}',
];

const contentTypes = [
  "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=----fuzz", "application/xml", "application/json; charset=utf-16",
  "application/json; charset=latin1", "APPLICATION/JSON", "application/problem+json", "application/vnd.riskgate+json", "application/jsonp",
  "application/json, text/plain", "*/*", "json", "application/", "application/json;;;",
];

const invalidUtf8: number[][] = [[0xff], [0xfe, 0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80, 0x80]];

const rawSegments = ["%ff", "%", "%zz", "%c0%ae", "%ed%a0%80", "%00", "%2f", "%2F..%2F", "%5c", "%252e%252e", "%uD800", "%E2%80%AE", "%F0%9F%92%A5", "%20", "%0d%0a", "a%00b", "null", "__proto__", "constructor", "NaN", "-1", "1e999", "manual%00", "x".repeat(300)];
const hostileSegment = fc.oneof(
  fc.constantFrom(...rawSegments),
  fc.string({ unit: "binary", minLength: 1, maxLength: 80 }).map(encodeSegment),
  fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 20 }).map(encodeSegment),
).filter((segment) => !dotSegment(segment));

const queryValue = fc.oneof(
  fc.constantFrom("", "NaN", "Infinity", "-1", "0", "-0", "1e999", "9007199254740993", "0x10", "1.5", " 5 ", "null", "true", "[]", "\u0000", LONE_SURROGATE, DEMO_ACCOUNT, "demo-e8-50k", "x".repeat(5_000)),
  fc.string({ unit: "binary", maxLength: 30 }),
  fc.integer().map(String),
);
const rawQueries = ["limit=1&limit=2", "%=%", "a=%ff", "limit=%ff", "accountId=%00", "&&&", "=", "limit", "limit=", "afterSeq=-0", "afterSeq=1e20", "points=1.5", "from=2020-13-45T00:00:00Z", `to=${"9".repeat(1_000)}`, "__proto__=1", "constructor[prototype][x]=1", "limit[]=1"];

/** Random hostile requests for one endpoint, all but one part of them valid. */
function randomCases(spec: Endpoint, base: Base): fc.Arbitrary<Case> {
  const params = Object.keys(base.params ?? {});
  const queryKeys = spec.query ? Object.keys((spec.query as Json).shape ?? {}) : [];
  const baseText = base.body === undefined ? "{}" : toText(base.body);
  const baseBody = base.body ?? {};
  const bodyLeaves = leaves(baseBody);
  const kinds: fc.Arbitrary<Case>[] = [];

  if (params.length > 0) {
    kinds.push(
      fc.tuple(fc.nat(params.length - 1), hostileSegment).map(([index, segment]) => ({
        ...jsonCase(`path: ${params[index]}=${segment.slice(0, 60)}`, spec, base, base.body),
        path: pathOf(spec, base.params!, { [params[index]!]: segment }) + queryOf(base.query),
      })),
    );
  }
  if (spec.query) {
    const key = fc.oneof(fc.constantFrom(...queryKeys, "__proto__", "constructor", "limit[]", "accountId[$ne]"), fc.string({ maxLength: 10 }));
    kinds.push(
      fc.oneof(
        fc.dictionary(key, queryValue, { maxKeys: 4 }).map((query) => ({ ...base.query, ...query })),
        fc.constantFrom(...rawQueries),
      ).map((query) => ({ ...jsonCase(`query: ${JSON.stringify(query).slice(0, 80)}`, spec, base, base.body), path: pathOf(spec, base.params ?? {}) + queryOf(query) })),
    );
  }
  if (spec.method === "POST") {
    kinds.push(
      // Wrong types and hostile values in one to three fields (or the whole body).
      fc.array(fc.tuple(fc.nat(), hostileValue), { minLength: 1, maxLength: 3 }).map((edits) => {
        const body = edits.reduce((body, [index, value]) => withValue(body, bodyLeaves[index % bodyLeaves.length] ?? [], value), baseBody);
        return jsonCase(`fields: ${edits.map(([index]) => (bodyLeaves[index % bodyLeaves.length] ?? []).join(".")).join(", ")}`, spec, base, body);
      }),
      // Unknown and prototype keys, at the top or inside.
      fc.tuple(fc.nat(), hostileKey, hostileValue).map(([index, key, value]) => {
        const leaf = bodyLeaves[index % bodyLeaves.length] ?? [];
        const parent = leaf.length > 0 && typeof valueAt(baseBody, leaf.slice(0, -1)) === "object" && !Array.isArray(valueAt(baseBody, leaf.slice(0, -1))) ? leaf.slice(0, -1) : [];
        return jsonCase(`extra key: ${JSON.stringify(key)} at ${parent.join(".") || "(body)"}`, spec, base, withValue(baseBody, [...parent, key], value));
      }),
      fc.jsonValue({ maxDepth: 4 }).map((body) => jsonCase("random JSON", spec, base, body)),
      fc.oneof(
        fc.constantFrom(...rawBodies),
        fc.string({ unit: "binary", maxLength: 200 }),
        fc.nat().map((cut) => baseText.slice(0, cut % baseText.length)),
        fc.tuple(fc.nat(), fc.string({ unit: "binary", minLength: 1, maxLength: 3 })).map(([at, text]) => baseText.slice(0, at % baseText.length) + text + baseText.slice(at % baseText.length)),
      ).map((text) => jsonCase(`text: ${JSON.stringify(text.slice(0, 60))}`, spec, base, new Raw(text))),
      fc.tuple(fc.nat(), fc.constantFrom(...invalidUtf8)).map(([at, bytes]) => {
        const encoded = new TextEncoder().encode(baseText);
        const cut = at % (encoded.length + 1);
        const body = new Uint8Array([...encoded.slice(0, cut), ...bytes, ...encoded.slice(cut)]);
        return { ...jsonCase(`invalid UTF-8: ${bytes.map((byte) => byte.toString(16)).join(" ")} at byte ${cut}`, spec, base, base.body), body };
      }),
      fc.constantFrom(...contentTypes).map((type) => ({ ...jsonCase(`content-type: ${type}`, spec, base, base.body ?? {}), headers: { "content-type": type } })),
      // Header values fetch can send: visible ASCII and Latin-1.
      fc.oneof(fc.constantFrom("", " ", "x".repeat(201), "é", "a b", "\u00ff\u00fe"), fc.string({ unit: "grapheme-ascii", maxLength: 30 }))
        .filter((key) => /^[\x20-\x7e\xa0-\xff]*$/.test(key))
        .map((key) => ({
          ...jsonCase(`Idempotency-Key: ${JSON.stringify(key.slice(0, 30))}`, spec, base, base.body),
          headers: { "content-type": "application/json", "idempotency-key": key },
        })),
    );
  }
  return fc.oneof(...kinds);
}

/** The fixed corpus: each hostile value in each field, and what every endpoint must survive. */
function corpus(spec: Endpoint, base: Base): Case[] {
  const cases: Case[] = [];
  const params = Object.keys(base.params ?? {});
  for (const name of params) {
    for (const segment of ["%ff", "%ed%a0%80", "__proto__"]) {
      cases.push({ ...jsonCase(`path: ${name}=${segment}`, spec, base, base.body), path: pathOf(spec, base.params!, { [name]: segment }) + queryOf(base.query) });
    }
  }
  if (spec.query) {
    for (const query of ["limit=1e999", "__proto__=1", "a=%ff", "accountId=%00"]) {
      cases.push({ ...jsonCase(`query: ${query}`, spec, base, base.body), path: pathOf(spec, base.params ?? {}) + queryOf(query) });
    }
  }
  if (spec.method !== "POST") return cases;
  const body = base.body ?? {};
  for (const leaf of leaves(body)) {
    const value = valueAt(body, leaf);
    const field = leaf.join(".");
    if (typeof value === "string") {
      cases.push(jsonCase(`NUL: in ${field}`, spec, base, withValue(body, leaf, `${value}\u0000`)));
      cases.push(jsonCase(`lone surrogate: in ${field}`, spec, base, withValue(body, leaf, `${value}\ud800`)));
    }
    if (typeof value === "number") {
      cases.push(jsonCase(`1e308: in ${field}`, spec, base, withValue(body, leaf, HUGE)));
    }
  }
  const numbers = leaves(body).filter((leaf) => typeof valueAt(body, leaf) === "number");
  if (numbers.length > 1) cases.push(jsonCase("1e308: in every number", spec, base, numbers.reduce((inner, leaf) => withValue(inner, leaf, HUGE), body)));
  cases.push(
    jsonCase("__proto__ and constructor keys", spec, base, new Raw(`{"__proto__":{"role":"admin"},"constructor":{"prototype":{"role":"admin"}},${toText(body).slice(1)}`.replace(/,}$/, "}"))),
    jsonCase("an unknown field", spec, base, withValue(body, ["unexpected"], 1)),
    jsonCase("nested 50 000 deep", spec, base, new Raw("[".repeat(50_000) + "]".repeat(50_000))),
    jsonCase("a 3 MB body", spec, base, withValue(body, ["padding"], "x".repeat(3 * 1024 * 1024))),
    jsonCase("not JSON", spec, base, new Raw("reason=fuzz")),
    { ...jsonCase("text/plain", spec, base, body), headers: { "content-type": "text/plain" } },
    { ...jsonCase("invalid UTF-8", spec, base, body), body: new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]) },
  );
  return cases;
}

// ---------------------------------------------------------------------------------------------

type Outcome = { status: number; type: string; text: string };

async function sendCase(base: string, call: Case): Promise<Outcome> {
  const response = await fetch(`${base}${call.path}`, {
    method: call.method,
    headers: { ...adminAuth, ...call.headers },
    body: call.method === "GET" ? undefined : call.body,
    redirect: "manual",
    signal: AbortSignal.timeout(20_000),
  });
  return { status: response.status, type: response.headers.get("content-type") ?? "", text: await response.text() };
}

function describeCase(call: Case, outcome: Outcome | null, problem: string): string {
  const body = call.body === undefined ? "" : typeof call.body === "string" ? call.body : `bytes ${Buffer.from(call.body).toString("hex")}`;
  const shownBody = body.length > 240 ? `${body.slice(0, 240)}… (${body.length} chars)` : body;
  const answer = outcome ? `${outcome.status} ${outcome.type} ${outcome.text.slice(0, 240)}` : "no answer";
  return `${problem} [${call.label}]\n    ${call.method} ${call.path.slice(0, 200)} ${JSON.stringify(call.headers)} ${JSON.stringify(shownBody)}\n    -> ${answer}`;
}

for (const database of databases) {
  describe.skipIf(database.skip)(`fuzzing the API on ${database.name}`, () => {
    let db: TestDatabase;
    let server: RunningServer;
    const statuses = new Map<number, number>();

    const seq = async (): Promise<number> => {
      // Health shows the seq to callers who may read the firm's figures (the admin).
      const response = await fetch(`${server.url}/api/health`, { headers: adminAuth });
      expect(response.status, "the server stopped answering health").toBe(200);
      return ((await response.json()) as { seq: number }).seq;
    };

    beforeAll(async () => {
      db = await database.create();
      server = await startServer(db.env);
    });

    afterAll(async () => {
      const counted = [...statuses].sort(([a], [b]) => a - b).map(([status, count]) => `${status}×${count}`);
      console.log(`fuzz on ${database.name} (seed ${seed}): ${[...statuses.values()].reduce((a, b) => a + b, 0)} requests, ${counted.join(" ")}`);
      await server?.stop("SIGTERM");
      await db?.cleanup();
    });

    it.each(targets)("%s answers hostile input below 500, as problem+json, and records nothing it refuses", async (id) => {
      const spec = endpoints[id] as Endpoint;
      const base = bases[id];
      expect(base, `no valid request to fuzz ${id} from: add one to the table`).toBeDefined();
      const cases = [...corpus(spec, base!), ...fc.sample(randomCases(spec, base!), { seed: seed + targets.indexOf(id), numRuns: RANDOM_CASES })];
      // Failures by kind of input, status and code: the first example of each, and how many.
      const failures = new Map<string, { example: string; count: number }>();
      const fail = (call: Case, outcome: Outcome | null, problem: string, code?: unknown) => {
        const key = `${call.label.split(":")[0]} | ${problem} | ${String(code ?? "")}`;
        const seen = failures.get(key);
        if (seen) seen.count++;
        else failures.set(key, { example: describeCase(call, outcome, problem), count: 1 });
      };

      for (const call of cases) {
        const before = await seq();
        let outcome: Outcome;
        try {
          outcome = await sendCase(server.url, call);
        } catch (error) {
          fail(call, null, `no answer (${(error as Error).message})`);
          continue;
        }
        statuses.set(outcome.status, (statuses.get(outcome.status) ?? 0) + 1);
        const after = await seq();
        const code = outcome.type === "application/problem+json" ? (JSON.parse(outcome.text) as { code?: unknown }).code : undefined;
        if (outcome.status >= 500) fail(call, outcome, `${outcome.status}`, code ?? outcome.type);
        else if (outcome.status >= 400 && (outcome.type !== "application/problem+json" || typeof code !== "string")) {
          fail(call, outcome, `${outcome.status} without problem+json and a code`, outcome.type);
        }
        if ((outcome.status < 200 || outcome.status >= 300) && after !== before) {
          fail(call, outcome, `refused with ${outcome.status} but the ledger moved ${before} -> ${after}`);
        }
        if (outcome.status < 300 && after !== before) {
          // What was accepted must read back: the ledger's reader parses every event as replay does.
          const appended = await fetch(`${server.url}/api/v1/ledger?afterSeq=${before}&limit=1000`, { headers: adminAuth });
          const text = await appended.text();
          if (appended.status !== 200) fail(call, outcome, `accepted, but its events do not read back: ${appended.status} ${text.slice(0, 300)}`);
        }
      }
      const report = [...failures.values()].map(({ example, count }) => `${example}\n    (${count} case${count === 1 ? "" : "s"} like it)`);
      expect(report, `${failures.size} kinds of failure for ${id} in ${cases.length} cases (seed ${seed}):\n  ${report.join("\n  ")}\n`).toEqual([]);
    });

    it("is still up afterwards, serves its whole ledger, and replays it after a restart", async () => {
      const health = await fetch(`${server.url}/api/health`, { headers: adminAuth });
      expect(health.status).toBe(200);
      const lastSeq = ((await health.json()) as { seq: number }).seq;

      let afterSeq: number | null = 0;
      while (afterSeq !== null) {
        const page: Response = await fetch(`${server.url}/api/v1/ledger?afterSeq=${afterSeq}&limit=1000`, { headers: adminAuth });
        const text = await page.text();
        expect.soft(page.status, `reading the ledger after seq ${afterSeq}: ${text.slice(0, 400)}`).toBe(200);
        afterSeq = page.status === 200 ? (JSON.parse(text) as { nextAfterSeq: number | null }).nextAfterSeq : null;
      }

      await server.stop("SIGTERM");
      server = await startServer(db.env);
      const restarted = await fetch(`${server.url}/api/health`, { headers: adminAuth });
      expect(restarted.status).toBe(200);
      expect(((await restarted.json()) as { seq: number }).seq).toBeGreaterThanOrEqual(lastSeq);
    });
  });
}
