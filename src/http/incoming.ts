import type { IncomingMessage } from "node:http";
import type { IncomingCall } from "../gateway/index.js";

const NONE: readonly string[] = [];

/**
 * What the gateway reads of a Node request besides its body. Both http paths have the same Node
 * request underneath, so both hand over the same headers and the same client address.
 */
export function requestContext(
  req: IncomingMessage,
): Pick<IncomingCall, "header" | "headerValues" | "clientAddress"> {
  return {
    header: (name) => header(req, name),
    headerValues: (name) => req.headersDistinct[name] ?? NONE,
    clientAddress: req.socket.remoteAddress,
  };
}

/** A header's value, repeated ones joined with ", " as a fetch Headers object would. */
export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}
