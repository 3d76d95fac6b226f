import type { StateStore } from "../store/index.js";
import type { Logger } from "../telemetry/index.js";

/**
 * Which node served a conversation last, kept in the shared store so every gateway replica sends the
 * next turn to the node whose slot cache holds its prefix. A store outage only costs the hint.
 */
export class AffinityMemory {
  constructor(
    private readonly store: StateStore,
    private readonly ttlMs: number,
    private readonly log: Logger,
  ) {}

  async recall(conversationKey: string | undefined): Promise<string | undefined> {
    if (conversationKey === undefined) return undefined;
    try {
      return await this.store.get(key(conversationKey));
    } catch (err) {
      this.log.warn("affinity lookup failed", { error: (err as Error).message });
      return undefined;
    }
  }

  remember(conversationKey: string | undefined, nodeId: string): void {
    if (conversationKey === undefined) return;
    this.store.set(key(conversationKey), nodeId, this.ttlMs).catch((err: unknown) => {
      this.log.warn("affinity update failed", { error: (err as Error).message });
    });
  }
}

function key(conversationKey: string): string {
  return `affinity:${conversationKey}`;
}
