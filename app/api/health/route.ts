import { endpoints } from "@/server/api/catalog";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** Liveness and readiness: 200 when the ledger answers, 503 (and why) when it does not. */
export const GET = handle(endpoints.health, async ({ services }) => {
  const { runtime, databaseKind, startedAt } = services;
  const base = { database: databaseKind, seq: runtime.lastSeq, uptimeSeconds: Math.round((Date.now() - startedAt) / 1000), ...services.health() };
  try {
    await runtime.ping();
    return json({ status: "ok", ...base });
  } catch (error) {
    return json({ status: "unavailable", reason: `database unreachable: ${(error as Error).message}`, ...base }, 503);
  }
});
