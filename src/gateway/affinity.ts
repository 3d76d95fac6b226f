import type { PrefixLink } from "../routing/index.js";
import type { StateStore } from "../store/index.js";
import type { Logger } from "../telemetry/index.js";

/** The node that served the longest remembered prefix of a request, and how many messages it covers. */
export interface Recollection {
  readonly nodeId: string;
  /** Messages of the request the node served before; 0 when the link says nothing of depth. */
  readonly messages: number;
}

/**
 * Which node served each prefix of a conversation (the links of its prefix chain), kept in the shared
 * store so every gateway replica sends the next turn, or another conversation opening with the same
 * long prefix, to the node whose slot cache holds it. A store outage only costs the hint.
 */
export class AffinityMemory {
  constructor(
    private readonly store: StateStore,
    private readonly ttlMs: number,
    private readonly log: Logger,
  ) {}

  /** The longest link some node is known to hold. The lookups go out together: one round trip, not one per link. */
  async recall(links: readonly PrefixLink[]): Promise<Recollection | undefined> {
    try {
      const nodes = await Promise.all(links.map((link) => this.store.get(storeKey(link.key))));
      let best: Recollection | undefined;
      for (let i = 0; i < links.length; i++) {
        const nodeId = nodes[i];
        if (nodeId !== undefined && (best === undefined || links[i]!.messages >= best.messages)) {
          best = { nodeId, messages: links[i]!.messages };
        }
      }
      return best;
    } catch (err) {
      this.log.warn("affinity lookup failed", { error: (err as Error).message });
      return undefined;
    }
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
