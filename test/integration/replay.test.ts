import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { Command } from "@/server/engine/decide";
import { decide } from "@/server/engine/decide";
import type { EngineEvent } from "@/server/engine/events";
import { evolve } from "@/server/engine/state";
import { toNdjsonLine } from "@/server/event-format";
import { accountId, configured, given, intent, opened, priced } from "../unit/given";
import { root, tempDir } from "./harness";

/** Runs `npm run replay`'s script on an NDJSON text. */
function runReplay(ndjson: string) {
  const file = path.join(tempDir("riskgate-replay-"), "events.ndjson");
  fs.writeFileSync(file, ndjson);
  const result = spawnSync(process.execPath, ["--import", "tsx", "server/cli/replay.ts", file], { cwd: root, encoding: "utf8" });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

/** A recorded stream made by the real engine: halts, locks, denials of several guards. */
function recordedStream(): EngineEvent[] {
  const start = [configured(), opened, priced];
  let state = given(...start);
  const ledger: EngineEvent[] = [...start];
  const commands: Command[] = [
    { type: "SubmitIntent", at: 3_000, intent: intent({ intentId: "a" }) },
    { type: "SubmitIntent", at: 3_100, intent: intent({ intentId: "b", referencePrice: 1.3 }) },
    { type: "TripBreaker", at: 3_200, accountId, breaker: "manual", reason: "halt", by: "rm" },
    { type: "SubmitIntent", at: 3_300, intent: intent({ intentId: "c" }) },
    { type: "SubmitIntent", at: 3_400, intent: intent({ intentId: "d", action: "CLOSE", side: "SELL" }) },
    { type: "ResetBreaker", at: 3_500, accountId, breaker: "manual", reason: "clear", by: "rm" },
    { type: "SubmitIntent", at: 20_000, intent: intent({ intentId: "e" }) },
  ];
  for (const command of commands) {
    const result = decide(command, state);
    if (!result.ok) throw new Error(JSON.stringify(result.rejection));
    ledger.push(...result.events);
    state = result.events.reduce(evolve, state);
  }
  return ledger;
}

const toNdjson = (events: EngineEvent[]) => events.map((event, i) => toNdjsonLine({ seq: i + 1, recordedAt: event.at, event })).join("\n") + "\n";
/** The line shape of exports made before issue 19: `{seq, ts (ISO 8601), type, payload}`. */
const toLegacyNdjson = (events: EngineEvent[]) =>
  events.map(({ type, at, ...payload }, i) => JSON.stringify({ seq: i + 1, ts: new Date(at).toISOString(), type, payload })).join("\n") + "\n";

describe("npm run replay", () => {
  it("reproduces every decision of a recorded stream and prints counts and a state hash", () => {
    const { code, output } = runReplay(toNdjson(recordedStream()));
    expect(output).toContain("events: 15");
    expect(output).toContain("decisions: 5");
    expect(output).toContain("mismatches: 0");
    expect(output).toMatch(/state sha256: [0-9a-f]{64}/);
    expect(code).toBe(0);
  });

  it("writes each line as a ledger record, the shape of a ledger page's events", () => {
    const [first] = toNdjson(recordedStream()).split("\n");
    const line = JSON.parse(first!);
    expect(Object.keys(line)).toEqual(["seq", "recordedAt", "event"]);
    expect(line).toMatchObject({ seq: 1, recordedAt: expect.any(Number), event: { type: expect.any(String), at: expect.any(Number) } });
  });

  it("still replays an export in the earlier line shape, to the same state hash", () => {
    const hash = (output: string) => /state sha256: ([0-9a-f]{64})/.exec(output)?.[1];
    const legacy = runReplay(toLegacyNdjson(recordedStream()));
    expect(legacy.output).toContain("mismatches: 0");
    expect(legacy.code).toBe(0);
    expect(hash(legacy.output)).toBe(hash(runReplay(toNdjson(recordedStream())).output));
  });

  it("prints the same state hash for the same stream every time", () => {
    const text = toNdjson(recordedStream());
    const hash = (output: string) => /state sha256: ([0-9a-f]{64})/.exec(output)?.[1];
    expect(hash(runReplay(text).output)).toBe(hash(runReplay(text).output));
  });

  it("reports exactly the one decision that was edited, and exits 1", () => {
    const events = recordedStream();
    const index = events.findIndex((e) => e.type === "intent.decided" && e.decision.intentId === "a");
    const edited = events[index]!;
    if (edited.type !== "intent.decided" || edited.decision.outcome !== "allowed") throw new Error("fixture changed");
    events[index] = { ...edited, decision: { ...edited.decision, approvedQuantity: 99 } };
    const { code, output } = runReplay(toNdjson(events));
    expect(output).toContain("mismatches: 1");
    expect(output.match(/^mismatch at seq/gm)).toHaveLength(1);
    expect(output).toContain(`mismatch at seq ${index + 1} (intent a)`);
    expect(code).toBe(1);
  });

  it("names the malformed line and exits 2", () => {
    const lines = toNdjson(recordedStream()).split("\n");
    lines[3] = lines[3]!.replace('"quantity":1', '"quantity":"lots"');
    const { code, output } = runReplay(lines.join("\n"));
    expect(output).toMatch(/events\.ndjson:4: event\.intent\.quantity: /);
    expect(code).toBe(2);
    expect(runReplay("{not json}\n").output).toMatch(/:1: not JSON/);
  });
});
