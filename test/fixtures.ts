/** Sample inputs shared by the integration and browser tests. */
export const DEMO_ACCOUNT = "demo-ftmo-100k";

/** A valid OPEN intent for the demo account, as a strategy would send it. */
export function sampleIntent(intentId: string, overrides: Record<string, unknown> = {}) {
  return {
    intentId,
    accountId: DEMO_ACCOUNT,
    symbol: "EURUSD",
    action: "OPEN",
    side: "BUY",
    quantity: 1,
    provenance: { runId: "test-run", strategyId: "test-strategy", regimeId: "calm" },
    ...overrides,
  };
}
