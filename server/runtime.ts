import { isDeepStrictEqual } from "node:util";
import type { EngineConfig } from "./engine/config";
import type { BreakerOrder, Command, FillReport, FillSource, LockOrder, MarketUpdate, PresetRules, UnlockOrder } from "./engine/decide";
import type { GuardStep } from "./engine/decide";
import { clockDue, explainIntent, needsReview, previewIntent } from "./engine/decide";
import { sameDecision } from "./engine/replay";
import type { EngineEvent, OrderEvent } from "./engine/events";
import type { AccountId, OrderId } from "./engine/ids";
import type { Intent, Side } from "./engine/intent";
import type { EngineState, FirmHalt, OpenOrder } from "./engine/state";
import { configOf, evolve, initialState } from "./engine/state";
import { EquityHistory } from "./equity-history";
import { EquityRecorder } from "./equity-recorder";
import type { Touched } from "./account-index";
import { touchedBy } from "./account-index";
import { SLICE_MS, Slicer, foreground, rest, yieldToLoop } from "./slices";
import type { SnapshotStore, StoredSnapshot } from "./snapshots";
import type { AccountRequest, AccountSpec, Decision, LatencySource, ReviewOutcome } from "./engine/types";
import type { AccountView } from "./engine/views";
import type { Preset } from "./engine/preset";
import { nextDeadline } from "./engine/breakers";
import type { DryRunResult } from "./engine/dry-run";
import { dryRunOf } from "./engine/dry-run";
import { accountView } from "./engine/views";
import { AppError } from "./errors";
import type { Ledger, LedgerRecord } from "./ledger";
import type { RuntimeMetrics } from "./metrics";
import type { ReviewRequest, Reviewer } from "./reviewer";
import type { Memo } from "./advisory/memo";
import { reviewMarketOf } from "./advisory/history";
import { reducesExposure } from "./engine/intent";
import { obtainReview } from "./reviewer";
import { Replays } from "./replays";
import { log } from "./log";
import { Batch } from "./batch";

export type DecisionRecord = { seq: number; at: number; intent: Intent; decision: Decision };

/** A reported fill not booked because its execution id was booked before, and when that was. */
export type FillDuplicate = { readonly index: number; readonly accountId: AccountId; readonly execId: string; readonly bookedAt: number | null };

/** A position ordered closed by "flatten now": the seq of its `flatten.ordered`, and the order. */
export type FlattenOrder = { seq: number; symbol: string; side: Side; quantity: number };

/** What listeners (the realtime stream) receive after each commit, never before. */
export type Committed = {
  fromSeq: number;
  toSeq: number;
  firm: FirmView;
  records: LedgerRecord[];
  /** The views of the accounts this commit touched (built on first read). */
  accounts: AccountView[];
  decisions: DecisionRecord[];
  /** The accounts this commit touched: their state, figures or trading state may have changed. */
  touched: Touched;
  /** The engine state after the commit (immutable). */
  state: EngineState;
};

export type FirmView = { halted: boolean; halt: FirmHalt | null };

export type Snapshot = { seq: number; firm: FirmView; accounts: AccountView[]; decisions: DecisionRecord[] };

/** Ledger events a dry-run may fold beyond its snapshot. */
const MAX_REPLAY_WINDOW = 1_000_000;
/** Committed states kept in memory for replays (explain, dry-runs), one every so many events. */
const CHECKPOINT_EVERY = 10_000;
const CHECKPOINTS_KEPT = 4;
/** Time between snapshots, at least, as a multiple of the last one's own time (its slices, gzip and write; not its pauses). */
const SNAPSHOT_PAUSE = 20;
/** A snapshot's slices are followed by rests this many times as long (see `maybeSnapshot`). */
const SNAPSHOT_REST = 3;
/** The gap after each stored part of a snapshot (see SnapshotStore.save): the ledger's fsyncs in between carry a part each at most. */
const SNAPSHOT_PART_GAP_MS = 25;

/** A preset written for one account size (Topstep's dollar limits) fits only accounts of that size. */
function checkSize(preset: Preset, initialBalanceUsd: number, path: string): void {
  if (preset.initialBalanceUsd === null || preset.initialBalanceUsd === initialBalanceUsd) return;
  const message = `preset ${preset.id} is written for an account of ${preset.initialBalanceUsd} ${preset.currency ?? "USD"}, not ${initialBalanceUsd}`;
  throw new AppError("validation_failed", `${path}: ${message}`, [{ path, message }]);
}

/** A preset that states a currency (its amounts are in it) fits only accounts in that currency. */
function checkCurrency(preset: Preset, currency: string, path: string): void {
  if (preset.currency === undefined || preset.currency === currency) return;
  const message = `preset ${preset.id} is written for accounts in ${preset.currency}, not ${currency}`;
  throw new AppError("validation_failed", `${path}: ${message}`, [{ path, message }]);
}

/** The account a request opens: its currency as stated, else its preset's, else USD. */
function accountOf(request: AccountRequest, preset: Preset | null): AccountSpec {
  return { ...request, currency: request.currency ?? preset?.currency ?? "USD" };
}

/** Where the runtime finds a preset's rules (the preset store; 422 for an unknown one). */
export type PresetResolver = { resolve(presetId: string, version?: number): Promise<PresetRules & { preset: Preset }> };

/** The deal memo of an intent, from the advisory analytics (the rule reviewer's, in the server). */
export type Advisor = { memo(request: ReviewRequest): Promise<Memo> };

/** The committed decision; `memo`: the deal memo the reviewer judged, when there was a review. */
export type IntentResult = { seq: number; decision: Decision; replayed: boolean; memo?: Memo };

const RECENT_DECISIONS = 500;

/** Clock skew allowed for a feed's timestamps. */
const FUTURE_TOLERANCE_MS = 5_000;

/** A command without its time: the runtime stamps it from its clock. */
type Timeless<C> = C extends unknown ? Omit<C, "at"> : never;

/**
 * The imperative shell around the pure engine. Commands run one at a time: decide against the
 * current state, append the resulting events to the ledger and wait for the commit, then fold
 * them into the state, and only then answer and notify listeners. If the append fails nothing
 * changes and the caller gets `storage_unavailable` (fail closed).
 */
