import { endpoints } from "@/server/api/catalog";
import { handle } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** Prometheus metrics, text exposition format (scrape with a viewer token). */
export const GET = handle(endpoints.metrics, async ({ services }) => {
  return new Response(services.metrics.render(services.dashboards()), {
    headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
  });
});
