"use client";

import { useQueryClient } from "@tanstack/react-query";
import type { AccountView } from "@/server/realtime-protocol";
import { api, replaceAccount } from "./api";
import { ReasonDialog } from "./ReasonDialog";

export type BreakerAction = { account: AccountView; breaker: string; action: "trip" | "reset" };

/**
 * Confirmation for tripping or resetting a breaker. It names the account and the breaker, and
 * will not submit without a reason.
 */
export function BreakerDialog({ request, onClose }: { request: BreakerAction; onClose: () => void }) {
  const queryClient = useQueryClient();
  const { account, breaker, action } = request;
  const verb = action === "trip" ? "Trip" : "Reset";
  return (
    <ReasonDialog
      title={`${verb} the ${breaker} breaker of ${account.name}?`}
      confirm={`${verb} ${breaker} breaker`}
      tone={action === "trip" ? "danger" : "primary"}
      onClose={onClose}
      onConfirm={async (reason) => {
        const { seq, account: updated } = await api.breaker(account.accountId, breaker, action, reason);
        replaceAccount(queryClient, updated, seq);
      }}
    >
      {action === "trip"
        ? `${account.accountId} will be HALTED: no new exposure; closes and reductions still pass.`
        : `${account.accountId} will trade again once no breaker is tripped.`}
    </ReasonDialog>
  );
}
