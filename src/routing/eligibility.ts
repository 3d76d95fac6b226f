import type { FleetSnapshot, NodeView, RequestFeatures, Unavailability } from "./types.js";

export interface Eligibility {
  /** Nodes that may take the request, in snapshot order. Shared and memoised: never mutate. */
  readonly nodes: readonly NodeView[];
  /** Why `nodes` is empty; undefined when it is not. */
  readonly unavailable: Unavailability | undefined;
}

type Filter = Pick<RequestFeatures, "model" | "allowedRegions">;

interface Memo extends Eligibility {
  readonly model: string;
  readonly allowedRegions: ReadonlySet<string> | undefined;
}

/**
 * The gateway asks once to pick its error and the policy asks again to rank, and a registry that
 * publishes a snapshot per change serves many requests from one; remembering the last answer per
 * snapshot turns the repeats into a lookup. Snapshots are immutable, so the memo cannot go stale.
 */
const memo = new WeakMap<FleetSnapshot, Memo>();

export function servesModel(node: NodeView, model: string): boolean {
  const models = node.models;
  for (let i = 0; i < models.length; i++) {
    if (models[i] === model) return true;
  }
  return false;
}

/** A node without a region cannot prove residency, so it is refused whenever a region set is given. */
export function inAllowedRegion(node: NodeView, allowedRegions: ReadonlySet<string> | undefined): boolean {
  return allowedRegions === undefined || (node.region !== undefined && allowedRegions.has(node.region));
}

/** Hard filters: the node serves the model and sits in an allowed region. */
export function findEligible(snapshot: FleetSnapshot, request: Filter): Eligibility {
  const previous = memo.get(snapshot);
  if (previous?.model === request.model && previous.allowedRegions === request.allowedRegions) {
    return previous;
  }
  const result = {
    ...scan(snapshot.nodes, request),
    model: request.model,
    allowedRegions: request.allowedRegions,
  };
  memo.set(snapshot, result);
  return result;
}

function scan(all: readonly NodeView[], { model, allowedRegions }: Filter): Eligibility {
  // Copy only once a node is refused: in the common all-eligible case the snapshot's array is the answer.
  let kept: NodeView[] | undefined;
  let servedSomewhere = false;
  for (let i = 0; i < all.length; i++) {
    const node = all[i]!;
    const serves = servesModel(node, model);
    servedSomewhere ||= serves;
    if (serves && inAllowedRegion(node, allowedRegions)) {
      kept?.push(node);
    } else {
      kept ??= all.slice(0, i);
    }
  }
  const nodes = kept ?? all;
  if (nodes.length > 0) return { nodes, unavailable: undefined };
  return { nodes, unavailable: servedSomewhere ? "region-not-allowed" : "model-not-served" };
}
