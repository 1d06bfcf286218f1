import { endpoints } from "@/server/api/catalog";
import { seesFirmFigures } from "@/server/auth/roles";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

/**
 * Liveness and readiness: 200 `{status: "ok"}` when the ledger answers, 503 `{status:
 * "unavailable"}` when it does not. Credentials are optional: callers who may read the firm's
 * metrics also get the details (database kind, seq, uptime, alert and stream statistics, and why
 * it is unavailable); anyone else learns only whether the server is up.
 */
export const GET = handle(endpoints.health, async ({ services, principal }) => {
  const { runtime, databaseKind, startedAt } = services;
  const detailed = seesFirmFigures(principal);
  const details = () => ({ database: databaseKind, seq: runtime.lastSeq, uptimeSeconds: Math.round((Date.now() - startedAt) / 1000), ...services.health() });
  try {
    await runtime.ping();
    return json({ status: "ok", ...(detailed ? details() : {}) });
  } catch (error) {
    return json({ status: "unavailable", ...(detailed ? { reason: `database unreachable: ${(error as Error).message}`, ...details() } : {}) }, 503);
  }
});
