import { z } from "zod";
import { describeIssues } from "../openai/validate.js";

/** Faults a test or benchmark can switch on, at start or at run time, to see how a gateway copes. */
export interface FaultConfig {
  /** 0..1: share of completion requests answered 500 with llama's error envelope. */
  errorRate: number;
  /** Inference requests are read but never answered, until the client gives up. */
  hangBeforeHeaders: boolean;
  /** Stream N tokens, then go silent with the socket left open (the slot stays busy). */
  hangMidStreamAfterTokens: number | null;
  /** Stream N tokens, then destroy the socket abruptly. */
  dieAfterTokens: number | null;
  /** Inference bodies become garbage: truncated JSON in `data:` lines or a truncated JSON body. */
  malformedOutput: boolean;
  /** Trickle inference response bodies at this many bytes per second. */
  slowBytesPerSecond: number | null;
  /** `/health` alternates between ok and 503 every period. */
  flapPeriodMs: number | null;
  /**
   * A hostile node: streams N tokens, then one event that never ends (`data: {"x":"` and `a` bytes,
   * as fast as the client takes them), `bytes` in all unless the client leaves first.
   */
  endlessEvent: { afterTokens: number; bytes: number } | null;
  /** A hostile node: a non-streamed answer becomes one JSON body of this many bytes, sent at full speed. */
  hugeBodyBytes: number | null;
  /** `/slots` answers `[]`, as a node that hides its slots does. */
  zeroSlots: boolean;
}

export const faultConfigSchema = z.strictObject({
  errorRate: z.number().min(0).max(1),
  hangBeforeHeaders: z.boolean(),
  hangMidStreamAfterTokens: z.number().int().min(0).nullable(),
  dieAfterTokens: z.number().int().min(0).nullable(),
  malformedOutput: z.boolean(),
  slowBytesPerSecond: z.number().positive().nullable(),
  flapPeriodMs: z.number().positive().nullable(),
  endlessEvent: z
    .strictObject({ afterTokens: z.number().int().min(0), bytes: z.number().int().min(1) })
    .nullable(),
  hugeBodyBytes: z.number().int().min(1).nullable(),
  zeroSlots: z.boolean(),
});

export const faultPatchSchema = faultConfigSchema.partial();

export const NO_FAULTS: Readonly<FaultConfig> = Object.freeze({
  errorRate: 0,
  hangBeforeHeaders: false,
  hangMidStreamAfterTokens: null,
  dieAfterTokens: null,
  malformedOutput: false,
  slowBytesPerSecond: null,
  flapPeriodMs: null,
  endlessEvent: null,
  hugeBodyBytes: null,
  zeroSlots: false,
});

export interface SimNodeOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 (the default) picks an ephemeral port. */
  port?: number;
  /** Model id served, default "tiny". */
  model?: string;
  /** Informational, shown only in the CLI banner: /props stays faithful to llama-server. */
  region?: string;
  /** Parallel slots, default 4. */
  slots?: number;
  /** Fixed overhead before the first token, default 20. */
  ttftMs?: number;
  /** Decode speed per slot, default 50. */
  tokensPerSecond?: number;
  /** Prompt evaluation speed, default 2000; only tokens not in the slot's cache cost time. */
  prefillTokensPerSecond?: number;
  /** Simulated network round trip added before every response's headers, default 0. */
  rttMs?: number;
  /** The node answers 503 "Loading model" for this long after start, default 0. */
  loadingMs?: number;
  /** Context per slot, default 4096. */
  nCtx?: number;
  /** Default true; false answers /v1/embeddings with 501 like llama-server without --embeddings. */
  embeddings?: boolean;
  /**
   * Default true: the model has fill-in-the-middle tokens. false answers /infill with 501 as
   * llama-server does for a model without them (the tiny real model).
   */
  infill?: boolean;
  /** When set, Bearer or X-Api-Key is required like llama-server (health and models stay public). */
  apiKey?: string;
  /** Tokens generated at most when the request sets no limit, default 64. */
  defaultMaxTokens?: number;
  /** Generation is deterministic given seed and prompt, default 42. */
  seed?: number;
  faults?: Partial<FaultConfig>;
}

const optionsSchema = z.strictObject({
  host: z.string().min(1).default("127.0.0.1"),
  port: z.number().int().min(0).max(65535).default(0),
  model: z.string().min(1).default("tiny"),
  region: z.string().min(1).optional(),
  slots: z.number().int().min(1).max(1024).default(4),
  ttftMs: z.number().min(0).default(20),
  tokensPerSecond: z.number().positive().default(50),
  prefillTokensPerSecond: z.number().positive().default(2000),
  rttMs: z.number().min(0).default(0),
  loadingMs: z.number().min(0).default(0),
  nCtx: z.number().int().min(8).default(4096),
  embeddings: z.boolean().default(true),
  infill: z.boolean().default(true),
  apiKey: z.string().min(1).optional(),
  defaultMaxTokens: z.number().int().min(1).default(64),
  seed: z.number().int().default(42),
  faults: faultPatchSchema.default({}),
});

export type ResolvedOptions = Omit<z.output<typeof optionsSchema>, "faults"> & { faults: FaultConfig };

/** The first problem of a failed parse, as `field: message`, so callers can map the field to a flag. */
export interface OptionIssue {
  path: string;
  message: string;
}

function firstIssue(error: z.ZodError): OptionIssue {
  return { path: describeIssues(error).path, message: error.issues[0]?.message ?? "invalid" };
}

/** The first problem with the options, with its dotted path (`slots`, `faults.errorRate`), if any. */
export function optionsIssue(options: SimNodeOptions): OptionIssue | undefined {
  const parsed = optionsSchema.safeParse(options);
  return parsed.success ? undefined : firstIssue(parsed.error);
}

export function resolveOptions(options: SimNodeOptions = {}): ResolvedOptions {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    const { path, message } = firstIssue(parsed.error);
    throw new Error(`Invalid sim option ${path || "(options)"}: ${message}`);
  }
  return { ...parsed.data, faults: { ...NO_FAULTS, ...parsed.data.faults } };
}
