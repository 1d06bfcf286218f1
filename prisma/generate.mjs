// Runs `prisma generate` offline. The Prisma CLI insists on locating a native schema engine it
// would otherwise download; generate never runs it, so any existing file satisfies the check.
import { spawnSync } from "node:child_process";

const env = { ...process.env };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;
env.PRISMA_HIDE_UPDATE_MESSAGE = "1";
const result = spawnSync("prisma", ["generate"], { stdio: "inherit", env, shell: true });
process.exit(result.status ?? 1);
