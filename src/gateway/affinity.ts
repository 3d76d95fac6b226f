import type { StateStore } from "../store/index.js";
import type { Logger } from "../telemetry/index.js";

/**
 * Which node served a conversation last, and which served its system prompt last, kept in the shared
 * store so every gateway replica sends the next turn (or the next conversation under the same system
 * prompt) to the node whose slot cache holds that prefix. A store outage only costs the hint.
 */
export class AffinityMemory {
  constructor(
    private readonly store: StateStore,
    private readonly ttlMs: number,
    private readonly log: Logger,
  ) {}

  /** The node for this conversation, else for its shared prefix; keys are tried in order. */
  async recall(...keys: ReadonlyArray<string | undefined>): Promise<string | undefined> {
    try {
      for (const key of new Set(keys)) {
        if (key === undefined) continue;
        const node = await this.store.get(storeKey(key));
        if (node !== undefined) return node;
      }
    } catch (err) {
      this.log.warn("affinity lookup failed", { error: (err as Error).message });
    }
    return undefined;
  }

  remember(nodeId: string, ...keys: ReadonlyArray<string | undefined>): void {
    for (const key of new Set(keys)) {
      if (key === undefined) continue;
      this.store.set(storeKey(key), nodeId, this.ttlMs).catch((err: unknown) => {
        this.log.warn("affinity update failed", { error: (err as Error).message });
      });
    }
  }
}

function storeKey(prefixKey: string): string {
  return `affinity:${prefixKey}`;
}
