import { endpoints } from "@/server/api/catalog";
import { handle, json } from "@/server/http/route";
import { overviewOf } from "@/server/overview";

export const dynamic = "force-dynamic";

/** A window of the firm overview: the rows of the ordered, filtered list, with counts, exposure, breaches and decisions. */
export const GET = handle(endpoints.overview, async ({ query, services, principal }) => {
  return json(await overviewOf(services.runtime).page(query, principal!));
});
