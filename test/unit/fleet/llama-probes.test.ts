import { describe, expect, it } from "vitest";
import { namesOf, parseModelCards } from "../../../src/fleet/llama-probes.js";

describe("parseModelCards", () => {
  it("reads every name a node answers to: ids and llama-server's --alias list", () => {
    const body = JSON.stringify({
      object: "list",
      data: [{ id: "a", object: "model", aliases: ["a", "b"] }, { id: "embed" }],
    });
    expect(namesOf(parseModelCards(body) ?? [])).toEqual(["a", "b", "embed"]);
  });

  it("keeps llama-server's meta for the model list", () => {
    const body = JSON.stringify({ data: [{ id: "a", meta: { n_ctx_train: 2048, n_params: 7 } }] });
    expect(parseModelCards(body)).toEqual([
      { id: "a", aliases: [], meta: { n_ctx_train: 2048, n_params: 7 } },
    ]);
  });

  it("says nothing about a body that is not a model list", () => {
    expect(parseModelCards("not json")).toBeUndefined();
  });
});
