import { endpoints } from "@/server/api/catalog";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** A finished run's ledger replayed through the engine (done in the run's worker): counts, mismatches, state hash, decisions. */
export const GET = handle(endpoints.backtestReplay, async ({ params, services, principal }) => json({ replay: services.backtests.replay(params.backtestId, principal!) }));
