-- The append-only event ledger.
CREATE TABLE "ledger_events" (
    "seq" BIGSERIAL NOT NULL,
    "stream_id" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "recorded_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "idempotency_key" TEXT,
    CONSTRAINT "ledger_events_pkey" PRIMARY KEY ("seq")
);

CREATE UNIQUE INDEX "ledger_events_idempotency_key_key" ON "ledger_events"("idempotency_key");
CREATE INDEX "ledger_events_stream_id_seq_idx" ON "ledger_events"("stream_id", "seq");

-- Append-only: refuse updates and deletes at the database itself.
CREATE FUNCTION "ledger_events_append_only"() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'ledger_events is append-only';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "ledger_events_no_update_delete"
  BEFORE UPDATE OR DELETE ON "ledger_events"
  FOR EACH ROW EXECUTE FUNCTION "ledger_events_append_only"();
