import { createHash } from "node:crypto";
import type { Database } from "../db/database";
import { AppError } from "../errors";

export type StoredResponse = { status: number; contentType: string; body: string };

/**
 * `Idempotency-Key` for mutating calls: the first answer (2xx or 4xx) is kept with a hash of the
 * request; a retry with the same key and body gets that answer again without running the call;
 * the same key with another body is 409. A 5xx is not kept, so a retry after an outage runs the
 * call. Concurrent calls with one key run once: the others wait for the first.
 */
export class IdempotencyStore {
  private readonly inflight = new Map<string, Promise<StoredResponse>>();

  constructor(private readonly db: Database) {}

  async run(scope: string, key: string, request: string, produce: () => Promise<StoredResponse>): Promise<{ response: StoredResponse; replayed: boolean }> {
    const id = createHash("sha256").update(`${scope}\n${key}`).digest("hex");
    const requestHash = createHash("sha256").update(request).digest("hex");
    const running = this.inflight.get(id);
    if (running) {
      await running.catch(() => undefined);
      return this.run(scope, key, request, produce);
    }
    const stored = await this.db.prisma.idempotencyKey.findUnique({ where: { key: id } }).catch((error: unknown) => {
      throw new AppError("storage_unavailable", "cannot check the Idempotency-Key: the database is unavailable", [], { cause: error });
    });
    if (stored) {
      if (stored.requestHash !== requestHash) {
        throw new AppError("idempotency_mismatch", "this Idempotency-Key was used with a different request");
      }
      return { response: { status: stored.status, contentType: stored.contentType, body: stored.body }, replayed: true };
    }
    const work = produce();
    this.inflight.set(id, work);
    try {
      const response = await work;
      if (response.status < 500) {
        await this.db.prisma.idempotencyKey
          .createMany({ data: [{ key: id, requestHash, ...response }], skipDuplicates: true })
          .catch((error: unknown) => console.error(`could not keep an idempotent answer: ${(error as Error).message}`));
      }
      return { response, replayed: false };
    } finally {
      this.inflight.delete(id);
    }
  }
}
