import type { AccountView } from "@/server/realtime-protocol";

/**
 * How much of each loss allowance an account has left: money to the floor, and the share of the
 * allowance. The account page shows it for one account; the overview's rows come from the
 * server with the same figures (`OverviewRow`).
 */
export function headroom(account: AccountView) {
  const dailyAllowance = account.baseline - account.dailyLossFloor;
  const maxAllowance = (account.initialBalanceUsd * account.rules.accountRules.maxLossPct) / 100;
  const dailyLeftUsd = Math.max(0, account.equity - account.dailyLossFloor);
  const maxLeftUsd = Math.max(0, account.equity - account.maxLossFloor);
  const share = (left: number, allowance: number) => (allowance > 0 ? Math.min(100, (left / allowance) * 100) : 0);
  const dailyLeftPct = share(dailyLeftUsd, dailyAllowance);
  const maxLeftPct = share(maxLeftUsd, maxAllowance);
  return { dailyLeftUsd, dailyLeftPct, maxLeftUsd, maxLeftPct, closest: Math.min(dailyLeftPct, maxLeftPct) };
}
