import { describe, expect, it } from "vitest";
import { ReasonBody } from "@/server/api/schemas";
import { loadConfig } from "@/server/config";
import { Intent } from "@/server/engine/intent";

const valid = {
  intentId: "i-1",
  accountId: "acc-1",
  symbol: "EURUSD",
  action: "OPEN",
  side: "BUY",
  quantity: 1,
  provenance: { runId: "run-1", strategyId: "momentum", regimeId: "calm" },
};

function failingPaths(input: unknown): string[] {
  const parsed = Intent.safeParse(input);
  return parsed.success ? [] : parsed.error.issues.map((issue) => issue.path.join("."));
}

describe("intent parsing at the boundary", () => {
  it("accepts a complete intent", () => {
    expect(Intent.safeParse(valid).success).toBe(true);
  });

  it.each([
    ["NaN", { ...valid, quantity: Number.NaN }, "quantity"],
    ["Infinity", { ...valid, quantity: Number.POSITIVE_INFINITY }, "quantity"],
    ["a negative quantity", { ...valid, quantity: -1 }, "quantity"],
    ["a zero quantity", { ...valid, quantity: 0 }, "quantity"],
    ["a quantity as a string", { ...valid, quantity: "1" }, "quantity"],
    ["a negative stop price", { ...valid, slPrice: -5 }, "slPrice"],
    ["an unknown action", { ...valid, action: "YOLO" }, "action"],
    ["a lower-case symbol", { ...valid, symbol: "eurusd" }, "symbol"],
    ["a missing provenance field", { ...valid, provenance: { runId: "r", strategyId: "s" } }, "provenance.regimeId"],
    ["an unknown field", { ...valid, leverage: 100 }, ""],
    ["neither quantity nor targetWeight", { ...valid, quantity: undefined }, "quantity"],
  ])("rejects %s, naming the field", (_label, input, path) => {
    expect(failingPaths(input)).toContain(path);
  });

  it("rejects every missing required field by name", () => {
    expect(failingPaths({})).toEqual(
      expect.arrayContaining(["intentId", "accountId", "symbol", "action", "side", "provenance"]),
    );
  });

  it("lets FLATTEN omit the quantity", () => {
    expect(Intent.safeParse({ ...valid, action: "FLATTEN", quantity: undefined }).success).toBe(true);
  });

  it("requires a breaker reason of at least 3 characters after trimming", () => {
    expect(ReasonBody.safeParse({ reason: "  ok " }).success).toBe(false);
    expect(ReasonBody.safeParse({}).success).toBe(false);
    expect(ReasonBody.safeParse({ reason: "FOMC release" }).data).toEqual({ reason: "FOMC release" });
  });
});

describe("configuration", () => {
  it("defaults to the embedded database on port 3000 with the demo on", () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.database.kind).toBe("embedded");
    expect(config.demo).toBe("live");
  });

  it("reads RISKGATE_DEMO as live, accounts only, or off", () => {
    expect(loadConfig({ RISKGATE_DEMO: "accounts" }).demo).toBe("accounts");
    expect(loadConfig({ RISKGATE_DEMO: "0" }).demo).toBe("off");
    expect(loadConfig({ RISKGATE_DEMO: "on" }).demo).toBe("live");
    expect(() => loadConfig({ RISKGATE_DEMO: "maybe" })).toThrow(/RISKGATE_DEMO/);
  });

  it("bounds the book's equity history at 512 MiB unless RISKGATE_EQUITY_HISTORY_MB says otherwise", () => {
    expect(loadConfig({}).equityHistoryBytes).toBe(512 * 1024 * 1024);
    expect(loadConfig({ RISKGATE_EQUITY_HISTORY_MB: "2048" }).equityHistoryBytes).toBe(2048 * 1024 * 1024);
  });

  it("switches to PostgreSQL when DATABASE_URL is set", () => {
    expect(loadConfig({ DATABASE_URL: "postgresql://u@h:5432/db" }).database).toEqual({
      kind: "postgresql",
      url: "postgresql://u@h:5432/db",
    });
  });

  it.each([
    ["PORT", "abc"],
    ["PORT", "70000"],
    ["DATABASE_URL", "mysql://x"],
    ["RISKGATE_DEMO", "maybe"],
    ["RISKGATE_EQUITY_HISTORY_MB", "0"],
    ["RISKGATE_EQUITY_HISTORY_MB", "lots"],
  ])("stops on a bad %s, naming the variable", (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^invalid configuration:\\n  ${name}: `));
  });
});
