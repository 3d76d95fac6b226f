import { describe, expect, it } from "vitest";
import { NodeEntry } from "../../../src/fleet/index.js";
import { nodeReport } from "../../../src/http/admin.js";

function entryAt(url: string): NodeEntry {
  const record = {
    id: "n1",
    url,
    region: undefined,
    location: undefined,
    apiKey: "node-key",
    declaredModels: ["tiny"],
    declaredSlots: undefined,
  };
  return new NodeEntry(record, { unhealthyAfter: 3, healthyAfter: 2 }, () => 0);
}

describe("GET /admin/nodes report", () => {
  it("shows a node URL as configured", () => {
    expect(nodeReport(entryAt("http://127.0.0.1:9001")).url).toBe("http://127.0.0.1:9001");
    expect(nodeReport(entryAt("https://gpu.example/llama/")).url).toBe("https://gpu.example/llama/");
  });

  it("never shows credentials a node URL carries", () => {
    expect(nodeReport(entryAt("http://user:s3cret@10.0.0.1:9001")).url).toBe("http://10.0.0.1:9001");
    expect(nodeReport(entryAt("https://user@gpu.example/llama?x=1")).url).toBe(
      "https://gpu.example/llama?x=1",
    );
    expect(nodeReport(entryAt("http://:s3cret@h:1")).url).toBe("http://h:1");
    expect(nodeReport(entryAt("not a url s3cret")).url).toBe("<unparseable url>");
  });

  it("does not show the node's api key", () => {
    expect(JSON.stringify(nodeReport(entryAt("http://h:1")))).not.toContain("node-key");
  });
});
