import fs from "node:fs";
import { stopEmbeddedPostgres } from "../server/db/embedded-postgres";

/** After the run: the embedded PostgreSQL of the server the run started is stopped (should the server not have), and its folder removed. */
export default async function teardown(): Promise<void> {
  const dataDir = process.env.E2E_DATA_DIR;
  if (!dataDir) return;
  await stopEmbeddedPostgres(dataDir);
  fs.rmSync(dataDir, { recursive: true, force: true });
}
