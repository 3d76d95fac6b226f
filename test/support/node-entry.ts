import { NodeEntry } from "../../src/fleet/node-entry.js";

/** A configured node's live record with four slots, for tests that drive its statistics by hand. */
export function testNodeEntry(
  clock: () => number,
  overrides: { id?: string; region?: string; models?: string[] } = {},
): NodeEntry {
  const id = overrides.id ?? "n";
  const record = {
    id,
    url: `http://${id}.test`,
    region: overrides.region,
    location: undefined,
    apiKey: undefined,
    declaredModels: overrides.models ?? ["m"],
    declaredSlots: 4,
  };
  return new NodeEntry(record, { unhealthyAfter: 2, healthyAfter: 1 }, clock);
}
