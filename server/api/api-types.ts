import openapiTS, { astToString, COMMENT_HEADER } from "openapi-typescript";
import { openApiDocument } from "./openapi";

/** The console's types of the API, generated from the OpenAPI document by `npm run api:types`. */
export const API_TYPES_FILE = "components/api-schema.d.ts";

/**
 * TypeScript types of every operation, request and answer, by openapi-typescript from the
 * document the server serves (`GET /api/v1/openapi.json`): what `npx openapi-typescript` on that
 * document writes.
 */
export async function apiTypes(source: Record<string, unknown> = openApiDocument()): Promise<string> {
  const document = structuredClone(source);
  const ast = await openapiTS(document as unknown as Parameters<typeof openapiTS>[0], { silent: true });
  return `${COMMENT_HEADER}${astToString(ast)}`;
}

/**
 * The operations whose success answer the generated types leave `unknown` (a 2xx content with no
 * schema): none, or a client would have to hand-write that answer's type.
 */
export function untypedAnswers(types: string): string[] {
  const operations = types.slice(types.indexOf("export interface operations {"));
  const untyped: string[] = [];
  for (const match of operations.matchAll(/^ {4}(\w+): \{\n([\s\S]*?)^ {4}\};$/gm)) {
    const responses = match[2]!.slice(match[2]!.indexOf("responses: {"));
    for (const answer of responses.matchAll(/^ {12}(2\d\d): \{\n([\s\S]*?)^ {12}\};$/gm)) {
      if (/content: \{\s*"[^"]+": unknown;/.test(answer[2]!)) untyped.push(`${match[1]} ${answer[1]}`);
    }
  }
  return untyped;
}
