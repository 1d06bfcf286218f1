import type { LedgerRecord } from "./ledger";
import type { DecisionRecord, FirmView, Snapshot } from "./runtime";
import type { AccountView } from "./engine/views";

/**
 * The Socket.IO protocol, shared by the server and the browser.
 *
 * On connect the client sends `auth: { lastSeq }` (and, for programs, `token`). With no lastSeq
 * it receives a `snapshot` (its seq included); with one, a `change` carrying everything since
 * (or a snapshot when that is too far back). Then `change`s follow: decisions, vetoes, breakers
 * and trading states at once, equity-only changes (market data) conflated to at most 10 a second.
 *
 * A change covers ledger seqs `fromSeq..toSeq`. It may overlap what the client has (skip the
 * events and decisions with seq <= its last); a `fromSeq` beyond last + 1 is a gap, and the
 * client asks for a fresh snapshot (`resync`). Market data events are not streamed; the
 * accounts they revalue are. A scoped principal sees only its accounts.
 */
export type ChangeMessage = {
  fromSeq: number;
  toSeq: number;
  firm: FirmView;
  events: LedgerRecord[];
  accounts: AccountView[];
  decisions: DecisionRecord[];
};

export type ServerToClient = {
  snapshot: (snapshot: Snapshot) => void;
  change: (change: ChangeMessage) => void;
};

export type ClientToServer = {
  resync: () => void;
};

/** What a client sends in the handshake's `auth`. */
export type Handshake = { lastSeq?: number; token?: string };

export type { Snapshot, DecisionRecord, AccountView, LedgerRecord, FirmView };