export class Runtime {
  private state: EngineState = initialState();
  private seq = 0;
  private recent: DecisionRecord[] = [];
  private pendingIntents = new Map<string, Intent>();
  /** Records the accounts' equity over time (the dashboard's chart). */
  private readonly equityRecorder: EquityRecorder;
  /** Prices are checked against their band (a live server; backtests replay history as it was). */
  private priceBands = false;
  private snapshotSeq = 0;
  /** The seq of the snapshot this runtime started from; null when it folded the whole ledger. */
  startedFromSnapshot: number | null = null;
  private snapshotting = false;
  /** No snapshot starts before this (performance.now()): see `maybeSnapshot`. */
  private nextSnapshotAfter = 0;
  /** Committed states kept for replays, oldest first (immutable, so kept as they are). */
  private readonly checkpoints: { seq: number; state: EngineState }[] = [];
  /** Replays for callers (explain, dry-runs): bounded and sliced, beside the decisions. */
  private readonly replays = new Replays();
  /** Commands waiting for the next batch, in arrival order. */
  private jobs: Job[] = [];
  private draining = false;
  /** The state with every decided batch folded in, committed or not: the next batch is decided against it. */
  private head: EngineState = this.state;
  /** The last batch handed to the ledger; the next one appends only after it committed. */
  private tail: Promise<LedgerRecord[]> = Promise.resolve([]);
  /** Batches decided and not yet settled, oldest first. */
  private readonly committing: Promise<void>[] = [];
  /** Bumped by a failed commit: batches decided before it fail too. */
  private epoch = 0;
  /** The epoch whose batches go back to the queue rather than fail (an intent key the ledger already held). */
  private requeueEpoch: number | null = null;
  /** Jobs to decide again, in their order, before any new one. */
  private readonly retryJobs: Job[] = [];
  /** Intents being decided or committed, by idempotency key: a concurrent retry waits for the first. */
  private readonly inflightIntents = new Map<string, Promise<IntentResult>>();
  /** Intent keys committed recently, with the seq of their `intent.received` (bounded). */
  private readonly recentIntentKeys = new Map<string, number>();
  private readonly listeners = new Set<(committed: Committed) => void>();
  /** Why this runtime may not write (a read-only stream node): who holds the writer lock. */
  readOnlyBecause: string | null = null;

  private constructor(
    private readonly ledger: Ledger,
    private readonly clock: () => number,
    private readonly reviewer: Reviewer | null,
    private readonly metrics: RuntimeMetrics | null,
    private readonly snapshots: { store: SnapshotStore; every: number } | null,
    private readonly presets: PresetResolver | null,
    private readonly advisor: Advisor | null,
    equity: { intervalMs: number; history: EquityHistory },
  ) {
    this.equityRecorder = new EquityRecorder(() => this.state, clock, equity.intervalMs, equity.history);
  }

  /** Equity, baseline and floors over time, per account (the dashboard's chart). */
  get equity(): EquityHistory {
    return this.equityRecorder.history;
  }

  /** Another history in its place (a backtest keeps only the latest point). */
  set equity(history: EquityHistory) {
    this.equityRecorder.history = history;
  }

  /**
   * Rebuilds the state by folding every event of the ledger, then records `config` if it is not
   * the configuration already in force, so that replay decides under the same one.
   */
  static async load(
    ledger: Ledger,
    config: EngineConfig,
    clock: () => number = Date.now,
    options: {
      reviewer?: Reviewer | null;
      metrics?: RuntimeMetrics | null;
      /** Start from the latest snapshot and fold only the ledger's tail; save one every `every` events. */
      snapshots?: { store: SnapshotStore; every: number } | null;
      /** Accounts open under the preset they name (else under the firm's default rules). */
      presets?: PresetResolver | null;
      /** Works out deal memos for accounts that ask for them after the decision. */
      advisor?: Advisor | null;
      /** Equity points at most this often per account (0: one per commit that touched it). */
      equityIntervalMs?: number;
      /** The whole book's equity history at most (see equity-history.ts: Budget). */
      equityHistoryBytes?: number;
      /** Refuse ticks, bars and fills too far from the last accepted price (see price-band.ts). */
      priceBands?: boolean;
    } = {},
  ): Promise<Runtime> {
    const equity = { intervalMs: options.equityIntervalMs ?? 0, history: new EquityHistory(options.equityHistoryBytes) };
    const runtime = new Runtime(ledger, clock, options.reviewer ?? null, options.metrics ?? null, options.snapshots ?? null, options.presets ?? null, options.advisor ?? null, equity);
    runtime.priceBands = options.priceBands ?? false;
    const snapshot = options.snapshots ? await options.snapshots.store.latest() : null;
    if (snapshot && snapshot.seq <= (await ledger.lastSeq())) {
      runtime.restore(snapshot);
      runtime.startedFromSnapshot = snapshot.seq;
    }
    else if (snapshot) log.warn({ snapshotSeq: snapshot.seq }, "ignoring the state snapshot: the ledger ends before it");
    for await (const record of ledger.readAll(5000, runtime.seq)) runtime.apply(record);
    runtime.snapshotSeq = runtime.startedFromSnapshot ?? 0;
    runtime.checkpoint();
    runtime.equityRecorder.recordBeforeReads();
    // A read-only node decides nothing: it keeps the configuration the ledger holds.
    if (ledger.writable && !isDeepStrictEqual(runtime.state.config, config)) {
      await runtime.execute({ type: "ApplyConfig", config, by: "system" }, () => undefined);
    }
    return runtime;
  }

  get config(): EngineConfig {
    return this.state.config;
  }

  /** The currency of an account's money (USD for an account it does not know). */
  currencyOf(accountId: AccountId): string {
    return this.state.accounts.get(accountId)?.spec.currency ?? "USD";
  }

  /** Commands waiting for the commit queue (not yet decided), and how long the oldest has waited. */
  commitQueue(): { jobs: number; oldestWaitMs: number } {
    const jobs = this.jobs.length + this.retryJobs.length;
    if (jobs === 0) return { jobs, oldestWaitMs: 0 };
    const oldest = Math.min(this.jobs[0]?.queuedAt ?? Infinity, this.retryJobs[0]?.queuedAt ?? Infinity);
    return { jobs, oldestWaitMs: Math.max(0, performance.now() - oldest) };
  }

  get lastSeq(): number {
    return this.seq;
  }

  /** The committed engine state (immutable: a reader may keep it). */
  get engineState(): EngineState {
    return this.state;
  }

