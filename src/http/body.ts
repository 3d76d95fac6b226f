import { errors } from "../errors.js";

export interface JsonBody {
  readonly raw: Uint8Array;
  readonly json: unknown;
}

/**
 * Reads a JSON request body: checks the media type, enforces the size limit while reading (a lying
 * or absent Content-Length cannot get past it), then parses.
 */
export async function readJsonBody(request: Request, limitBytes: number): Promise<JsonBody> {
  const type = request.headers.get("content-type") ?? undefined;
  if (!type || !/^application\/([a-z.+-]*\+)?json\b/i.test(type)) throw errors.unsupportedMediaType(type);
  const declared = Number(request.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > limitBytes) throw errors.bodyTooLarge(limitBytes);
  const raw = await readLimited(request, limitBytes);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(raw));
  } catch (err) {
    throw errors.invalidJson((err as Error).message);
  }
  return { raw, json };
}

async function readLimited(request: Request, limitBytes: number): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array();
  const parts: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limitBytes) {
      await reader.cancel();
      throw errors.bodyTooLarge(limitBytes);
    }
    parts.push(value);
  }
  if (parts.length === 1 && parts[0]) return parts[0];
  const raw = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    raw.set(part, offset);
    offset += part.byteLength;
  }
  return raw;
}
