import fs from "node:fs";
import path from "node:path";
import { isDeepStrictEqual } from "node:util";
import type { Database } from "./db/database";
import type { PresetRules } from "./engine/decide";
import type { PresetId } from "./engine/ids";
import type { Preset } from "./engine/preset";
import { validatePreset } from "./engine/preset";
import { AppError } from "./errors";

/** The shipped presets: one JSON file per preset. */
export const PRESETS_DIR = path.join(import.meta.dirname, "..", "presets");

export type PresetOrigin = "file" | "api";

export type PresetVersion = {
  presetId: PresetId;
  version: number;
  preset: Preset;
  /** `file`: from presets/*.json; `api`: made in the console or through the API. */
  origin: PresetOrigin;
  note: string;
  createdBy: string;
  createdAt: number;
};

export type PresetSummary = Pick<Preset, "id" | "name" | "firm" | "program" | "description" | "initialBalanceUsd"> & {
  /** The latest version's `currency` (its amounts', and its accounts'), null when it states none. */
  currency: string | null;
  latestVersion: number;
  versions: { version: number; origin: PresetOrigin; note: string; createdBy: string; createdAt: number }[];
};

export class PresetFileError extends Error {}

/**
 * Reads and validates every `*.json` in `dir`; a file that is not a valid preset stops the
 * start with its name and every issue's field path.
 */
