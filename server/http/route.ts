import type { z } from "zod";
import { AppError } from "../errors";
import type { Services } from "../services";
import { services } from "../services";
import { toProblem, validationError } from "./problem";

type RouteContext<P> = { params: Promise<P> };

export type Handler<P> = (request: Request, context: { params: P; services: Services }) => Promise<Response>;

/**
 * The one wrapper around every route handler: it resolves Next 16's params promise, hands the
 * handler the running services and maps every error to `application/problem+json`.
 * A handler body is parse -> call -> respond.
 */
export function route<P = Record<string, never>>(handler: Handler<P>) {
  return async (request: Request, context: RouteContext<P>): Promise<Response> => {
    try {
      const params = await context.params;
      return await handler(request, { params, services: services() });
    } catch (error) {
      return toProblem(error);
    }
  };
}

/** Reads a JSON body and parses it with `schema`; 400 for bad JSON, 422 naming each field. */
export async function readBody<S extends z.ZodType>(request: Request, schema: S): Promise<z.infer<S>> {
  const type = request.headers.get("content-type");
  if (type && !/^application\/([a-z.+-]*\+)?json\b/i.test(type)) {
    throw new AppError("unsupported_media_type", `send application/json, not ${type}`);
  }
  const text = await request.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new AppError("invalid_json", `the body is not valid JSON: ${(error as Error).message}`);
  }
  return parseWith(schema, body, []);
}

/** Parses path or query parameters, naming the offending one. */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown, prefix: string[]): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw validationError(parsed.error, prefix);
  return parsed.data;
}

export function searchParams(request: Request): Record<string, string> {
  return Object.fromEntries(new URL(request.url).searchParams);
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return Response.json(body, { status, headers });
}
