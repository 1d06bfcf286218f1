-- Preset versions: every version of every preset, shipped (presets/*.json) or edited in the console.
CREATE TABLE "preset_versions" (
    "preset_id" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "body" JSONB NOT NULL,
    "origin" TEXT NOT NULL,
    "note" TEXT NOT NULL,
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "preset_versions_pkey" PRIMARY KEY ("preset_id", "version")
);
