import type { AccountReport, ClosedTrade, Verifier } from "./compliance/verify";
import { createVerifier, objectivesMet } from "./compliance/verify";
import type { EngineConfig } from "./engine/config";
import type { AccountId } from "./engine/ids";
import type { Preset } from "./engine/preset";
import type { AccountState } from "./engine/state";
import { AppError } from "./errors";
import type { LedgerRecord } from "./ledger";
import type { Services } from "./services";

/**
 * The live prop-firm objectives of an account (profit target, trading days, best-day share) and
 * its closed trades: a read model beside the commit queue. Both come from the compliance
 * verifier (server/compliance/verify.ts), the same code that judges a ledger export or a
 * backtest, fed with the account's own ledger events (its stream, read by account): the cost is
 * O(the account's events), never the firm's. A verifier is kept per account for the accounts
 * asked about lately, so a refresh feeds it only what was recorded since; a change of preset
 * version or firm configuration starts it again. Each account's reads run one after another.
 */

/** What the read model needs of the server: the committed state and the ledger by account. */
export type ObjectivesSource = {
  /** The account as the runtime holds it now (null: no such account). */
  account(accountId: AccountId): AccountState | null;
  /** The firm's configuration in force (its instruments' contract sizes, the default rules). */
  config(): EngineConfig;
  /** The account's ledger events after `afterSeq`, at most `limit`, in seq order. */
  read(afterSeq: number, limit: number, accountId: AccountId): Promise<LedgerRecord[]>;
  /** A preset version (the latest when omitted); null when the store has none. */
  preset(presetId: string, version?: number): Promise<Preset | null>;
};

/** What `GET /api/v1/accounts/{accountId}/objectives` answers. */
export type AccountObjectives = {
  accountId: string;
  /** The ledger seq of the account's last event these figures include. */
  seq: number;
  /** The preset whose objectives these are (null version: the account runs the firm's default rules). */
  presetId: string;
  presetVersion: number | null;
  /** The account's currency: the amounts here are in it. */
  currency: string;
  initialBalanceUsd: number;
  /** The balance the verifier's books hold: the initial balance plus closed P/L less fees. */
  balance: number;
  objectives: AccountReport["objectives"];
  /** Closed P/L against the profit target: how far (USD), and the share of the target (%). */
  progress: { profit: number; targetPct: number | null };
  /** Every objective the preset sets is met. */
  met: boolean;
  /** Round trips closed, in all. */
  closedTrades: number;
};

/** What `GET /api/v1/accounts/{accountId}/trades` answers: the latest round trips, newest first. */
export type ClosedTradesPage = {
  accountId: string;
  /** The account's currency: the trades' P/L and fees are in it. */
  currency: string;
  seq: number;
  /** Round trips closed in all, and how many of the latest are kept to page through. */
  total: number;
  kept: number;
  trades: ClosedTrade[];
  /** Pass as `beforeSeq` for the next (older) page; null: no older trade is kept. */
  nextBeforeSeq: number | null;
};

/** Round trips kept per account (the latest). */
export const KEPT_TRADES = 1_000;
/** Accounts whose verifier is kept between reads. */
const KEPT_ACCOUNTS = 64;
/** Ledger events per read. */
const PAGE = 5_000;

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

type Entry = {
  /** The preset version and firm configuration the verifier judges under. */
  presetKey: string;
  config: EngineConfig;
  preset: Preset;
  version: number | null;
  verifier: Verifier;
  /** The seq of the last event fed. */
  throughSeq: number;
  /** The account's reads, one after another. */
  queue: Promise<unknown>;
};

export class ObjectivesReadModel {
  private readonly entries = new Map<AccountId, Entry>();

  constructor(private readonly source: ObjectivesSource) {}

  async objectives(accountId: AccountId): Promise<AccountObjectives> {
    const { entry } = await this.caughtUp(accountId);
    const report = entry.verifier.report().accounts[0];
    if (!report) throw new AppError("not_found", `no account ${accountId} on the ledger`);
    const profit = Number((report.finalBalance - report.initialBalanceUsd).toFixed(2));
    const target = report.objectives.profitTarget;
    return {
      accountId,
      seq: entry.throughSeq,
      presetId: entry.preset.id,
      presetVersion: entry.version,
      currency: report.currency,
      initialBalanceUsd: report.initialBalanceUsd,
      balance: report.finalBalance,
      objectives: report.objectives,
      progress: { profit, targetPct: target && target.target > 0 ? Number(((profit / target.target) * 100).toFixed(2)) : null },
      met: objectivesMet(report.objectives),
      closedTrades: entry.verifier.trades(accountId).total,
    };
  }

