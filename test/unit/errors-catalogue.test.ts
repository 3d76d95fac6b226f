import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

// Every code a client can see is defined in src/errors.ts, so that the README's table and clients'
// branches have one place to agree with. Anything else builds its errors through `errors.*`.
const SRC = new URL("../../src/", import.meta.url);
const sources = (readdirSync(SRC, { recursive: true, encoding: "utf8" }) as string[])
  .filter((path) => path.endsWith(".ts"))
  .map((path) => ({
    path: `src/${path.replaceAll("\\", "/")}`,
    text: readFileSync(new URL(path, SRC), "utf8"),
  }));

/** Subclasses that only re-wrap a catalogue error, copying its code: NodeFault marks it as the node's. */
const WRAPPERS = new Set(["src/upstream/dispatch.ts"]);

describe("the error catalogue", () => {
  it("is read from a real source tree", () => {
    expect(sources.map((s) => s.path)).toContain("src/errors.ts");
    expect(sources.length).toBeGreaterThan(20);
  });

  it("is the only place that constructs a GatewayError", () => {
    const offenders = sources
      .filter((s) => s.path !== "src/errors.ts" && /\bnew\s+GatewayError\s*\(/.test(s.text))
      .map((s) => s.path);
    expect(offenders, "use or add a named constructor in src/errors.ts").toEqual([]);
  });

  it("is not bypassed by subclasses that bring codes of their own", () => {
    const offenders = sources
      .filter((s) => /\bextends\s+GatewayError\b/.test(s.text) && !WRAPPERS.has(s.path))
      .map((s) => s.path);
    expect(offenders, "add a named constructor in src/errors.ts instead").toEqual([]);
  });
});
