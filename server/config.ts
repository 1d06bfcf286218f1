import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import type { EngineConfigInput } from "./engine/config";
import { EngineConfig } from "./engine/config";
import { defaultInstruments } from "./instruments";

/**
 * Every setting comes from the environment, parsed once here. A bad value stops the start with
 * a message naming the variable. README.md lists each of these.
 */

const EnvSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default("0.0.0.0"),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/.+/, "must be a postgresql:// URL")
    .optional(),
  RISKGATE_DATA_DIR: z.string().min(1).default("./data"),
  /** 1 (default): demo accounts and the live simulation; accounts: the accounts only; 0: neither. */
  RISKGATE_DEMO: z
    .enum(["0", "1", "true", "false", "on", "off", "accounts"])
    .transform((value) => (value === "accounts" ? "accounts" : ["1", "true", "on"].includes(value) ? "live" : "off"))
    .default("live"),
  RISKGATE_DEMO_SEED: z.coerce.number().int().min(0).max(4_294_967_295).default(42),
  RISKGATE_ENGINE_CONFIG: z.string().min(1).optional(),
});

export type Config = {
  dev: boolean;
  port: number;
  host: string;
  database: { kind: "postgresql"; url: string } | { kind: "pglite"; dataDir: string };
  demo: "live" | "accounts" | "off";
  demoSeed: number;
  engine: EngineConfig;
};

export class ConfigError extends Error {}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ""));
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
  }
  const values = parsed.data;
  return {
    dev: values.NODE_ENV === "development",
    port: values.PORT,
    host: values.HOST,
    database: values.DATABASE_URL
      ? { kind: "postgresql", url: values.DATABASE_URL }
      : { kind: "pglite", dataDir: path.resolve(values.RISKGATE_DATA_DIR, "pglite") },
    demo: values.RISKGATE_DEMO,
    demoSeed: values.RISKGATE_DEMO_SEED,
    engine: loadEngineConfig(values.RISKGATE_ENGINE_CONFIG),
  };
}

/**
 * The engine configuration: the built-in instruments and guard defaults, or a JSON file
 * (RISKGATE_ENGINE_CONFIG) in the engine config schema; a file without `instruments` keeps the
 * built-in ones.
 */
function loadEngineConfig(file: string | undefined): EngineConfig {
  if (!file) return EngineConfig.parse({ instruments: defaultInstruments });
  let input: EngineConfigInput;
  try {
    input = JSON.parse(fs.readFileSync(file, "utf8")) as EngineConfigInput;
  } catch (error) {
    throw new ConfigError(`invalid configuration:\n  RISKGATE_ENGINE_CONFIG: cannot read ${file}: ${(error as Error).message}`);
  }
  const parsed = EngineConfig.safeParse({ instruments: defaultInstruments, ...input });
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  RISKGATE_ENGINE_CONFIG (${file}) ${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
  }
  return parsed.data;
}
