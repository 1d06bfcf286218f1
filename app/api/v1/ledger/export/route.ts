import { endpoints } from "@/server/api/catalog";
import { toNdjsonLine } from "@/server/event-format";
import { handle } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** The ledger as NDJSON (the format `npm run replay` reads), streamed page by page. */
export const GET = handle(endpoints.ledgerExport, async ({ query, services }) => {
  const { accountId } = query;
  const { runtime } = services;
  const encoder = new TextEncoder();
  let afterSeq = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const page = await runtime.readLedger(afterSeq, 1000, accountId);
      if (page.length > 0) {
        controller.enqueue(encoder.encode(page.map((record) => `${toNdjsonLine(record)}\n`).join("")));
        afterSeq = page[page.length - 1]!.seq;
      }
      if (page.length < 1000) controller.close();
    },
  });
  return new Response(body, {
    headers: { "content-type": "application/x-ndjson", "content-disposition": 'attachment; filename="riskgate-ledger.ndjson"' },
  });
});
