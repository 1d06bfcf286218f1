import { route } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** Prometheus metrics, text exposition format. */
export const GET = route(async (_request, { services }) => {
  return new Response(services.metrics.render(services.dashboards()), {
    headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
  });
});
