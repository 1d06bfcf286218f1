import path from "node:path";
import { z } from "zod";

/**
 * Every setting comes from the environment, parsed once here. A bad value stops the start with
 * a message naming the variable. README.md lists each of these.
 */
const flag = z.enum(["0", "1", "true", "false"]).transform((value) => value === "1" || value === "true");

const EnvSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default("0.0.0.0"),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/.+/, "must be a postgresql:// URL")
    .optional(),
  RISKGATE_DATA_DIR: z.string().min(1).default("./data"),
  RISKGATE_DEMO: flag.default(true),
});

export type Config = {
  dev: boolean;
  port: number;
  host: string;
  database: { kind: "postgresql"; url: string } | { kind: "pglite"; dataDir: string };
  demo: boolean;
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
  };
}
