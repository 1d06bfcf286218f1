"use client";

import { createContext, useContext } from "react";
import type { Permission } from "@/server/auth/roles";
import { rolesFor } from "@/server/auth/roles";
import type { Me } from "./api";
import { clock } from "./format";
import type { StreamStatus } from "./useLiveStream";

/** What every page of the console knows: who is logged in, what they may do, and how fresh the data is. */
export type Session = {
  me: Me;
  /** risk_manager or admin: trip, reset, unlock, edit and activate presets. */
  canOperate: boolean;
  /**
   * Whether the user's role holds a permission of the API (server/auth/roles.ts), as the
   * catalog names it for each endpoint: the console offers an action only to those the server
   * would let do it (and the server checks again).
   */
  may: (permission: Permission) => boolean;
  /**
   * Whether the stream is connected, and since when the data is stale. Not its seq: the session
   * changes only when these do, so the panels that read it are not drawn again on every message.
   */
  stream: Pick<StreamStatus, "phase" | "staleSince">;
};

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside the console shell");
  return session;
}

export function may(me: Me, permission: Permission): boolean {
  return rolesFor(permission).includes(me.user.role);
}

export function canOperate(me: Me): boolean {
  return may(me, "operate");
}

/** "stale since 14:03:12" while the stream is down, for every live panel. */
export function StaleNote() {
  const { stream } = useSession();
  if (!stream.staleSince) return null;
  return (
    <span className="stale-note" data-testid="stale-note">
      stale since {clock(stream.staleSince.getTime())}
    </span>
  );
}
