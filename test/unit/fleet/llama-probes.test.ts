import { describe, expect, it } from "vitest";
import { parseModels } from "../../../src/fleet/llama-probes.js";

describe("parseModels", () => {
  it("reads every name a node answers to: ids and llama-server's --alias list", () => {
    const body = JSON.stringify({
      object: "list",
      data: [{ id: "a", object: "model", aliases: ["a", "b"] }, { id: "embed" }],
    });
    expect(parseModels(body)).toEqual(["a", "b", "embed"]);
  });

  it("says nothing about a body that is not a model list", () => {
    expect(parseModels("not json")).toBeUndefined();
  });
});
