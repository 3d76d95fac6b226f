import type { NodeEntry } from "../fleet/index.js";

/** What operators see of one node in GET /admin/nodes. */
export function nodeReport(entry: NodeEntry) {
  const round = (value: number | undefined) => (value === undefined ? null : Math.round(value * 100) / 100);
  return {
    id: entry.id,
    url: withoutCredentials(entry.record.url),
    region: entry.region ?? null,
    location: entry.location ?? null,
    state: entry.state,
    source: entry.record.registered ? "registered" : "config",
    admission: entry.admission,
    admission_reason: entry.admissionReason ?? null,
    draining: entry.draining,
    breaker: entry.breaker,
    models: entry.models,
    in_flight: entry.inFlight,
    slots_total: entry.slotsTotal ?? null,
    slots_busy: entry.slotsBusy,
    deferred: entry.deferred,
    ttft_ms: round(entry.ttftMs),
    inter_token_ms: round(entry.interTokenMs),
    prefill_tokens_per_sec: round(entry.prefillTokensPerSec),
    prefill_pending_tokens: entry.pendingPrefillTokens,
    prefill_sharing: round(entry.prefillSharing),
    rtt_ms: round(entry.rttMs),
    error_rate: round(entry.errorRate),
    last_probe_at: entry.lastProbeAt === undefined ? null : new Date(entry.lastProbeAt).toISOString(),
    last_error: entry.lastError ?? null,
  };
}

/**
 * The config refuses node URLs with credentials, but a node registered at run time arrives by
 * another road: whatever reaches this report is shown without its userinfo all the same.
 */
function withoutCredentials(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Echoing what could not be parsed might echo a secret.
    return "<unparseable url>";
  }
  if (parsed.username === "" && parsed.password === "") return url;
  const path = parsed.pathname === "/" ? "" : parsed.pathname;
  return `${parsed.protocol}//${parsed.host}${path}${parsed.search}`;
}
