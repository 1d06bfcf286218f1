-- Issue 16, finding 8: a token created with an Idempotency-Key had its answer, secret included,
-- kept for retries. Those answers keep the token's view, with "token": null and a detail, as a
-- retry answers from now on (app/api/v1/tokens/route.ts): no secret stays at rest. Such an
-- answer is a 201 whose JSON starts with the token ({"token":"rg_…", …}).
UPDATE "idempotency_keys"
SET "body" = (("body"::jsonb - 'token') || jsonb_build_object(
        'token', NULL,
        'detail', 'this token was created by the first call with this Idempotency-Key; its secret was in that answer only and is not kept: revoke the token and create another if it was lost'
    ))::text
WHERE "completed_at" IS NOT NULL
  AND "status" = 201
  AND "body" LIKE '{"token":"rg\_%' ESCAPE '\';
