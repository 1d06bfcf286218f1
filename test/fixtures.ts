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

/** A fresh EURUSD price, so entries pass price sanity (stale after 10 s by default). */
export const EURUSD_TICK = { ticks: [{ symbol: "EURUSD", price: 1.085 }] };

/** The least a preset needs (every rule at the engine's defaults), under `id`. */
export function presetFixture(id: string) {
  return { id, name: `Test preset ${id}`, firm: "Test desk", program: "Tests" };
}
