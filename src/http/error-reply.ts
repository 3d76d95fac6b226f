import { GatewayError, toGatewayError } from "../errors.js";
import { errorReply, type PlainReply } from "../gateway/index.js";
import type { Logger } from "../telemetry/index.js";

/** Any error as the client sees it; only what is not a GatewayError (a bug) is logged. */
export function replyForError(err: unknown, log: Logger, path: string | undefined): PlainReply {
  if (!(err instanceof GatewayError)) log.error("unhandled error", { error: String(err), path });
  return errorReply(toGatewayError(err));
}
