import { AccountSpec } from "./engine/types";

/** Accounts opened on the first start of an empty ledger, so the console is not empty. */
export const demoAccounts: AccountSpec[] = [
  AccountSpec.parse({
    accountId: "demo-ftmo-100k",
    name: "Demo FTMO 2-Step 100K",
    presetId: "ftmo-2step-100k",
    initialBalanceUsd: 100_000,
  }),
];