  subscribe(listener: (committed: Committed) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  accounts(): AccountView[] {
    return [...this.state.accounts.values()].map((account) => accountView(account, this.state));
  }

  account(accountId: AccountId): AccountView {
    const account = this.state.accounts.get(accountId);
    if (!account) throw new AppError("not_found", `no account ${accountId}`);
    return accountView(account, this.state);
  }

  recentDecisions(limit = 100, accountId?: AccountId): DecisionRecord[] {
    const matching = accountId ? this.recent.filter((record) => record.decision.accountId === accountId) : this.recent;
    return matching.slice(-limit).reverse();
  }

  snapshot(): Snapshot {
    return { seq: this.seq, firm: this.firm(), accounts: this.accounts(), decisions: this.recentDecisions(100) };
  }

  /** The firm-wide halt, if one holds. */
  firm(): FirmView {
    return { halted: this.state.firmHalt !== null, halt: this.state.firmHalt };
  }

  haltFirm(reason: string, by: string): Promise<FirmView> {
    return this.execute({ type: "HaltFirm", reason, by }, () => this.firm());
  }

  resumeFirm(reason: string, by: string): Promise<FirmView> {
    return this.execute({ type: "ResumeFirm", reason, by }, () => this.firm());
  }

  readLedger(afterSeq: number, limit: number, accountId?: AccountId): Promise<LedgerRecord[]> {
    return this.ledger.readAfter(afterSeq, limit, accountId);
  }

  async ping(): Promise<void> {
    await this.ledger.ping();
  }

  /**
   * Opens an account under the latest version of the preset it names (with a preset registry;
   * 422 when the preset is unknown, or written for another account size).
   */
  async openAccount(request: AccountRequest, by: string): Promise<AccountView> {
    if (!this.presets) return this.execute({ type: "OpenAccount", account: accountOf(request, null), by }, () => this.account(request.accountId));
    const { preset, ...rules } = await this.presets.resolve(request.presetId);
    const account = accountOf(request, preset);
    checkSize(preset, account.initialBalanceUsd, "initialBalanceUsd");
    checkCurrency(preset, account.currency, "currency");
    return this.execute({ type: "OpenAccount", account, preset: rules, by }, () => this.account(account.accountId));
  }

  /**
   * Opens many accounts at once, all or none, in one group commit (one ledger append), each
   * under the latest version of its preset (resolved once per distinct preset). Every account is
   * checked first and every problem comes back at once, each naming its item
   * (`accounts.17.accountId`): an id twice in the list, an id that exists, an unknown preset, a
   * preset written for another size; 409 when the only problem is ids that exist, else 422. One
   * the engine refuses while the batch is decided (opened meanwhile) takes the batch back to where
   * it stood before this job: nothing of it is recorded. The answer is small: no account views.
   */
  async openAccounts(
    requests: readonly AccountRequest[],
    by: string,
  ): Promise<{ seq: number; opened: number; accounts: { accountId: AccountId; tradingState: AccountView["tradingState"] }[] }> {
    if (requests.length === 0) return { seq: this.seq, opened: 0, accounts: [] };
    const issues: { path: string; message: string }[] = [];
    let existing = 0;
    const firstAt = new Map<string, number>();
    requests.forEach(({ accountId }, index) => {
      const first = firstAt.get(accountId);
      if (first !== undefined) issues.push({ path: `accounts.${index}.accountId`, message: `${accountId} is also accounts.${first}` });
      else firstAt.set(accountId, index);
      if (this.state.accounts.has(accountId)) {
        existing++;
        issues.push({ path: `accounts.${index}.accountId`, message: `account ${accountId} already exists` });
      }
    });
    // One lookup per distinct preset, one after another: a call naming thousands of them delays only itself.
    const presets = new Map<string, (PresetRules & { preset: Preset }) | null>();
    if (this.presets) {
      for (const presetId of new Set(requests.map((account) => account.presetId))) {
        const found = await this.presets.resolve(presetId).catch((error: unknown) => {
          if (AppError.is(error) && error.code === "validation_failed") return null;
          throw error;
        });
        presets.set(presetId, found);
      }
      requests.forEach(({ presetId, initialBalanceUsd, currency }, index) => {
        const found = presets.get(presetId);
        if (!found) return void issues.push({ path: `accounts.${index}.presetId`, message: `there is no preset ${presetId}` });
        try {
          checkSize(found.preset, initialBalanceUsd, `accounts.${index}.initialBalanceUsd`);
          checkCurrency(found.preset, currency ?? found.preset.currency ?? "USD", `accounts.${index}.currency`);
        } catch (error) {
          issues.push(...(error as AppError).issues);
        }
      });
    }
    const accounts = requests.map((request) => accountOf(request, presets.get(request.presetId)?.preset ?? null));
    if (issues.length > 0) {
      const shown = issues.slice(0, 3).map((issue) => `${issue.path}: ${issue.message}`).join("; ");
      const problems = issues.length === 1 ? "1 problem" : `${issues.length} problems`;
      throw new AppError(existing === issues.length ? "conflict" : "validation_failed", `${problems}, no account opened: ${shown}${issues.length > 3 ? "; …" : ""}`, issues);
    }
    return this.enqueue(async (batch) => {
      const before = batch.checkpoint();
      let index = -1;
      try {
        const at = this.clock();
        if (clockDue(batch.state, at)) batch.decide({ type: "AdvanceClock", at });
        for (index = 0; index < accounts.length; index++) {
          // Thousands of accounts take a while to decide: the server goes on reading requests meanwhile.
          if (index > 0 && index % 1_000 === 0) await yieldToLoop();
          const account = accounts[index]!;
          const found = presets.get(account.presetId);
          batch.decide({ type: "OpenAccount", at, account, ...(found ? { preset: { presetId: found.presetId, version: found.version, rules: found.rules } } : {}), by });
        }
      } catch (error) {
        batch.rollback(before);
        if (index < 0 || !AppError.is(error)) throw error;
        const named = error.issues.length > 0 ? error.issues : [{ path: "accountId", message: error.message }];
        const paths = named.map((issue) => ({ path: issue.path === "(body)" ? `accounts.${index}` : `accounts.${index}.${issue.path}`, message: issue.message }));
        throw new AppError(error.code, `${paths[0]!.path}: ${error.message}; no account opened`, paths);
      }
      const to = batch.entries.length;
      return (records) => ({
        seq: records[to - 1]!.seq,
        opened: accounts.length,
        accounts: accounts.map(({ accountId }) => ({ accountId, tradingState: this.account(accountId).tradingState })),
      });
    });
  }

  /**
   * Which of the account's last `decisions` decisions would change under `candidate` (a preset
   * version, or an edited preset not saved yet): the ledger from the newest snapshot before the
   * window (or from the start) is folded, and the window's intents are decided again.
   */
  async dryRunPreset(accountId: AccountId, candidate: PresetRules & { preset: Preset }, decisions: number): Promise<DryRunResult & { fromSeq: number | null; toSeq: number }> {
    const account = this.state.accounts.get(accountId);
    if (!account) throw new AppError("not_found", `no account ${accountId}`);
    checkSize(candidate.preset, account.spec.initialBalanceUsd, "preset");
    checkCurrency(candidate.preset, account.spec.currency, "preset");
    const toSeq = this.seq;
    const fromSeq = await this.ledger.firstOfLast(accountId, "intent.received", decisions);
    if (fromSeq === null) return { fromSeq: null, toSeq, decisions: 0, changed: [], allowedToDenied: 0, deniedToAllowed: 0, resized: 0, otherReason: 0, unreviewed: 0 };
    if (toSeq - fromSeq > MAX_REPLAY_WINDOW) {
      const message = `the last ${decisions} decisions span ${toSeq - fromSeq} ledger events, more than ${MAX_REPLAY_WINDOW}: ask for fewer`;
      throw new AppError("validation_failed", `decisions: ${message}`, [{ path: "decisions", message }]);
    }
    return this.replays.run(async (slice) => {
      const base = await this.stateAt(fromSeq - 1, slice);
      const { presetId, version, rules } = candidate;
      const run = dryRunOf(base, accountId, { presetId, version, rules }, fromSeq);
      for await (const record of this.ledger.readAll(5000, fromSeq - 1)) {
        if (record.seq > toSeq) break;
        run.feed(record);
        // Decisions keep flowing meanwhile: the fold gives the event loop back every few ms.
        await slice();
      }
      return { fromSeq, toSeq, ...run.result() };
    });
  }

  /**
   * A recorded decision (`seq` of its `intent.decided`) taken again with every guard's part in
   * it: the figures each judged and their limits, the guards off and those not reached. Null
   * when there is no decision at `seq`. `reproduced` says the engine took the same decision.
   */
  async explainDecision(seq: number): Promise<{ record: DecisionRecord; steps: GuardStep[]; reproduced: boolean; memo: Record<string, unknown> | null } | null> {
    const [decided] = await this.ledger.readAfter(seq - 1, 1);
    if (!decided || decided.seq !== seq || decided.event.type !== "intent.decided") return null;
    const { accountId, intentId } = decided.event.decision;
    // The intent (and the reviewer's verdict, when there was one) come just before the decision in the account's stream.
    const before = await this.ledger.streamBefore(accountId, seq, 4);
    const received = before.find((record) => record.event.type === "intent.received" && record.event.intent.intentId === intentId);
    if (!received || received.event.type !== "intent.received") return null;
    const verdict = before.find((record) => record.seq > received.seq && record.event.type === "reviewer.verdict" && record.event.intentId === intentId);
    const review = verdict?.event.type === "reviewer.verdict" ? verdict.event.outcome : null;
    const state = await this.replays.run((slice) => this.stateAt(received.seq - 1, slice));
    const explained = explainIntent(received.event.intent, state, received.event.at, review);
    if (!explained) return null;
    const record: DecisionRecord = { seq, at: decided.event.at, intent: received.event.intent, decision: decided.event.decision };
    // The deal memo: recorded before the verdict (a review), or after the decision (memo only).
    const memoBefore = before.find((r) => r.seq > received.seq && r.event.type === "advisory.memo" && r.event.intentId === intentId);
    const memoEvent = memoBefore ?? (await this.ledger.memoAfter(accountId, intentId, seq));
    const memo = memoEvent?.event.type === "advisory.memo" ? memoEvent.event.memo : null;
    return { record, steps: explained.steps, reproduced: sameDecision(explained.decision, decided.event.decision), memo };
  }

  /**
   * The engine state folded through ledger seq `seq`: from the newest state kept in memory at or
   * before it, else the newest stored snapshot, else from the start; `slice` between events.
   */
  private async stateAt(seq: number, slice: () => Promise<void>): Promise<EngineState> {
    const kept = this.checkpoints.findLast((checkpoint) => checkpoint.seq <= seq) ?? null;
    const snapshot = kept ?? (this.snapshots ? await this.snapshots.store.latest(seq) : null);
    let state = snapshot?.state ?? initialState();
    for await (const record of this.ledger.readAll(5000, snapshot?.seq ?? 0)) {
      if (record.seq > seq) break;
      state = evolve(state, record.event);
      await slice();
    }
    return state;
  }

  /** Keeps the committed state now and then for replays (`stateAt`), a few of them. */
  private checkpoint(): void {
    const last = this.checkpoints[this.checkpoints.length - 1];
    if (last && this.seq - last.seq < CHECKPOINT_EVERY) return;
    this.checkpoints.push({ seq: this.seq, state: this.state });
    if (this.checkpoints.length > CHECKPOINTS_KEPT) this.checkpoints.shift();
  }

  /** The account decides under this preset version (the latest by default) from now on. */
  async activatePreset(accountId: AccountId, presetId: string, version: number | undefined, reason: string, by: string): Promise<AccountView> {
    if (!this.presets) throw new AppError("not_found", "this server has no preset registry");
    if (!this.state.accounts.has(accountId)) throw new AppError("not_found", `no account ${accountId}`);
    const { preset, ...rules } = await this.presets.resolve(presetId, version);
    checkSize(preset, this.state.accounts.get(accountId)!.spec.initialBalanceUsd, "presetId");
    checkCurrency(preset, this.state.accounts.get(accountId)!.spec.currency, "presetId");
    return this.execute({ type: "ActivatePreset", accountId, ...rules, reason, by }, () => this.account(accountId));
  }

  /**
   * Decides an intent. Intents are idempotent on (accountId, intentId): a retry with the same
   * body returns the first decision; the same intentId with a different body is a conflict.
   */
  async submitIntent(intent: Intent, by?: string): Promise<IntentResult> {
    const key = `intent:${intent.accountId}:${intent.intentId}`;
    const inflight = this.inflightIntents.get(key);
    if (inflight) {
      await inflight;
      return this.retryOf(intent, key);
    }
    const remembered = this.recentIntentKeys.get(key);
    if (remembered !== undefined) return this.replayIntent(remembered, intent);

    // Guard 18: when the chain would allow, the reviewer is asked first, before the intent joins
    // the queue, against the state decided so far: a slow reviewer delays only its own intent.
    const reviewed = await this.reviewFor(intent);
    const first = this.enqueue<IntentResult | { replayOf: number }>((batch) => {
      // An earlier submission (before this process, or before the recent keys) is answered again:
      // the batch looked up all of its intents' keys in one query.
      const earlier = this.recentIntentKeys.get(key) ?? batch.earlier.get(key);
      if (earlier !== undefined) return () => ({ replayOf: earlier });
      const at = this.clock();
      // A reset that fell due but whose timer has not fired yet still starts the day first.
      batch.decide({ type: "AdvanceClock", at });
      // The review goes into the command and onto the ledger. Had the state changed meanwhile so
      // that the chain now reaches the reviewer without a review, the engine records that as a
      // failed review (fail closed).
      const { review, memo } = reviewed ?? {};
      const mine = batch.decide({ type: "SubmitIntent", at, intent, ...(by ? { by } : {}), ...(review ? { review } : {}), ...(memo ? { memo } : {}) }, key);
      return (records) => {
        const decided = records.slice(mine.from, mine.to).find((record) => record.event.type === "intent.decided");
        if (!decided || decided.event.type !== "intent.decided") throw new Error("intent produced no decision");
        this.memoAfter(intent, decided.event.decision);
        return { seq: decided.seq, decision: decided.event.decision, replayed: false, ...(memo ? { memo } : {}) };
      };
    }, key);
    const decided = first.then((outcome) => ("replayOf" in outcome ? this.replayIntent(outcome.replayOf, intent) : outcome));
    this.inflightIntents.set(key, decided);
    try {
      return await decided;
    } finally {
      this.inflightIntents.delete(key);
    }
  }

  /**
   * The reviewer's outcome for `intent` (and its memo), when the chain would allow it against the
   * state decided so far and guard 18 is on for its account; null when no review is due. Runs
   * outside the commit queue: other intents are decided and committed while it waits.
   */
  private async reviewFor(intent: Intent): Promise<{ review: ReviewOutcome; memo?: Memo } | null> {
    const state = this.head;
    if (!needsReview(intent, state)) return null;
    const at = this.clock();
    const preview = previewIntent(intent, state, at);
    if (preview?.outcome !== "allowed") return null;
    let memo: Memo | undefined;
    const { timeoutMs } = configOf(state, state.accounts.get(intent.accountId)!).guards.reviewer;
    const review = await obtainReview(this.reviewer, this.reviewRequest(intent, preview, state), timeoutMs, (verdict) => {
      memo = verdict.memo;
    });
    return { review, ...(memo ? { memo } : {}) };
  }

  /** What the reviewer (and the memo) are given: the intent, the chain's decision, the account and the symbol's market history. */
  private reviewRequest(intent: Intent, decision: Decision, state: EngineState): ReviewRequest {
    const account = state.accounts.get(intent.accountId)!;
    const benchmark = configOf(state, account).guards.benchmarkCorrelation.benchmark;
    return { intent, decision, account: accountView(account, state), market: reviewMarketOf(state, intent.symbol, benchmark, account.spec.currency) };
  }

  /**
   * With the reviewer off and `reviewer.memo: "after_decision"`, an allowed entry's deal memo is
   * worked out after its decision was answered and recorded as an event of its own (the
   * decision never waits for it). A failure is logged; the decision stands either way.
   */
  private memoAfter(intent: Intent, decision: Decision): void {
    const account = this.state.accounts.get(intent.accountId);
    if (!this.advisor || !account || decision.outcome !== "allowed" || reducesExposure(intent)) return;
    const { reviewer } = configOf(this.state, account).guards;
    if (reviewer.enabled || reviewer.memo !== "after_decision") return;
    const request = this.reviewRequest(intent, decision, this.state);
    void this.advisor
      .memo(request)
      .then((memo) => this.execute({ type: "RecordMemo", accountId: intent.accountId, intentId: intent.intentId, memo }, () => undefined))
      .catch((error: unknown) => log.warn({ intentId: intent.intentId, error: error instanceof Error ? error.message : String(error) }, "deal memo not recorded"));
  }

  tripBreaker(order: BreakerOrder): Promise<AccountView> {
    return this.execute({ type: "TripBreaker", ...order }, () => this.account(order.accountId));
  }

  resetBreaker(order: BreakerOrder): Promise<AccountView> {
    return this.execute({ type: "ResetBreaker", ...order }, () => this.account(order.accountId));
  }

  /** Automatic breaker resets that are due, and a new trading day once its reset has passed (see clock.ts). */
  advanceClock(): Promise<void> {
    return this.execute({ type: "AdvanceClock" }, () => undefined);
  }

  /** When the clock must next advance (a daily reset or an automatic breaker reset). */
  nextDeadline(): number {
    return nextDeadline(this.state, this.clock());
  }

  /** Records market data (ticks, L2 books) that the guards read. */
  recordMarket(updates: MarketUpdate[], by?: string): Promise<{ seq: number; recorded: number }> {
    const latest = this.clock() + FUTURE_TOLERANCE_MS;
    const future = updates.filter((update) => update.kind === "bar").findIndex((bar) => bar.closedAt > latest);
    if (future >= 0) {
      const path = `bars.${future}.closedAt`;
      throw new AppError("validation_failed", `${path}: a bar cannot close in the future`, [{ path, message: "a bar cannot close in the future" }]);
    }
    return this.execute({ type: "RecordMarket", updates, ...(by ? { by } : {}) }, (records) => ({ seq: this.seq, recorded: records.length }));
  }

  /** Reopens an account locked out by a max-loss breach (an admin's decision, with a reason). */
  reopenAccount(accountId: AccountId, reason: string, by: string): Promise<AccountView> {
    return this.execute({ type: "ReopenAccount", accountId, reason, by }, () => this.account(accountId));
  }

  /**
   * An operator's "flatten now": every open position of the account ordered closed, recorded
   * with who and why (409 when it holds none). The execution path carries the orders out: the
   * queue for a simulated account, the stack outside for an external one (it reads the ledger).
   */
  flattenAccount(accountId: AccountId, reason: string, by: string): Promise<{ account: AccountView; flattens: FlattenOrder[] }> {
    return this.execute({ type: "FlattenAccount", accountId, reason, by }, (records) => ({
      account: this.account(accountId),
      flattens: records.flatMap(({ seq, event }) =>
        event.type === "flatten.ordered" && event.accountId === accountId ? [{ seq, symbol: event.symbol, side: event.side, quantity: event.quantity }] : [],
      ),
    }));
  }

  /**
   * Execution reports: fills, folded into positions, balance and equity. From Riskgate's own
   * venue path by default; a `report` from a venue outside must fill what was allowed; a
   * `correction` (an admin's) is booked as it is, with its reason.
   */
  recordFills(fills: FillReport[], by?: string, source: { source: FillSource; reason?: string } = { source: "venue" }): Promise<{ seq: number; recorded: number; duplicates: FillDuplicate[] }> {
    return this.execute({ type: "RecordFills", fills, ...(by ? { by } : {}), ...source }, (records) => {
      // The fills with an execution id this commit did not book: repeats of an earlier booking.
      const booked = new Map<string, number>();
      for (const { event } of records) {
        if (event.type === "execution.filled" && event.execId !== undefined) booked.set(`${event.accountId} ${event.execId}`, (booked.get(`${event.accountId} ${event.execId}`) ?? 0) + 1);
      }
      const duplicates: FillDuplicate[] = [];
      for (const [index, { accountId, execId }] of fills.entries()) {
        if (execId === undefined) continue;
        const key = `${accountId} ${execId}`;
        const left = booked.get(key) ?? 0;
        if (left > 0) booked.set(key, left - 1);
        else duplicates.push({ index, accountId, execId, bookedAt: this.state.accounts.get(accountId)?.execIds.get(execId) ?? null });
      }
      return { seq: this.seq, recorded: records.length, duplicates };
    });
  }

  /** Puts an account on reduce-only (only exposure-reducing intents pass) until an operator ends it. */
  enterReducing(accountId: AccountId, reason: string, by: string): Promise<AccountView> {
    return this.execute({ type: "EnterReducing", accountId, reason, by }, () => this.account(accountId));
  }

  endReducing(accountId: AccountId, reason: string, by: string): Promise<AccountView> {
    return this.execute({ type: "EndReducing", accountId, reason, by }, () => this.account(accountId));
  }

  /** Lifts an account-wide lock on one side's entries (a stop-loss streak), with a reason. */
  unlockSide(accountId: AccountId, side: Side, reason: string, by: string): Promise<AccountView> {
    return this.execute({ type: "UnlockSide", accountId, side, reason, by }, () => this.account(accountId));
  }

  /** The execution path's account of its orders: queued, superseded, sent, acknowledged, cancelled. */
  recordOrders(events: OrderEvent[]): Promise<LedgerRecord[]> {
    return this.execute({ type: "RecordOrders", events: events.map((event) => ({ ...event, at: this.clock() })) }, (records) => records);
  }

  /** A venue reject or timeout; enough of them trip the execution_failures breaker. */
  recordExecutionFailure(failure: Omit<Extract<Command, { type: "RecordExecutionFailure" }>, "type" | "at">): Promise<LedgerRecord[]> {
    return this.execute({ type: "RecordExecutionFailure", ...failure }, (records) => records);
  }

  /** A measured latency; one above the threshold trips the latency breaker. */
  recordLatency(accountId: AccountId, latencyMs: number, source: LatencySource): Promise<LedgerRecord[]> {
    return this.execute({ type: "RecordLatency", accountId, latencyMs, source }, (records) => records);
  }

  /** An open order of the execution path. */
  order(orderId: OrderId): OpenOrder | null {
    return this.state.orders.get(orderId) ?? null;
  }

  /** Every open order of the execution path (restart: the pipeline settles them). */
  openOrders(): [OrderId, OpenOrder][] {
    return [...this.state.orders];
  }

  lockSymbol(order: LockOrder): Promise<AccountView> {
    return this.execute({ type: "LockSymbol", ...order }, () => this.account(order.accountId));
  }

  unlockSymbol(order: UnlockOrder): Promise<AccountView> {
    return this.execute({ type: "UnlockSymbol", ...order }, () => this.account(order.accountId));
  }

  /**
   * A read-only node follows the ledger the deciding server writes: every `intervalMs` it folds
   * the events committed since its last seq, so its reads stay current (its clients get the
   * stream from the deciding server through Redis). Returns the stop function.
   */
  follow(intervalMs: number): () => void {
    let stopped = false;
    let timer: NodeJS.Timeout | null = null;
    const step = async () => {
      try {
        for (;;) {
          const page = await this.ledger.readAfter(this.seq, 5_000);
          for (const record of page) this.apply(record);
          if (page.length < 5_000 || stopped) break;
          await yieldToLoop();
        }
      } catch (error) {
        log.error({ error: (error as Error).message }, "following the ledger failed");
      }
      if (!stopped) timer = setTimeout(() => void step(), intervalMs);
    };
    timer = setTimeout(() => void step(), intervalMs);
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }

  /** Decides `command` at the current time, commits it, then answers from the new state. */
  private execute<T>(command: Timeless<Command>, answer: (records: LedgerRecord[]) => T): Promise<T> {
    return this.enqueue((batch) => {
      const at = this.clock();
      // A daily reset or breaker reset that fell due comes first: a baseline must not see
      // prices that arrived after its reset instant.
      if (command.type !== "AdvanceClock" && command.type !== "ApplyConfig" && clockDue(batch.state, at)) batch.decide({ type: "AdvanceClock", at });
      const mine = batch.decide({ ...command, at } as Command);
      return (records) => answer(records.slice(mine.from, mine.to));
    });
  }

  /** A retry of an intent that was being decided: same body, same decision. */
  private async retryOf(intent: Intent, key: string): Promise<IntentResult> {
    const seq = this.recentIntentKeys.get(key) ?? (await this.ledger.seqsOfKeys([key])).get(key);
    if (seq === undefined) throw new Error(`intent ${intent.intentId} was decided but its key is not in the ledger`);
    return this.replayIntent(seq, intent);
  }

  private async replayIntent(receivedSeq: number, intent: Intent): Promise<IntentResult> {
    // The decision follows the intent, after the reviewer's verdict when there was one.
    const following = await this.ledger.readAfter(receivedSeq - 1, 4, intent.accountId);
    const received = following[0];
    if (!received || received.seq !== receivedSeq || received.event.type !== "intent.received") {
      throw new Error(`seq ${receivedSeq} is not the intent ${intent.intentId}`);
    }
    if (!isDeepStrictEqual(received.event.intent, intent)) {
      throw new AppError(
        "idempotency_mismatch",
        `intent ${intent.intentId} was already submitted with a different body`,
      );
    }
    const decided = following.find((record) => record.event.type === "intent.decided");
    if (!decided || decided.event.type !== "intent.decided") throw new Error(`no decision follows seq ${receivedSeq}`);
    return { seq: decided.seq, decision: decided.event.decision, replayed: true };
  }

  /**
   * Queues a job for the next batch. Jobs run one after another against the batch's working
   * state; the batch's events are appended in one statement (group commit), and only once that
   * commit succeeds does the runtime adopt the new state, answer each job and notify listeners.
   * If the append fails, every job of the batch gets `storage_unavailable` and nothing changes.
   */
  private enqueue<T>(prepare: (batch: Batch) => Promise<Finish<T>> | Finish<T>, intentKey?: string): Promise<T> {
    if (!this.ledger.writable) {
      return Promise.reject(new AppError("read_only", `this server is a read-only stream node: ${this.readOnlyBecause ?? "another server decides on its database"}; send commands to that server`));
    }
    foreground.begin();
    return new Promise<T>((resolve, reject) => {
      // The job leaves the foreground (background slices wait for it) when it is answered.
      let settled = false;
      const leave = () => {
        if (!settled) foreground.end();
        settled = true;
      };
      const answered = (value: unknown) => {
        leave();
        resolve(value as T);
      };
      const failed = (error: unknown) => {
        leave();
        reject(error);
      };
      this.jobs.push({ prepare, resolve: answered, reject: failed, intentKey, queuedAt: performance.now() });
      if (this.draining) return;
      // The batch starts on the next turn, so that requests arriving together share one commit.
      this.draining = true;
      setImmediate(() => void this.drain());
    });
  }

  /**
   * Decides batch after batch. A decided batch is handed to the ledger and the loop goes on
   * deciding the next one against the pending state (`head`) while it commits; at most
   * `MAX_PIPELINE` batches are decided ahead of their commit.
   */
  private async drain(): Promise<void> {
    try {
      while (this.jobs.length > 0 || this.retryJobs.length > 0) {
        if (this.committing.length >= MAX_PIPELINE) {
          await this.committing[0]!.catch(() => undefined);
          continue;
        }
        const jobs = (this.retryJobs.length > 0 ? this.retryJobs : this.jobs).splice(0, MAX_BATCH_JOBS);
        await this.runBatch(jobs);
      }
    } finally {
      this.draining = false;
    }
  }

  private async runBatch(jobs: Job[]): Promise<void> {
    const epoch = this.epoch;
    const batch = new Batch(this.head, this.metrics, this.priceBands);
    // An intent is decided as new without asking the ledger first: its key is unique there, so
    // one submitted before this process (and past the recent keys) makes the append fail, and
    // the batch comes back with `lookup` set, to be answered from the ledger.
    const keys = jobs.flatMap((job) => (job.lookup && job.intentKey && !this.recentIntentKeys.has(job.intentKey) ? [job.intentKey] : []));
    if (keys.length > 0) {
      try {
        batch.earlier = await this.ledger.seqsOfKeys(keys);
      } catch (error) {
        for (const job of jobs) job.reject(error);
        return;
      }
    }
    const prepared: { job: Job; finish: Finish<unknown> }[] = [];
    for (const job of jobs) {
      try {
        prepared.push({ job, finish: await job.prepare(batch) });
      } catch (error) {
        job.reject(error);
      }
    }
    // A commit failed while this batch was being decided on top of it: it fails as well.
    if (epoch !== this.epoch) {
      if (this.requeueEpoch === epoch) this.requeue(prepared.map(({ job }) => job));
      else for (const { job } of prepared) job.reject(earlierCommitFailed());
      return;
    }
    this.head = batch.state;
    const previous = this.tail;
    const committed = (async () => {
      try {
        await previous;
      } catch {
        throw earlierCommitFailed();
      }
      if (batch.entries.length === 0) return [];
      const appending = performance.now();
      const records = await this.ledger.append(batch.entries);
      const appendMs = performance.now() - appending;
      this.metrics?.observeAppend(appendMs / 1_000, records.length);
      if (appendMs >= SLOW_COMMIT_MS) log.warn({ appendMs: Math.round(appendMs), events: records.length, jobs: prepared.length, toSeq: records.at(-1)?.seq ?? null }, "slow commit");
      return records;
    })();
    this.tail = committed;
    const settled = committed.then(
      (records) => this.adopt(batch, records, prepared),
      (error: unknown) => {
        // Everything decided on top of this batch fails too; deciding starts again from the committed state.
        if (this.epoch === epoch) {
          this.epoch++;
          this.head = this.state;
          this.tail = Promise.resolve([]);
          this.requeueEpoch = knownIntentKey(error) ? epoch : null;
        }
        if (this.requeueEpoch === epoch) this.requeue(prepared.map(({ job }) => job));
        else for (const { job } of prepared) job.reject(error);
      },
    );
    this.committing.push(settled);
    void settled.finally(() => this.committing.splice(this.committing.indexOf(settled), 1));
  }

  /** A batch committed: its state becomes the runtime's; then, and only then, answers and listeners. */
  private adopt(batch: Batch, records: LedgerRecord[], prepared: { job: Job; finish: Finish<unknown> }[]): void {
    if (records.length > 0) {
      const previousSeq = this.seq;
      this.state = batch.state;
      const events = records.map((record) => record.event);
      const touched = touchedBy(events, this.state);
      for (const record of records) {
        this.seq = record.seq;
        this.remember(record.seq, record.event);
        if (record.event.type === "intent.decided") this.metrics?.countDecision(record.event.decision);
      }
      for (let index = 0; index < records.length; index++) {
        const key = batch.entries[index]!.idempotencyKey;
        if (key?.startsWith("intent:")) this.rememberIntentKey(key, records[index]!.seq);
      }
      this.equityRecorder.committed(records, touched);
      this.notify(records, previousSeq, touched);
      this.checkpoint();
      this.maybeSnapshot();
    }
    for (const { job, finish } of prepared) {
      try {
        job.resolve(finish(records));
      } catch (error) {
        job.reject(error);
      }
    }
  }

  /** Puts jobs back to be decided again (their intent keys looked up in the ledger); a job already back once fails instead. */
  private requeue(jobs: Job[]): void {
    for (const job of jobs) {
      if (job.lookup) {
        job.reject(earlierCommitFailed());
        continue;
      }
      job.lookup = true;
      this.retryJobs.push(job);
    }
    if (this.draining || this.retryJobs.length === 0) return;
    this.draining = true;
    setImmediate(() => void this.drain());
  }

  private rememberIntentKey(key: string, seq: number): void {
    this.recentIntentKeys.set(key, seq);
    if (this.recentIntentKeys.size > RECENT_INTENT_KEYS) {
      const oldest = this.recentIntentKeys.keys().next().value;
      if (oldest !== undefined) this.recentIntentKeys.delete(oldest);
    }
  }

  private apply(record: LedgerRecord): void {
    const before = this.state;
    this.state = evolve(this.state, record.event);
    this.head = this.state;
    this.seq = record.seq;
    this.remember(record.seq, record.event);
    this.equityRecorder.folded(record, before, touchedBy([record.event], this.state));
  }

  private restore(snapshot: StoredSnapshot): void {
    const extras = snapshot.extras as { recent?: DecisionRecord[]; pendingIntents?: Map<string, Intent>; equity?: unknown };
    this.state = snapshot.state;
    this.head = this.state;
    this.seq = snapshot.seq;
    this.recent = extras.recent ?? [];
    this.pendingIntents = extras.pendingIntents ?? new Map();
    if (extras.equity !== undefined) this.equity = EquityHistory.fromJSON(extras.equity, this.equity.budgetBytes);
  }

  /**
   * Every `snapshots.every` events, the state as of the last commit is saved in the background
   * (the state is immutable, so it is captured as is); a start then folds only what follows.
   */
  private maybeSnapshot(): void {
    if (!this.snapshots || this.snapshotting || this.seq - this.snapshotSeq < this.snapshots.every) return;
    // A snapshot of a large book takes a while (sliced, beside the decisions): the next one waits
    // SNAPSHOT_PAUSE times as long as the last took, so snapshots never take more than a small
    // share of the server, whatever the book's size and the event rate.
    if (performance.now() < this.nextSnapshotAfter) return;
    const seq = this.seq;
    const state = this.state;
    const started = performance.now();
    this.snapshotting = true;
    const recent = this.recent.slice(-RECENT_DECISIONS);
    const pendingIntents = new Map(this.pendingIntents);
    // Sliced at a quarter of the loop at most (a slice, then a rest three times as long): at firm
    // scale a snapshot is a second of work, spread over a few seconds beside the decisions. Its own
    // time is that of its slices (and its gzip and write), not of the rests.
    const slicer = new Slicer(undefined, SLICE_MS, SNAPSHOT_REST);
    const pause = () => slicer.step();
    void (async () => {
      // The points still waiting for their interval are figures of this state: recorded (from it,
      // a slice at a time) before the history is written, or a start from this snapshot would
      // never have them (the tail it folds does not touch them).
      await this.equityRecorder.recordAllDueInSteps(state, slicer);
      const equity = this.equity.toJSONLazily();
      const saved = await this.snapshots!.store.save(seq, state, { recent, pendingIntents, equity }, pause, () => rest(SNAPSHOT_PART_GAP_MS));
      this.snapshotSeq = seq;
      log.info({ seq, accounts: state.accounts.size, bytes: saved.bytes, parts: saved.parts, busyMs: Math.round(slicer.busyMs), ms: Math.round(performance.now() - started) }, "state snapshot saved");
    })()
      .catch((error: unknown) => log.error({ seq, error: (error as Error).message }, "could not save a state snapshot"))
      .finally(() => {
        const busyMs = slicer.end();
        this.snapshotting = false;
        this.nextSnapshotAfter = performance.now() + SNAPSHOT_PAUSE * Math.min(busyMs, performance.now() - started);
      });
  }

  private remember(seq: number, event: EngineEvent): void {
    if (event.type === "intent.received") {
      this.pendingIntents.set(event.intent.intentId, event.intent);
    } else if (event.type === "intent.decided") {
      const intent = this.pendingIntents.get(event.decision.intentId);
      this.pendingIntents.delete(event.decision.intentId);
      if (!intent) return;
      this.recent.push({ seq, at: event.at, intent, decision: event.decision });
      if (this.recent.length > RECENT_DECISIONS * 2) this.recent = this.recent.slice(-RECENT_DECISIONS);
    }
  }

  /**
   * Tells the listeners what committed, with the views of the accounts it touched (and only
   * those), built the first time a listener reads them (none does while no dashboard listens).
   */
  private notify(records: LedgerRecord[], previousSeq: number, touched: Touched): void {
    if (records.length === 0 || this.listeners.size === 0) return;
    const state = this.state;
    let views: AccountView[] | null = null;
    const accountsOf = () => {
      if (views) return views;
      views = [];
      for (const accountId of touched) {
        const account = state.accounts.get(accountId);
        if (account) views.push(accountView(account, state));
      }
      return views;
    };
    // This commit's decisions are the newest of the recent ones.
    const firstSeq = records[0]!.seq;
    let from = this.recent.length;
    while (from > 0 && this.recent[from - 1]!.seq >= firstSeq) from--;
    const committed: Committed = {
      // From just after the previous commit: a sequence may skip values (PGlite after kill -9),
      // and the stream must not read that as a gap.
      fromSeq: previousSeq + 1,
      toSeq: records[records.length - 1]!.seq,
      firm: this.firm(),
      records,
      get accounts() {
        return accountsOf();
      },
      decisions: this.recent.slice(from),
      touched,
      state,
    };
    for (const listener of this.listeners) listener(committed);
  }
}

/** Turns a job's committed records (the whole batch's) into its answer. */
type Finish<T> = (records: LedgerRecord[]) => T;

type Job = {
  prepare: (batch: Batch) => Promise<Finish<unknown>> | Finish<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  /** An intent's idempotency key. */
  intentKey?: string;
  /** Decided again after its batch met a key the ledger held: the batch looks its keys up first. */
  lookup?: boolean;
  /** When it was queued (performance.now()), for the queue's age in the metrics. */
  queuedAt: number;
};

/** Jobs per batch: bounds one append's size and the wait of the batch's first job. */
const MAX_BATCH_JOBS = 512;
/** Batches decided ahead of their commit: one committing, one more decided meanwhile. */
const MAX_PIPELINE = 2;
/** An append and commit this slow is logged (a warning: the database or the disk is struggling). */
const SLOW_COMMIT_MS = 250;

/** Whether a failed append met an intent key the ledger already holds (its unique index). */
function knownIntentKey(error: unknown): boolean {
  const cause = (error as { cause?: { code?: unknown; constraint?: unknown } } | null)?.cause;
  return cause?.code === "23505" && cause.constraint === "ledger_events_idempotency_key_key";
}

function earlierCommitFailed(): AppError {
  return new AppError("storage_unavailable", "the ledger is unavailable (an earlier commit failed); nothing was recorded");
}
const RECENT_INTENT_KEYS = 50_000;
