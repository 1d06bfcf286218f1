import { problemResponse } from "@/server/http/problem";

export const dynamic = "force-dynamic";

/** Any /api path no route serves: a problem+json 404 (405 would need the path to exist). */
const notFound = async (request: Request) => problemResponse("not_found", `no API endpoint ${request.method} ${new URL(request.url).pathname}; see /api/v1/openapi.json`);

export const GET = notFound;
export const POST = notFound;
export const PUT = notFound;
export const PATCH = notFound;
export const DELETE = notFound;