  /** The latest round trips closed before `beforeSeq` (their closing fill's seq), newest first, at most `limit`. */
  async trades(accountId: AccountId, limit: number, beforeSeq?: number): Promise<ClosedTradesPage> {
    const { entry } = await this.caughtUp(accountId);
    const { trades, total } = entry.verifier.trades(accountId);
    const older = beforeSeq === undefined ? trades : trades.filter((trade) => trade.closeSeq < beforeSeq);
    const page = older.slice(-limit).reverse();
    return {
      accountId,
      currency: entry.verifier.report().accounts[0]?.currency ?? "USD",
      seq: entry.throughSeq,
      total,
      kept: trades.length,
      trades: page,
      nextBeforeSeq: older.length > page.length ? page[page.length - 1]!.closeSeq : null,
    };
  }

  /** The account's verifier, fed up to the ledger's end (its reads queued behind any under way). */
  private async caughtUp(accountId: AccountId): Promise<{ entry: Entry }> {
    const account = this.source.account(accountId);
    if (!account) throw new AppError("not_found", `no account ${accountId}`);
    const config = this.source.config();
    const presetKey = account.preset ? `${account.preset.presetId}@${account.preset.version}` : `default:${account.spec.presetId}`;
    let entry = this.entries.get(accountId);
    if (!entry || entry.presetKey !== presetKey || entry.config !== config) {
      const version = account.preset?.version ?? null;
      const stored = await this.source.preset(account.preset?.presetId ?? account.spec.presetId, version ?? undefined);
      // The rules the account decides under are those the ledger recorded for it; the objectives are its preset's.
      const preset: Preset = { ...(stored ?? noObjectives(account.spec.presetId)), rules: account.rules ?? {} };
      entry = {
        presetKey,
        config,
        preset,
        version,
        verifier: createVerifier(preset, { only: accountId, config, keepTrades: KEPT_TRADES }),
        throughSeq: 0,
        queue: Promise.resolve(),
      };
    }
    // Most recently asked last: the oldest goes first when too many are kept.
    this.entries.delete(accountId);
    this.entries.set(accountId, entry);
    if (this.entries.size > KEPT_ACCOUNTS) this.entries.delete(this.entries.keys().next().value!);
    const current = entry;
    const fed = current.queue.then(() => this.feed(current, accountId));
    current.queue = fed.catch(() => undefined);
    await fed;
    return { entry: current };
  }

  private async feed(entry: Entry, accountId: AccountId): Promise<void> {
    for (;;) {
      const page = await this.source.read(entry.throughSeq, PAGE, accountId);
      for (const record of page) entry.verifier.feed(record);
      if (page.length > 0) entry.throughSeq = page[page.length - 1]!.seq;
      if (page.length < PAGE) return;
      // A long history is read a page at a time, the event loop free between pages.
      await yieldToLoop();
    }
  }
}

/** A preset the store does not hold: no objectives to judge. */
function noObjectives(presetId: string): Preset {
  return {
    id: presetId as Preset["id"],
    name: presetId,
    firm: "unknown",
    program: "unknown",
    description: "",
    initialBalanceUsd: null,
    objectives: { profitTargetPct: null, minTradingDays: 0, bestDayMaxSharePct: null },
    rules: {},
    sources: [],
  };
}

const KEY = Symbol.for("riskgate.objectives");
type Holder = { [KEY]?: WeakMap<object, ObjectivesReadModel> };

/**
 * The read model of the running server (route handlers are bundled apart: one instance per
 * runtime, kept on a global symbol like the services themselves).
 */
export function objectivesOf({ runtime, presets }: Pick<Services, "runtime" | "presets">): ObjectivesReadModel {
  const holder = globalThis as Holder;
  const models = (holder[KEY] ??= new WeakMap());
  let model = models.get(runtime);
  if (!model) {
    model = new ObjectivesReadModel({
      account: (accountId) => runtime.engineState.accounts.get(accountId) ?? null,
      config: () => runtime.config,
      read: (afterSeq, limit, accountId) => runtime.readLedger(afterSeq, limit, accountId),
      preset: async (presetId, version) => (await presets.get(presetId, version))?.preset ?? null,
    });
    models.set(runtime, model);
  }
  return model;
}
