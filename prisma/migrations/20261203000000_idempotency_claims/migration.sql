-- An Idempotency-Key is claimed before its call runs: a pending row (no answer yet, no
-- "completed_at") that the answer completes, or that is deleted when the call fails (5xx or an
-- error). Rows kept before this migration are complete answers.
ALTER TABLE "idempotency_keys"
    ADD COLUMN "completed_at" TIMESTAMPTZ(3),
    ALTER COLUMN "status" DROP NOT NULL,
    ALTER COLUMN "content_type" DROP NOT NULL,
    ALTER COLUMN "body" DROP NOT NULL;

UPDATE "idempotency_keys" SET "completed_at" = "created_at";

-- A claim is either pending (no answer) or complete (the whole answer).
ALTER TABLE "idempotency_keys" ADD CONSTRAINT "idempotency_keys_answer_check" CHECK (
    CASE WHEN "completed_at" IS NULL
        THEN "status" IS NULL AND "content_type" IS NULL AND "body" IS NULL
        ELSE "status" IS NOT NULL AND "content_type" IS NOT NULL AND "body" IS NOT NULL
    END
);

-- The pending claims, released at each start: only the few in flight, whatever the table's size.
CREATE INDEX "idempotency_keys_pending_idx" ON "idempotency_keys" ("key") WHERE "completed_at" IS NULL;
