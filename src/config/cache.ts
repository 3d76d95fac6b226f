import { z } from "zod";

/** The prompt (response) cache: which answers are kept, how long, and how much memory they may take. */
export const cacheSchema = z
  .strictObject({
    /** `deterministic` keeps answers to requests with temperature 0 or a seed; `all` keeps every one. */
    mode: z.enum(["off", "deterministic", "all"]).default("deterministic"),
    /** How long a stored answer may be served (a request's `Cache-Control: max-age` can only shorten it). */
    ttl_ms: z.number().int().min(1000).default(3_600_000),
    /** Answers larger than this (as stored JSON) are not kept. */
    max_entry_bytes: z
      .number()
      .int()
      .min(1024)
      .default(256 * 1024),
    /** The in-process tier holds at most this many bytes of stored answers (least recently used go first). */
    memory_bytes: z
      .number()
      .int()
      .min(64 * 1024)
      .default(64 * 1024 * 1024),
    /** Identical requests arriving while one is being answered wait this long for its answer, then go to a node. */
    single_flight_wait_ms: z.number().int().min(0).default(30_000),
    /** After the shared store (Redis) fails, the cache runs from memory only for this long before trying it again. */
    store_retry_ms: z.number().int().min(100).default(5000),
  })
  .superRefine((cache, ctx) => {
    if (cache.max_entry_bytes > cache.memory_bytes) {
      ctx.addIssue({ code: "custom", message: "must not exceed memory_bytes", path: ["max_entry_bytes"] });
    }
  });

export type CacheConfig = z.output<typeof cacheSchema>;
