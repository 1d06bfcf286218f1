import type { LedgerRecord } from "./ledger";
import type { DecisionRecord, FirmView, Snapshot } from "./runtime";
import type { AccountView } from "./engine/views";

/**
 * The Socket.IO protocol, shared by the server and the browser. Every message carries ledger
 * seqs: a `change` whose `fromSeq` is not the client's last seq + 1 means the client missed
 * something and must ask for a fresh snapshot (`resync`).
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

export type { Snapshot, DecisionRecord, AccountView, LedgerRecord, FirmView };
