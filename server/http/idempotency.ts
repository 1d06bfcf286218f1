import { createHash } from "node:crypto";
import type { Database } from "../db/database";
import { AppError } from "../errors";

export type StoredResponse = { status: number; contentType: string; body: string };

/** How a call that holds a claim ended: what its concurrent retries answer or throw. */
type Outcome = { response: StoredResponse } | { error: unknown };

/** A key claimed by a call running in this process. */
type Claim = { requestHash: string; settled: Promise<Outcome> };

/**
 * Claims the key: a new pending row, or a pending row that no call of this process holds (see
 * `run`), taken over. No row comes back when the key already has an answer.
 */
const CLAIM_SQL = `INSERT INTO "idempotency_keys" ("key", "request_hash") VALUES ($1, $2)
  ON CONFLICT ("key") DO UPDATE SET "request_hash" = EXCLUDED."request_hash", "created_at" = CURRENT_TIMESTAMP
    WHERE "idempotency_keys"."completed_at" IS NULL
  RETURNING "key"`;
const COMPLETE_SQL = `UPDATE "idempotency_keys" SET "status" = $2, "content_type" = $3, "body" = $4, "completed_at" = CURRENT_TIMESTAMP
  WHERE "key" = $1 AND "completed_at" IS NULL`;
const RELEASE_SQL = `DELETE FROM "idempotency_keys" WHERE "key" = $1 AND "completed_at" IS NULL`;
const ANSWER_SQL = `SELECT "request_hash", "status", "content_type", "body" FROM "idempotency_keys" WHERE "key" = $1 AND "completed_at" IS NOT NULL`;
const RELEASE_ALL_SQL = `DELETE FROM "idempotency_keys" WHERE "completed_at" IS NULL`;

/**
 * `Idempotency-Key` for mutating calls: the first answer (2xx or 4xx) is kept with a hash of the
 * request; a retry with the same key and body gets that answer again without running the call;
 * the same key with another body is 409. A 5xx is not kept, so a retry after an outage runs the
 * call.
 *
 * A call claims its key in the database (a pending row) before it runs, and completes the row
 * with its answer; a 5xx answer or an error deletes the row. Concurrent calls with one key in
 * this process wait for the claiming call's outcome (a promise, not a poll) and answer with it.
 * One server decides per database (the ledger's writer lock), so a pending row no call of this
 * process holds was left by a server that stopped (released at start, `releasePending`) or by a
 * completion and a release that both failed here: the next call with its key takes it over.
 */
export class IdempotencyStore {
  /** By key id; set before the claim is taken, deleted once the claim is completed or released. */
  private readonly claims = new Map<string, Claim>();

  constructor(private readonly db: Database) {}

  async run(scope: string, key: string, request: string, produce: () => Promise<StoredResponse>): Promise<{ response: StoredResponse; replayed: boolean }> {
    const id = createHash("sha256").update(`${scope}\n${key}`).digest("hex");
    const requestHash = createHash("sha256").update(request).digest("hex");
    const running = this.claims.get(id);
    if (running) {
      if (running.requestHash !== requestHash) throw mismatch();
      const outcome = await running.settled;
      if ("error" in outcome) throw outcome.error;
      return { response: outcome.response, replayed: true };
    }
    let settle!: (outcome: Outcome) => void;
    this.claims.set(id, { requestHash, settled: new Promise<Outcome>((resolve) => (settle = resolve)) });
    try {
      const result = await this.claimAndRun(id, requestHash, produce);
      settle({ response: result.response });
      return result;
    } catch (error) {
      settle({ error });
      throw error;
    } finally {
      this.claims.delete(id);
    }
  }

  /**
   * Deletes every pending claim: called once at start, before the server answers, when the
   * claims' calls have all ended with the server that took them. Returns how many there were.
   */
  async releasePending(): Promise<number> {
    const released = await this.db.pool.query(RELEASE_ALL_SQL);
    return released.rowCount ?? 0;
  }

  private async claimAndRun(id: string, requestHash: string, produce: () => Promise<StoredResponse>): Promise<{ response: StoredResponse; replayed: boolean }> {
    const claimed = await this.db.pool.query(CLAIM_SQL, [id, requestHash]).catch((error: unknown) => {
      throw unavailable("cannot claim the Idempotency-Key", error);
    });
    if (claimed.rowCount === 0) return { response: await this.answer(id, requestHash), replayed: true };
    let response: StoredResponse;
    try {
      response = await produce();
    } catch (error) {
      await this.release(id);
      throw error;
    }
    if (response.status >= 500) await this.release(id);
    else await this.complete(id, response);
    return { response, replayed: false };
  }

  /** The answer kept for the key. */
  private async answer(id: string, requestHash: string): Promise<StoredResponse> {
    const found = await this.db.pool
      .query<{ request_hash: string; status: number; content_type: string; body: string }>(ANSWER_SQL, [id])
      .catch((error: unknown) => {
        throw unavailable("cannot read the Idempotency-Key's answer", error);
      });
    const stored = found.rows[0];
    // Kept answers are never deleted: an answer that vanished between two statements is a fault.
    if (!stored) throw unavailable("the Idempotency-Key's answer could not be read", null);
    if (stored.request_hash !== requestHash) throw mismatch();
    return { status: stored.status, contentType: stored.content_type, body: stored.body };
  }

  /** Keeps the answer. The call has run: a failure here is logged, and the claim released. */
  private async complete(id: string, response: StoredResponse): Promise<void> {
    try {
      await this.db.pool.query(COMPLETE_SQL, [id, response.status, response.contentType, response.body]);
    } catch (error) {
      console.error(`could not keep an idempotent answer: ${(error as Error).message}`);
      await this.release(id);
    }
  }

  /** Deletes the claim, so that a retry runs the call. */
  private async release(id: string): Promise<void> {
    await this.db.pool.query(RELEASE_SQL, [id]).catch((error: unknown) => {
      console.error(`could not release an Idempotency-Key claim (the next call with the key takes it over): ${(error as Error).message}`);
    });
  }
}

function mismatch(): AppError {
  return new AppError("idempotency_mismatch", "this Idempotency-Key was used with a different request");
}

function unavailable(what: string, cause: unknown): AppError {
  return new AppError("storage_unavailable", `${what}: the database is unavailable`, [], { cause });
}
