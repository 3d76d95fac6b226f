import { describe, expect, it } from "vitest";
import { GatewayError } from "../../../src/errors.js";
import { ModelNames } from "../../../src/gateway/model-names.js";

const nodes =
  (...lists: string[][]) =>
  () =>
    lists;

describe("resolving the model a client names", () => {
  it("maps a configured alias, and leaves other names alone without a default", () => {
    const names = new ModelNames(
      { aliases: { "gpt-4o-mini": "qwen" }, fallback: undefined },
      nodes(["qwen"]),
    );
    expect(names.resolve("gpt-4o-mini")).toBe("qwen");
    expect(names.resolve("unknown")).toBe("unknown");
  });

  it("uses the default only for a name no registered node serves, after the alias map", () => {
    const names = new ModelNames(
      { aliases: { "gpt-4o": "gone" }, fallback: "qwen" },
      nodes(["qwen", "q"], ["llama"]),
    );
    expect(names.resolve("llama")).toBe("llama");
    expect(names.resolve("q")).toBe("q");
    expect(names.resolve("text-davinci-003")).toBe("qwen");
    // The alias's target is served by no node: the default stands in for it too.
    expect(names.resolve("gpt-4o")).toBe("qwen");
  });

  it("fills in a missing model with the default, or the model every node serves, or refuses naming the field", () => {
    expect(new ModelNames({ aliases: {}, fallback: "d" }, nodes(["a"])).resolve(undefined)).toBe("d");
    const shared = new ModelNames({ aliases: {}, fallback: undefined }, nodes(["a", "tiny"], ["tiny"]));
    expect(shared.resolve(undefined)).toBe("tiny");
    const mixed = new ModelNames({ aliases: {}, fallback: undefined }, nodes(["a"], ["b"]));
    const refusal = (() => {
      try {
        mixed.resolve(undefined);
      } catch (err) {
        return err;
      }
    })();
    expect(refusal).toBeInstanceOf(GatewayError);
    expect(refusal).toMatchObject({ status: 400, param: "model" });
  });
});
