import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { GGML_TYPE_F32, type GgufKv, GgufType, kv } from "../../../src/llama/gguf.js";
import { GgufFormatError, getKv, readGguf } from "../../../src/llama/gguf-reader.js";
import { writeGguf } from "../../../src/llama/gguf-writer.js";

const allTypes: GgufKv[] = [
  { key: "t.u8", value: { type: GgufType.UINT8, value: 200 } },
  { key: "t.i8", value: { type: GgufType.INT8, value: -100 } },
  { key: "t.u16", value: { type: GgufType.UINT16, value: 60000 } },
  { key: "t.i16", value: { type: GgufType.INT16, value: -30000 } },
  kv.u32("t.u32", 4_000_000_000),
  { key: "t.i32", value: { type: GgufType.INT32, value: -2_000_000_000 } },
  kv.f32("t.f32", 0.5),
  kv.bool("t.bool", true),
  kv.str("t.str", "héllo ✓"),
  { key: "t.u64", value: { type: GgufType.UINT64, value: 2n ** 63n + 5n } },
  { key: "t.i64", value: { type: GgufType.INT64, value: -(2n ** 62n) } },
  { key: "t.f64", value: { type: GgufType.FLOAT64, value: Math.PI } },
  { key: "t.strs", value: { type: GgufType.ARRAY, itemType: GgufType.STRING, items: ["a", "", "<s>"] } },
  { key: "t.f32s", value: { type: GgufType.ARRAY, itemType: GgufType.FLOAT32, items: [1.5, -2, 0] } },
  { key: "t.empty", value: { type: GgufType.ARRAY, itemType: GgufType.INT32, items: [] } },
];

describe("GGUF writer and reader", () => {
  it("round-trips metadata of every value type", () => {
    const file = readGguf(writeGguf({ kvs: allTypes, tensors: [] }));
    expect(file.version).toBe(3);
    expect(file.kvs).toEqual(allTypes);
    expect(getKv(file, "t.str")).toEqual({ type: GgufType.STRING, value: "héllo ✓" });
  });

  it("round-trips tensor descriptors and F32 data at aligned offsets", () => {
    const a = { name: "a.weight", dims: [3, 2], data: Float32Array.from([1, 2, 3, 4, 5, 6]) };
    const b = { name: "b.weight", dims: [5], data: Float32Array.from([-1, 0.25, 7, 8, 9]) };
    const bytes = writeGguf({ kvs: [kv.str("general.architecture", "llama")], tensors: [a, b] });
    const file = readGguf(bytes);
    expect(file.dataOffset % 32).toBe(0);
    expect(file.tensors.map((t) => [t.name, t.dims.map(Number), t.ggmlType])).toEqual([
      ["a.weight", [3, 2], GGML_TYPE_F32],
      ["b.weight", [5], GGML_TYPE_F32],
    ]);
    for (const [info, src] of file.tensors.map((t, i) => [t, [a, b][i]] as const)) {
      expect(Number(info.offset) % 32).toBe(0);
      const start = file.dataOffset + Number(info.offset);
      const copy = new Float32Array(bytes.slice(start, start + src!.data.byteLength).buffer);
      expect(Array.from(copy)).toEqual(Array.from(src!.data));
    }
    // 24 bytes of a, padded to 32, then 20 bytes of b, padded to the alignment at the end.
    expect(bytes.byteLength).toBe(file.dataOffset + 64);
  });

  it("honours general.alignment", () => {
    const t = { name: "x", dims: [3], data: new Float32Array(3) };
    const file = readGguf(
      writeGguf({ kvs: [kv.u32("general.alignment", 64)], tensors: [t, { ...t, name: "y" }], alignment: 64 }),
    );
    expect(file.alignment).toBe(64);
    expect(file.dataOffset % 64).toBe(0);
    expect(Number(file.tensors[1]!.offset)).toBe(64);
  });

  it("writes identical bytes for identical documents", () => {
    const doc = () => ({
      kvs: allTypes,
      tensors: [{ name: "w", dims: [4], data: Float32Array.from([1, 2, 3, 4]) }],
    });
    const hash = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
    expect(hash(writeGguf(doc()))).toBe(hash(writeGguf(doc())));
  });

  it("rejects tensors whose data does not match their dims", () => {
    expect(() =>
      writeGguf({ kvs: [], tensors: [{ name: "w", dims: [2, 2], data: new Float32Array(3) }] }),
    ).toThrow(/w: dims 2x2 need 4 values, got 3/);
  });

  it("fails with a format error on foreign or truncated input", () => {
    expect(() => readGguf(new TextEncoder().encode("not a gguf file at all"))).toThrow(GgufFormatError);
    const good = writeGguf({ kvs: allTypes, tensors: [] });
    expect(() => readGguf(good.slice(0, 100))).toThrow(/unexpected end of file/);
  });
});
