import { afterEach, describe, expect, it, vi } from "vitest";
import { touchedBy } from "@/server/account-index";
import type { EngineEvent } from "@/server/engine/events";
import { AccountId } from "@/server/engine/ids";
import type { EngineState } from "@/server/engine/state";
import { evolve } from "@/server/engine/state";
import { AccountSpec } from "@/server/engine/types";
import { EquityHistory } from "@/server/equity-history";
import { EquityRecorder } from "@/server/equity-recorder";
import type { LedgerRecord } from "@/server/ledger";
import { Slicer } from "@/server/slices";
import { given } from "./given";

/** The runtime's equity recording, conflated per account at a live server's interval (a second). */

const [A, B, C] = ["acc-a", "acc-b", "acc-c"].map((id) => AccountId.parse(id)) as [AccountId, AccountId, AccountId];

class Desk {
  state: EngineState = given();
  seq = 0;
  now = 1_000;
  readonly history = new EquityHistory();
  readonly recorder = new EquityRecorder(() => this.state, () => this.now, 1_000, this.history);

  constructor() {
    this.recorder.recordBeforeReads();
    this.commit(
      [A, B, C].map((accountId): EngineEvent => ({ type: "account.opened", at: 500, by: "system", account: AccountSpec.parse({ accountId, name: accountId, presetId: "p", initialBalanceUsd: 100_000 }) })),
    );
  }

  /** Folds `events` and tells the recorder, as a commit does. */
  commit(events: EngineEvent[]): void {
    for (const event of events) this.state = evolve(this.state, event);
    const records = events.map((event): LedgerRecord => ({ seq: ++this.seq, event, recordedAt: this.now }) as unknown as LedgerRecord);
    this.recorder.committed(records, touchedBy(events, this.state));
  }

  /** An event of each account's own (a manual trip and reset), at `at`. */
  touch(at: number, ...accountIds: AccountId[]): void {
    this.commit(
      accountIds.flatMap((accountId): EngineEvent[] => [
        { type: "breaker.tripped", at, accountId, breaker: "manual", reason: "test", by: "rm" },
        { type: "breaker.reset", at, accountId, breaker: "manual", reason: "test", by: "rm" },
      ]),
    );
  }
}

/**
 * A desk whose equity pass, for changes of A, B and C at 2,000, has recorded one of them and rests
 * (a slice that had its time, as a large book's pass does): the accounts still waiting in it.
 */
async function deskWithARestingPass(): Promise<{ desk: Desk; waiting: [AccountId, AccountId] }> {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
  const desk = new Desk();
  await vi.advanceTimersByTimeAsync(1_100);
  desk.touch(2_000, A, B, C);
  vi.spyOn(Slicer.prototype, "due", "get").mockReturnValueOnce(true);
  await vi.advanceTimersByTimeAsync(1_000); // the pass starts, records one account, rests
  const waiting = [A, B, C].filter((id) => desk.history.lastAt(id) < 2_000);
  expect(waiting).toHaveLength(2);
  return { desk, waiting: waiting as [AccountId, AccountId] };
}

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe("the equity recorder", () => {
  it("records an account's point once an interval after its change, from the state then", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    const desk = new Desk();
    await vi.advanceTimersByTimeAsync(1_100); // the opening's points
    expect([A, B, C].map((id) => desk.history.size(id))).toEqual([1, 1, 1]);
    desk.touch(2_000, A);
    desk.touch(2_300, A);
    expect(desk.history.size(A)).toBe(1); // conflated: not yet
    await vi.advanceTimersByTimeAsync(1_100);
    expect(desk.history.size(A)).toBe(2); // one point for both changes
    expect(desk.history.lastAt(A)).toBe(2_300);
    expect(desk.history.size(B)).toBe(1);
  });

  it("lets a snapshot taken while a pass records write what the pass had taken, and the pass then records no older point", async () => {
    const { desk, waiting } = await deskWithARestingPass();
    expect([A, B, C].filter((id) => desk.history.lastAt(id) === 2_000)).toHaveLength(1);
    const [left1, left2] = waiting;
    desk.touch(2_500, left1); // noted again while the pass rests
    // The snapshot of this state: every point due is in it, the pass's taken ones too.
    await desk.recorder.recordAllDueInSteps(desk.state, new Slicer());
    expect(desk.history.lastAt(left1)).toBe(2_500);
    expect(desk.history.lastAt(left2)).toBe(2_000);
    await vi.advanceTimersByTimeAsync(2_000); // the pass ends, and the next finds nothing due
    expect([A, B, C].map((id) => desk.history.size(id))).toEqual([2, 2, 2]);
    expect(desk.history.lastAt(left1)).toBe(2_500);
  });

  it("records on a read the point a running pass had taken and not yet recorded", async () => {
    const { desk, waiting } = await deskWithARestingPass();
    // A chart read of one of them, while the pass rests: its point is there.
    desk.history.query(waiting[0]!, { points: 100 });
    expect(desk.history.lastAt(waiting[0]!)).toBe(2_000);
    expect(desk.history.size(waiting[0]!)).toBe(2);
    await vi.advanceTimersByTimeAsync(2_000);
    expect([A, B, C].map((id) => desk.history.size(id))).toEqual([2, 2, 2]);
  });
});
