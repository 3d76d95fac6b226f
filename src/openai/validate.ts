import type { z } from "zod";
import { errors, type GatewayError, issuePath } from "../errors.js";

export function describeIssues(error: z.ZodError): { message: string; path: string } {
  const first = error.issues[0];
  const path = first ? issuePath(first.path) : "";
  const message = error.issues
    .slice(0, 3)
    .map((issue) => `${issuePath(issue.path) || "(body)"}: ${issue.message}`)
    .join("; ");
  return { message, path };
}

/** Parses a client body against a schema, turning failures into a 400 that names the field. */
export function parseRequestBody<S extends z.ZodType>(
  schema: S,
  body: unknown,
  what = "request body",
): z.infer<S> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  throw invalid(result.error, what);
}

function invalid(error: z.ZodError, what: string): GatewayError {
  const { message, path } = describeIssues(error);
  return errors.invalidRequest(`Invalid ${what}: ${message}`, path || null);
}
