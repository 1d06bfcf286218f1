"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import type { Socket } from "socket.io-client";
import { io } from "socket.io-client";
import type { ClientToServer, ServerToClient } from "@/server/realtime-protocol";
import type { AccountsPage, DecisionsPage, FirmPage } from "./api";
import { queryKeys } from "./api";

const MAX_DECISIONS = 200;

export type StreamStatus = {
  /** `connecting` until the first connection; then `connected` or `disconnected`. */
  phase: "connecting" | "connected" | "disconnected";
  staleSince: Date | null;
  seq: number;
};

/**
 * Keeps the TanStack Query cache in step with the server: a snapshot on connect, then every
 * change. A change that does not follow the last seen seq means a gap: ask for a new snapshot.
 */
export function useLiveStream(): StreamStatus {
  const queryClient = useQueryClient();
  const lastSeq = useRef(0);
  const [status, setStatus] = useState<StreamStatus>({ phase: "connecting", staleSince: null, seq: 0 });

  useEffect(() => {
    // On every (re)connection the server hears the last seq seen and sends what was missed.
    const socket: Socket<ServerToClient, ClientToServer> = io({
      transports: ["websocket", "polling"],
      auth: (callback) => callback({ lastSeq: lastSeq.current }),
    });

    socket.on("connect", () => setStatus((s) => ({ ...s, phase: "connected", staleSince: null })));
    socket.on("disconnect", () => setStatus((s) => ({ ...s, phase: "disconnected", staleSince: new Date() })));

    socket.on("snapshot", (snapshot) => {
      lastSeq.current = snapshot.seq;
      queryClient.setQueryData<AccountsPage>(queryKeys.accounts, { seq: snapshot.seq, accounts: snapshot.accounts });
      queryClient.setQueryData<DecisionsPage>(queryKeys.decisions, { seq: snapshot.seq, decisions: snapshot.decisions });
      queryClient.setQueryData<FirmPage>(queryKeys.firm, { seq: snapshot.seq, firm: snapshot.firm });
      setStatus((s) => ({ ...s, seq: snapshot.seq }));
    });

    socket.on("change", (change) => {
      if (change.toSeq <= lastSeq.current) return;
      // Overlap is fine (only what is new is kept below); a missing stretch is a gap.
      if (change.fromSeq > lastSeq.current + 1) {
        socket.emit("resync");
        return;
      }
      // A change may overlap what is already here: keep only what is new.
      const seen = lastSeq.current;
      lastSeq.current = change.toSeq;
      const decisions = change.decisions.filter((record) => record.seq > seen);
      queryClient.setQueryData<FirmPage>(queryKeys.firm, { seq: change.toSeq, firm: change.firm });
      queryClient.setQueryData<AccountsPage>(queryKeys.accounts, (page) => {
        if (!page) return page;
        const changed = new Map(change.accounts.map((account) => [account.accountId, account]));
        const accounts = page.accounts.map((account) => changed.get(account.accountId) ?? account);
        for (const account of change.accounts) {
          if (!page.accounts.some((known) => known.accountId === account.accountId)) accounts.push(account);
        }
        return { seq: change.toSeq, accounts };
      });
      queryClient.setQueryData<DecisionsPage>(queryKeys.decisions, (page) => {
        if (!page) return page;
        const newest = [...decisions].reverse();
        return { seq: change.toSeq, decisions: [...newest, ...page.decisions].slice(0, MAX_DECISIONS) };
      });
      setStatus((s) => ({ ...s, seq: change.toSeq }));
    });

    return () => {
      socket.close();
    };
  }, [queryClient]);

  return status;
}
