import { describe, expect, it } from "vitest";
import { normalizeRequestTarget } from "../../../src/http/request-path.js";

function normalized(raw: string): string {
  const target = normalizeRequestTarget(raw);
  if (!target.ok) throw new Error(`rejected ${JSON.stringify(raw)}: ${target.reason}`);
  return target.url;
}

function reason(raw: string): string {
  const target = normalizeRequestTarget(raw);
  if (target.ok) throw new Error(`accepted ${JSON.stringify(raw)} as ${target.url}`);
  return target.reason;
}

describe("request target normalisation", () => {
  it("gives every spelling of the admin path the one spelling a front proxy blocks", () => {
    expect(normalized("/v1/models/%2e%2e/%2e%2e/admin/nodes")).toBe("/admin/nodes");
    expect(normalized("/v1/models/%2E%2E/%2E%2E/admin/nodes")).toBe("/admin/nodes");
    expect(normalized("/%61dmin/nodes")).toBe("/admin/nodes");
    expect(normalized("/v1/../admin/nodes")).toBe("/admin/nodes");
    expect(normalized("/v1/./.././admin//nodes")).toBe("/admin/nodes");
    expect(normalized("//admin/nodes")).toBe("/admin/nodes");
  });

  it("returns the common case unchanged, as the same string", () => {
    const raw = "/v1/chat/completions";
    expect(normalizeRequestTarget(raw)).toEqual({ ok: true, path: raw, url: raw });
    expect(normalized("/v1/models/tiny-q4.gguf")).toBe("/v1/models/tiny-q4.gguf");
  });

  it("collapses repeated slashes", () => {
    expect(normalized("/v1//chat/completions")).toBe("/v1/chat/completions");
    expect(normalized("/v1///chat////completions")).toBe("/v1/chat/completions");
  });

  it("resolves dot segments as RFC 3986 §5.2.4 does, never climbing above the root", () => {
    expect(normalized("/../x")).toBe("/x");
    expect(normalized("/a/../../../x")).toBe("/x");
    expect(normalized("/..")).toBe("/");
    expect(normalized("/.")).toBe("/");
    expect(normalized("/a/b/..")).toBe("/a/");
    expect(normalized("/a/b/.")).toBe("/a/b/");
    expect(normalized("/a/b/")).toBe("/a/b/");
    expect(normalized("/a/.b/..c/...")).toBe("/a/.b/..c/...");
  });

  it("decodes only unreserved escapes and uppercases the others", () => {
    expect(normalized("/%76%31/models")).toBe("/v1/models");
    expect(normalized("/%7e%5f%2d%2e%41%5A%61%7A%30%39")).toBe("/~_-.AZaz09");
    expect(normalized("/v1/models/org%2fmodel")).toBe("/v1/models/org%2Fmodel");
    expect(normalized("/v1/models/org%2Fmodel")).toBe("/v1/models/org%2Fmodel");
    expect(normalized("/a%3fb%23c%25d%20e")).toBe("/a%3Fb%23c%25d%20e");
    // A decoded '%25' is not decoded again.
    expect(normalized("/%2561dmin")).toBe("/%2561dmin");
  });

  it("keeps the query byte for byte and splits on its first '?'", () => {
    const target = normalizeRequestTarget("/v1/../v1/models?x=%2e%2e/../a&b=%zz//c?d");
    expect(target).toEqual({ ok: true, path: "/v1/models", url: "/v1/models?x=%2e%2e/../a&b=%zz//c?d" });
    expect(normalized("/v1/models?")).toBe("/v1/models?");
    expect(normalized("/v1/%6dodels?a=1")).toBe("/v1/models?a=1");
  });

  it("refuses bad percent escapes", () => {
    expect(reason("/%zz")).toMatch(/invalid percent escape/);
    expect(reason("/%")).toMatch(/invalid percent escape/);
    expect(reason("/%4")).toMatch(/invalid percent escape/);
    expect(reason("/%4?x")).toMatch(/invalid percent escape/);
    expect(reason("/a%g1")).toMatch(/invalid percent escape/);
  });

  it("refuses control characters, raw or encoded, in the path and the query", () => {
    expect(reason("/a\u0000b")).toMatch(/control/);
    expect(reason("/a\nb")).toMatch(/control/);
    expect(reason("/a\u007f")).toMatch(/control/);
    expect(reason("/a?b=\r\n")).toMatch(/control/);
    expect(reason("/a%00b")).toMatch(/control/);
    expect(reason("/a%0Ab")).toMatch(/control/);
  });

  it("refuses backslashes and fragments, which clients and proxies disagree on", () => {
    expect(reason("/v1\\..\\admin/nodes")).toMatch(/backslash/);
    expect(reason("/\\admin")).toMatch(/backslash/);
    expect(reason("/v1/x#/../../admin/nodes")).toMatch(/#/);
  });

  it("refuses targets that are not origin-form", () => {
    expect(reason("http://evil.example/admin/nodes")).toMatch(/starting with '\/'/);
    expect(reason("*")).toMatch(/starting with '\/'/);
    expect(reason("")).toMatch(/starting with '\/'/);
    expect(reason("admin/nodes")).toMatch(/starting with '\/'/);
  });

  it("copes with long hostile paths", () => {
    const climbs = "%2e%2e/".repeat(50_000);
    const deep = "a/".repeat(50_000);
    expect(normalized(`/${climbs}${deep}x`)).toBe(`/${deep}x`);
    expect(normalized(`/${deep}${climbs}x`)).toBe("/x");
    expect(normalized(`/${"/".repeat(100_000)}x`)).toBe("/x");
  });
});
