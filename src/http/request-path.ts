/**
 * Request-target normalisation, run before any routing. A front proxy that blocks `/admin` matches
 * the path it sees after normalising; if this gateway routed a different spelling of it
 * (`/v1/../admin`, `/%61dmin`, `/v1/models/%2e%2e/%2e%2e/admin`) the block would protect nothing.
 * So the router only ever sees one spelling, and targets no proxy agrees on are refused outright.
 */

export type RequestTarget =
  | { readonly ok: true; readonly path: string; readonly url: string }
  | { readonly ok: false; readonly reason: string };

const SLASH = 0x2f;
const DOT = 0x2e;
const PERCENT = 0x25;
const BACKSLASH = 0x5c;
const QUESTION = 0x3f;
const HASH = 0x23;
const DEL = 0x7f;

const HEX = "0123456789ABCDEF";

function reject(reason: string): RequestTarget {
  return { ok: false, reason };
}

function isControl(code: number): boolean {
  return code < 0x20 || code === DEL;
}

/** RFC 3986 §2.3: escapes of these mean the same as the character itself, so they are decoded. */
function isUnreserved(code: number): boolean {
  return (
    (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x61 && code <= 0x7a) ||
    (code >= 0x30 && code <= 0x39) ||
    code === 0x2d ||
    code === DOT ||
    code === 0x5f ||
    code === 0x7e
  );
}

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/**
 * Normalises an origin-form request target (`/path?query`): percent-decodes unreserved characters,
 * uppercases the remaining escapes, resolves dot segments and collapses repeated slashes. The query
 * is kept byte for byte. Reserved escapes such as `%2F` stay encoded: a model id may contain one.
 */
export function normalizeRequestTarget(rawUrl: string): RequestTarget {
  if (rawUrl.charCodeAt(0) !== SLASH) return reject("the target must be a path starting with '/'");
  let end = rawUrl.length;
  let simple = true;
  // One scan finds the path's end and whether the common case (`/v1/chat/completions`) can be
  // returned untouched, so the hot path allocates nothing.
  for (let i = 0; i < rawUrl.length; i++) {
    const code = rawUrl.charCodeAt(i);
    if (code === QUESTION) {
      end = i;
      break;
    }
    if (isControl(code)) return reject("the path contains a control character");
    if (code === BACKSLASH) return reject("the path contains a backslash");
    if (code === HASH) return reject("the path contains a '#'");
    if (code === PERCENT) simple = false;
    else if (code === SLASH) {
      const next = rawUrl.charCodeAt(i + 1);
      if (next === SLASH || next === DOT) simple = false;
    }
  }
  for (let i = end + 1; i < rawUrl.length; i++) {
    if (isControl(rawUrl.charCodeAt(i))) return reject("the query contains a control character");
  }
  if (simple) return { ok: true, path: end === rawUrl.length ? rawUrl : rawUrl.slice(0, end), url: rawUrl };

  const decoded = decodeUnreserved(rawUrl, end);
  if (typeof decoded !== "string") return decoded;
  const path = removeDotSegments(decoded);
  return { ok: true, path, url: path + rawUrl.slice(end) };
}

/** Decodes `%XX` of unreserved characters in `raw[0, end)`; any other escape is kept, in uppercase. */
function decodeUnreserved(raw: string, end: number): string | RequestTarget {
  let out = "";
  let copiedUpTo = 0;
  for (let i = raw.indexOf("%"); i !== -1 && i < end; i = raw.indexOf("%", i)) {
    const high = i + 1 < end ? hexValue(raw.charCodeAt(i + 1)) : -1;
    const low = i + 2 < end ? hexValue(raw.charCodeAt(i + 2)) : -1;
    if (high === -1 || low === -1) return reject(`invalid percent escape at offset ${i}`);
    const value = high * 16 + low;
    // An encoded NUL or newline is as dangerous downstream as a raw one.
    if (isControl(value)) return reject("the path contains an encoded control character");
    out += raw.slice(copiedUpTo, i);
    out += isUnreserved(value) ? String.fromCharCode(value) : `%${HEX[high]}${HEX[low]}`;
    i += 3;
    copiedUpTo = i;
  }
  return out + raw.slice(copiedUpTo, end);
}

/**
 * RFC 3986 §5.2.4 on an absolute path, with empty segments dropped as well (`//` is one `/`).
 * A `..` at the root stays at the root, so `/../x` is `/x`.
 */
function removeDotSegments(path: string): string {
  const segments = path.split("/");
  const kept: string[] = [];
  for (const segment of segments) {
    if (segment === "..") kept.pop();
    else if (segment !== "." && segment !== "") kept.push(segment);
  }
  const last = segments[segments.length - 1];
  // `/a/`, `/a/.` and `/a/b/..` all name a directory: keep the trailing slash they imply.
  const trailing = kept.length > 0 && (last === "" || last === "." || last === "..");
  return `/${kept.join("/")}${trailing ? "/" : ""}`;
}
