import { z } from "zod";

/** A boolean, or "true"/"false" as `${ENV}` expansion leaves it (the deploy kit sets this one by env). */
const flag = z.union([z.boolean(), z.enum(["true", "false"]).transform((text) => text === "true")]);

/**
 * `fleet`: nodes that join at run time through the registration API (`fleetgate agent`), beside the
 * static `nodes` list. Without an enrollment token nobody can join.
 */
export const fleetSchema = z
  .strictObject({
    /** Tokens node operators register with; distinct from the admin token and from API keys. */
    enrollment_tokens: z.array(z.string().min(16, "must be at least 16 characters")).default([]),
    /** Let registered nodes live on loopback or private addresses (demo, tests, a private network). */
    allow_private_urls: flag.default(false),
    /** How often agents are told to heartbeat. */
    heartbeat_interval_ms: z.number().int().min(100).default(5000),
    /** A registered node whose heartbeats stop is gone after this long. */
    heartbeat_ttl_ms: z.number().int().min(300).default(15_000),
    /** How often each replica reads the shared registry: a join or leave is seen within this. */
    sync_interval_ms: z.number().int().min(50).default(1000),
    /** A verified node is checked again this often (and whenever its /props change). */
    reverify_interval_ms: z.number().int().min(1000).default(300_000),
    /** Each verification request (health, models, props, canary completion) must answer within this. */
    verify_timeout_ms: z.number().int().min(100).default(30_000),
  })
  .superRefine((fleet, ctx) => {
    if (fleet.heartbeat_ttl_ms <= fleet.heartbeat_interval_ms) {
      ctx.addIssue({
        code: "custom",
        message: "must be longer than heartbeat_interval_ms, or one late heartbeat drops the node",
        path: ["heartbeat_ttl_ms"],
      });
    }
  });

export type FleetConfig = z.output<typeof fleetSchema>;
