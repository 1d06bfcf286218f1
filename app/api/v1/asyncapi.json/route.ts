import { endpoints } from "@/server/api/catalog";
import { asyncApiDocument } from "@/server/api/asyncapi";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** The realtime stream's AsyncAPI 3.0 document, generated from the zod schemas the stream uses. */
export const GET = handle(endpoints.asyncapi, async () => json(asyncApiDocument()));
