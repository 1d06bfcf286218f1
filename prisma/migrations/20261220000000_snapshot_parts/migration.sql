-- Issue 15: a snapshot of a large book is written as parts of at most 256 KiB (gzip'd JSON, in
-- order) instead of one value: no single multi-megabyte parameter is built on the server's event
-- loop. A snapshot row with "parts" = 0 keeps its bytes in "state", as before.
ALTER TABLE "state_snapshots" ADD COLUMN "parts" INTEGER NOT NULL DEFAULT 0;

CREATE TABLE "state_snapshot_parts" (
    "seq" BIGINT NOT NULL,
    "part" INTEGER NOT NULL,
    "bytes" BYTEA NOT NULL,
    CONSTRAINT "state_snapshot_parts_pkey" PRIMARY KEY ("seq", "part")
);
