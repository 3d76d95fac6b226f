import { Pool } from "undici";
import { type GuardPolicy, guardedLookup } from "./address-guard.js";
import { BufferBudget } from "./buffer-budget.js";
import type { FramingLimits } from "./sse-framer.js";

export interface PoolOptions {
  readonly maxConnectionsPerNode: number;
  readonly connectTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  /** Caps on what one node response may be: its events and its whole length. */
  readonly limits: FramingLimits;
  /** Response bytes all buffered (non-streamed) answers may hold at once. */
  readonly bufferedBytesBudget: number;
  /**
   * With a policy, every connection to an origin not in `trustedOrigins` (the configured nodes)
   * resolves its host through the SSRF guard, so a registered node cannot rebind its name.
   */
  readonly guard?: GuardPolicy | undefined;
  readonly trustedOrigins?: ReadonlySet<string> | undefined;
}

/**
 * One keep-alive pool per node origin. Pipelining stays at 1 because a streamed completion holds its
 * connection for the whole answer; the connection cap is set high enough that it never limits
 * concurrent streams below what the node's slots allow (the node queues the excess itself).
 */
export class UpstreamPools {
  private readonly pools = new Map<string, Pool>();
  /** Shared by every call through these pools, so the bound is the gateway's, not a call's. */
  readonly budget: BufferBudget;

  private readonly lookup;

  constructor(private readonly options: PoolOptions) {
    this.budget = new BufferBudget(options.bufferedBytesBudget);
    this.lookup = options.guard && guardedLookup(options.guard);
  }

  get limits(): FramingLimits {
    return this.options.limits;
  }

  for(origin: string, slots?: number): Pool {
    let pool = this.pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connections: Math.max(this.options.maxConnectionsPerNode, slots ?? 0),
        pipelining: 1,
        connectTimeout: this.options.connectTimeoutMs,
        keepAliveTimeout: this.options.keepAliveTimeoutMs,
        // Timeouts are enforced per request by the caller, which knows the phase (first token vs idle).
        headersTimeout: 0,
        bodyTimeout: 0,
        ...(this.lookup && !this.options.trustedOrigins?.has(origin)
          ? { connect: { lookup: this.lookup } }
          : {}),
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  /**
   * A node left the fleet: its pool goes once the requests on it have finished (close() lets them),
   * so a fleet whose nodes come and go does not keep a pool per departed node.
   */
  release(origin: string): void {
    const pool = this.pools.get(origin);
    if (!pool) return;
    this.pools.delete(origin);
    void pool.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((pool) => pool.destroy()));
  }
}
