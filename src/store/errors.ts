/**
 * Raised when the backing service cannot be reached. Callers branch on `code` (not on the message)
 * to answer 503 and to report not-ready, rather than treating it as a bug in the request.
 */
export class StoreUnavailableError extends Error {
  readonly code = "FLEETGATE_STORE_UNAVAILABLE";

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StoreUnavailableError";
  }
}
