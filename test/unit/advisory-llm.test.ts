import type { IncomingMessage, ServerResponse } from "node:http";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createLlmReviewer } from "@/server/advisory/llm-reviewer";
import { accountId, given, intent, opened, priced } from "./given";
import { accountView } from "@/server/engine/views";
import type { Decision } from "@/server/engine/types";
import type { ReviewRequest } from "@/server/reviewer";
import { obtainReview } from "@/server/reviewer";
import type { Memo } from "@/server/advisory/memo";

// A local OpenAI-compatible endpoint: each test says how it answers.
type Seen = { url: string; authorization: string | undefined; body: { model: string; response_format: unknown; messages: { role: string; content: string }[] } };
let answer: (req: IncomingMessage, res: ServerResponse) => void;
const seen: Seen[] = [];
const closed: Promise<void>[] = [];
const server = http.createServer((req, res) => {
  let raw = "";
  req.on("data", (chunk: Buffer) => (raw += chunk.toString()));
  req.on("end", () => {
    seen.push({ url: req.url!, authorization: req.headers.authorization, body: JSON.parse(raw) });
    closed.push(new Promise((resolve) => res.on("close", () => resolve())));
    answer(req, res);
  });
});
let baseUrl = "";
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  seen.length = 0;
  closed.length = 0;
});

const completion = (content: string | null) => (_: IncomingMessage, res: ServerResponse) => {
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify({ id: "c-1", object: "chat.completion", choices: [{ index: 0, message: { role: "assistant", content } }] }));
};

const state = given(opened, priced);
const i = intent({ quantity: 2, referencePrice: 1.1 });
const decision: Decision = { intentId: i.intentId, accountId, outcome: "allowed", approvedQuantity: 2, guard: null, reason: null, observed: null, limit: null, advisories: [] };
const request: ReviewRequest = { intent: i, decision, account: accountView(state.accounts.get(accountId)!, state) };
const memo = { version: 1, seed: 7, chaos: { status: "skipped", reason: "test" } } as unknown as Memo;
const reviewer = () => createLlmReviewer({ baseUrl, model: "red-team-1", apiKey: "sk-test", memoOf: () => memo });

describe("LLM reviewer", () => {
  it("given a veto then obtainReview records it, and the model saw the red-team brief, intent, decision and memo", async () => {
    answer = completion(JSON.stringify({ veto: true, kill_reason: "flash crash ruin 100%", risk_flags: ["position 2.2x equity"] }));
    const outcome = await obtainReview(reviewer(), request, 2_000);
    expect(outcome).toEqual({ status: "verdict", reviewer: "llm:red-team-1", veto: true, killReason: "flash crash ruin 100%", riskFlags: ["position 2.2x equity"] });
    const [call] = seen;
    expect(call!.url).toBe("/v1/chat/completions");
    expect(call!.authorization).toBe("Bearer sk-test");
    expect(call!.body.model).toBe("red-team-1");
    expect(call!.body.response_format).toEqual({ type: "json_object" });
    expect(call!.body.messages[0]).toMatchObject({ role: "system", content: expect.stringMatching(/red team.*KILL/s) });
    const user = JSON.parse(call!.body.messages[1]!.content);
    expect(user).toMatchObject({ intent: { intentId: "i-1", quantity: 2 }, decision: { outcome: "allowed" }, account: { equity: 100_000 }, memo: { seed: 7 } });
  });

  it("given an allow then the verdict has no veto", async () => {
    answer = completion(JSON.stringify({ veto: false, kill_reason: null, risk_flags: [] }));
    expect(await obtainReview(reviewer(), request, 2_000)).toEqual({ status: "verdict", reviewer: "llm:red-team-1", veto: false, killReason: null, riskFlags: [] });
  });

  it("given malformed answers then the review fails, naming what was wrong", async () => {
    const cases: [string | null, RegExp][] = [
      ["I would veto this trade.", /the answer is not JSON/],
      [JSON.stringify({ veto: "yes", kill_reason: null, risk_flags: [] }), /malformed verdict \(veto: /],
      [JSON.stringify({ veto: false, kill_reason: null }), /malformed verdict \(risk_flags: /],
      [JSON.stringify({ veto: true, kill_reason: null, risk_flags: [] }), /kill_reason: required when veto is true/],
      [JSON.stringify({ veto: false, kill_reason: null, risk_flags: [], extra: 1 }), /malformed verdict/],
      [null, /no content/],
    ];
    for (const [content, detail] of cases) {
      answer = completion(content);
      const outcome = await obtainReview(reviewer(), request, 2_000);
      expect(outcome).toMatchObject({ status: "failed", reviewer: "llm:red-team-1", detail: expect.stringMatching(detail) });
    }
    answer = (_, res) => res.writeHead(500).end("upstream down");
    expect(await obtainReview(reviewer(), request, 2_000)).toMatchObject({ status: "failed", detail: "LLM reviewer: HTTP 500 from the endpoint" });
  });

  it("given an endpoint that never answers then fails within the timeout and aborts the request", async () => {
    answer = () => {}; // hold the request open
    const started = performance.now();
    const outcome = await obtainReview(reviewer(), request, 200);
    const elapsedMs = performance.now() - started;
    expect(outcome).toEqual({ status: "failed", reviewer: "llm:red-team-1", detail: "no verdict within 200 ms" });
    expect(elapsedMs).toBeLessThan(1_000);
    // The abort reached the connection: the server sees it closed.
    await expect(Promise.race([closed[0]!.then(() => "closed"), new Promise((resolve) => setTimeout(() => resolve("still open"), 1_000))])).resolves.toBe("closed");
  });
});
