import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { DEFAULT_BUDGET_MB } from "./equity-history";
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
  /** Seeds the admin user's password on first start (else a one-time password is printed). */
  RISKGATE_ADMIN_PASSWORD: z.string().min(12, "must be at least 12 characters").optional(),
  /** An admin bearer token (programs, CI); a new value replaces the previous one. */
  RISKGATE_ADMIN_TOKEN: z.string().min(24, "must be at least 24 characters").optional(),
  /** How long a console login lasts (default 12 hours). */
  RISKGATE_SESSION_TTL_SECONDS: z.coerce.number().int().min(1).max(30 * 24 * 60 * 60).default(12 * 60 * 60),
  /** Events between two state snapshots (fast start on a long ledger). */
  RISKGATE_SNAPSHOT_EVERY: z.coerce.number().int().min(100).default(10_000),
  /** The whole book's equity history (the console's charts) at most, in MiB; a larger book keeps less of each account's. */
  RISKGATE_EQUITY_HISTORY_MB: z.coerce.number().int().min(1).max(1_048_576).default(DEFAULT_BUDGET_MB),
  /** Socket.IO fans out across several server processes through this Redis. */
  REDIS_URL: z.string().regex(/^rediss?:\/\/.+/, "must be a redis:// URL").optional(),
  /** Alerts: a generic webhook (JSON POST). */
  RISKGATE_ALERT_WEBHOOK_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Alerts: the Telegram Bot API (both or neither). */
  TELEGRAM_BOT_TOKEN: z.string().min(1).optional(),
  TELEGRAM_CHAT_ID: z.string().min(1).optional(),
  TELEGRAM_API_BASE_URL: z.url({ protocol: /^https?$/ }).default("https://api.telegram.org"),
  /** Guard 18: an OpenAI-compatible chat-completions endpoint as the reviewer (else the rule reviewer). */
  RISKGATE_REVIEWER_URL: z.url({ protocol: /^https?$/ }).optional(),
  RISKGATE_REVIEWER_MODEL: z.string().min(1).default("gpt-4o-mini"),
  RISKGATE_REVIEWER_API_KEY: z.string().min(1).optional(),
}).refine((env) => (env.TELEGRAM_BOT_TOKEN === undefined) === (env.TELEGRAM_CHAT_ID === undefined), {
  message: "set TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID together",
  path: ["TELEGRAM_CHAT_ID"],
});

export type Config = {
  dev: boolean;
  port: number;
  host: string;
  database: { kind: "postgresql"; url: string } | { kind: "embedded"; dataDir: string };
  demo: "live" | "accounts" | "off";
  demoSeed: number;
  engine: EngineConfig;
  admin: { password: string | null; token: string | null };
  sessionTtlMs: number;
  snapshotEvery: number;
  equityHistoryBytes: number;
  redisUrl: string | null;
  /** The LLM reviewer's endpoint; null: the rule reviewer decides guard 18. */
  reviewer: { url: string; model: string; apiKey: string | null } | null;
  alerts: {
    webhookUrl: string | null;
    telegram: { botToken: string; chatId: string; apiBaseUrl: string } | null;
  };
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
      : { kind: "embedded", dataDir: path.resolve(values.RISKGATE_DATA_DIR) },
    demo: values.RISKGATE_DEMO,
    demoSeed: values.RISKGATE_DEMO_SEED,
    engine: loadEngineConfig(values.RISKGATE_ENGINE_CONFIG),
    admin: { password: values.RISKGATE_ADMIN_PASSWORD ?? null, token: values.RISKGATE_ADMIN_TOKEN ?? null },
    sessionTtlMs: values.RISKGATE_SESSION_TTL_SECONDS * 1000,
    snapshotEvery: values.RISKGATE_SNAPSHOT_EVERY,
    equityHistoryBytes: values.RISKGATE_EQUITY_HISTORY_MB * 1024 * 1024,
    redisUrl: values.REDIS_URL ?? null,
    reviewer: values.RISKGATE_REVIEWER_URL
      ? { url: values.RISKGATE_REVIEWER_URL, model: values.RISKGATE_REVIEWER_MODEL, apiKey: values.RISKGATE_REVIEWER_API_KEY ?? null }
      : null,
    alerts: {
      webhookUrl: values.RISKGATE_ALERT_WEBHOOK_URL ?? null,
      telegram:
        values.TELEGRAM_BOT_TOKEN && values.TELEGRAM_CHAT_ID
          ? { botToken: values.TELEGRAM_BOT_TOKEN, chatId: values.TELEGRAM_CHAT_ID, apiBaseUrl: values.TELEGRAM_API_BASE_URL }
          : null,
    },
  };
}

/**
 * The engine configuration: the built-in instruments and guard defaults, or a JSON file
 * (RISKGATE_ENGINE_CONFIG) in the engine config schema; a file without `instruments` keeps the
 * built-in ones. The server, `npm run backtest` and `npm run verify` all read it here.
 */
export function loadEngineConfig(file: string | undefined = process.env.RISKGATE_ENGINE_CONFIG || undefined): EngineConfig {
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
