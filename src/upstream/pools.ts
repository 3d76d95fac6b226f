import { Pool } from "undici";

export interface PoolOptions {
  readonly maxConnectionsPerNode: number;
  readonly connectTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
}

/**
 * One keep-alive pool per node origin. Pipelining stays at 1 because a streamed completion holds its
 * connection for the whole answer; the connection cap is set high enough that it never limits
 * concurrent streams below what the node's slots allow (the node queues the excess itself).
 */
export class UpstreamPools {
  private readonly pools = new Map<string, Pool>();

  constructor(private readonly options: PoolOptions) {}

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
      });
      this.pools.set(origin, pool);
    }
    return pool;
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((pool) => pool.destroy()));
  }
}