export function readPresetFiles(dir = PRESETS_DIR): { file: string; preset: Preset }[] {
  const files = fs.readdirSync(dir).filter((name) => name.endsWith(".json")).sort();
  const presets = files.map((name) => {
    const file = path.join(dir, name);
    let json: unknown;
    try {
      json = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (error) {
      throw new PresetFileError(`preset ${file}: not JSON: ${(error as Error).message}`);
    }
    const result = validatePreset(json);
    if (!result.ok) throw new PresetFileError(`preset ${file}:\n${result.issues.map((issue) => `  ${issue.path || "(root)"}: ${issue.message}`).join("\n")}`);
    if (`${result.preset.id}.json` !== name) throw new PresetFileError(`preset ${file}: its id is ${result.preset.id}; the file must be named ${result.preset.id}.json`);
    return { file, preset: result.preset };
  });
  return presets;
}

type Row = { presetId: string; version: number; body: unknown; origin: string; note: string; createdBy: string; createdAt: Date };

/**
 * Every version of every preset, in the database. Versions are never changed or deleted: an
 * account's `preset.activated` names a version, and the ledger records its rules whole.
 */
export class PresetStore {
  constructor(private readonly db: Database) {}

  /**
   * Records each shipped preset whose content is not its latest file version yet (a new file,
   * or a changed one) as a new version. Returns the ids recorded.
   */
  async sync(files: readonly { preset: Preset }[]): Promise<string[]> {
    const recorded: string[] = [];
    for (const { preset } of files) {
      const versions = await this.versions(preset.id);
      const fromFile = versions.filter((version) => version.origin === "file").at(-1);
      if (fromFile && isDeepStrictEqual(fromFile.preset, preset)) continue;
      await this.insert(preset, "file", versions.length === 0 ? "shipped preset" : "shipped preset changed", "system", false);
      recorded.push(preset.id);
    }
    return recorded;
  }

  async list(): Promise<PresetSummary[]> {
    const rows = await this.db.prisma.presetVersion.findMany({ orderBy: [{ presetId: "asc" }, { version: "asc" }] });
    const byId = new Map<string, PresetVersion[]>();
    for (const version of readable(rows)) {
      (byId.get(version.presetId) ?? byId.set(version.presetId, []).get(version.presetId)!).push(version);
    }
    return [...byId.values()].map((versions) => {
      const { preset, version } = versions.at(-1)!;
      const { id, name, firm, program, description, initialBalanceUsd } = preset;
      return {
        id,
        name,
        firm,
        program,
        description,
        initialBalanceUsd,
        currency: preset.currency ?? null,
        latestVersion: version,
        versions: versions.map(({ version: v, origin, note, createdBy, createdAt }) => ({ version: v, origin, note, createdBy, createdAt })),
      };
    });
  }

  /** Every version of a preset, oldest first; empty for an unknown id. */
  async versions(presetId: string): Promise<PresetVersion[]> {
    const rows = await this.db.prisma.presetVersion.findMany({ where: { presetId }, orderBy: { version: "asc" } });
    return readable(rows);
  }

  /** One version (the latest when `version` is omitted), or null. */
  async get(presetId: string, version?: number): Promise<PresetVersion | null> {
    const row =
      version === undefined
        ? await this.db.prisma.presetVersion.findFirst({ where: { presetId }, orderBy: { version: "desc" } })
        : await this.db.prisma.presetVersion.findUnique({ where: { presetId_version: { presetId, version } } });
    return row ? toVersion(row) : null;
  }

  /** The rules of a version (the latest by default) for the engine; 404 when there is none. */
  async resolve(presetId: string, version?: number): Promise<PresetRules & { preset: Preset }> {
    const found = await this.get(presetId, version);
    if (!found) {
      const which = version === undefined ? `preset ${presetId}` : `version ${version} of preset ${presetId}`;
      throw new AppError("validation_failed", `presetId: there is no ${which}`, [{ path: version === undefined ? "presetId" : "version", message: `there is no ${which}` }]);
    }
    return { presetId: found.presetId, version: found.version, rules: found.preset.rules, preset: found.preset };
  }

  /** A new preset (version 1); 409 when the id is taken. */
  async create(preset: Preset, by: string, note: string): Promise<PresetVersion> {
    if ((await this.get(preset.id)) !== null) throw new AppError("conflict", `preset ${preset.id} exists: add a version to it instead`);
    return this.insert(preset, "api", note, by, true);
  }

  /** The next version of an existing preset; 409 when it would equal the latest. */
  async addVersion(presetId: string, preset: Preset, by: string, note: string): Promise<PresetVersion> {
    if (preset.id !== presetId) {
      throw new AppError("validation_failed", `id: a version of ${presetId} must keep its id`, [{ path: "id", message: `must be ${presetId}` }]);
    }
    const latest = await this.get(presetId);
    if (!latest) throw new AppError("not_found", `no preset ${presetId}`);
    if (isDeepStrictEqual(latest.preset, preset)) throw new AppError("conflict", `this is version ${latest.version} of ${presetId} unchanged`);
    return this.insert(preset, "api", note, by, false);
  }

  /** Inserts the next version number in one statement; two writers racing for it retry once. */
  private async insert(preset: Preset, origin: PresetOrigin, note: string, by: string, create: boolean, attempt = 0): Promise<PresetVersion> {
    try {
      const rows = await this.db.prisma.$queryRawUnsafe<Row[]>(
        `INSERT INTO "preset_versions" ("preset_id", "version", "body", "origin", "note", "created_by")
         SELECT $1, COALESCE(MAX("version"), 0) + 1, $2::jsonb, $3, $4, $5 FROM "preset_versions" WHERE "preset_id" = $1
         RETURNING "preset_id" AS "presetId", "version", "body", "origin", "note", "created_by" AS "createdBy", "created_at" AS "createdAt"`,
        preset.id,
        JSON.stringify(preset),
        origin,
        note,
        by,
      );
      return toVersion(rows[0]!);
    } catch (error) {
      if (/unique|duplicate key|preset_versions_pkey/i.test(String(error))) {
        // A new preset raced by another: the id is taken. A new version raced: the next number, once.
        if (create) throw new AppError("conflict", `preset ${preset.id} exists: add a version to it instead`);
        if (attempt === 0) return this.insert(preset, origin, note, by, false, 1);
      }
      throw error;
    }
  }
}

/**
 * The stored versions that still validate. One that no longer does (a schema change since it
 * was written) is left out with a warning rather than making every preset unreadable; asked
 * for by number, it is an error of its own.
 */
function readable(rows: Row[]): PresetVersion[] {
  return rows.flatMap((row) => {
    try {
      return [toVersion(row)];
    } catch (error) {
      console.warn((error as Error).message);
      return [];
    }
  });
}

function toVersion(row: Row): PresetVersion {
  // Stored bodies were valid when written; parsing them again fills defaults added since.
  const result = validatePreset(row.body);
  if (!result.ok) throw new Error(`stored preset ${row.presetId} v${row.version} no longer validates: ${result.issues[0]?.path} ${result.issues[0]?.message}`);
  return {
    presetId: result.preset.id,
    version: row.version,
    preset: result.preset,
    origin: row.origin === "file" ? "file" : "api",
    note: row.note,
    createdBy: row.createdBy,
    createdAt: new Date(row.createdAt).getTime(),
  };
}
