import { endpoints } from "@/server/api/catalog";
import { openApiDocument } from "@/server/api/openapi";
import { handle, json } from "@/server/http/route";

export const dynamic = "force-dynamic";

/** The OpenAPI 3.1 document of this API, generated from the same zod schemas the routes parse with. */
export const GET = handle(endpoints.openapi, async () => json(openApiDocument()));
