import { CLIENT_CLOSED_CODE, GatewayError, toGatewayError } from "../errors.js";
import { errorReply, type PlainReply } from "../gateway/index.js";
import type { Logger } from "../telemetry/index.js";

/**
 * Any error as the client sees it. What is not a GatewayError is a bug and logged as one; a client
 * that hung up is routine (it happens all day), so it is only a debug line.
 */
export function replyForError(err: unknown, log: Logger, path: string | undefined): PlainReply {
  const error = toGatewayError(err);
  if (!(err instanceof GatewayError)) log.error("unhandled error", { error: String(err), path });
  else if (error.code === CLIENT_CLOSED_CODE) log.debug("client_closed", { path });
  return errorReply(error);
}
