import { endpoints } from "@/server/api/catalog";
import { handle } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** Prometheus metrics, text exposition format (scrape with a token of the metrics permission). */
export const GET = handle(endpoints.metrics, async ({ services }) => {
  return new Response(await services.metrics.render(), { headers: { "content-type": services.metrics.contentType } });
});
