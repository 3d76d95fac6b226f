import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { GgufType, kv } from "../../../src/llama/gguf.js";
import { getKv, readGguf } from "../../../src/llama/gguf-reader.js";
import { writeGguf } from "../../../src/llama/gguf-writer.js";
import {
  buildTinyModel,
  ensureTinyModelFile,
  TINY_CHAT_TEMPLATE,
  TINY_MODEL_SIZES,
} from "../../../src/llama/tiny-model.js";
import { mulberry32 } from "../../../src/seeded-random.js";

/** A vocab-only GGUF shaped like llama.cpp's ggml-vocab-llama-spm.gguf, with `n` tokens. */
function fakeVocab(n: number): Uint8Array {
  const tokens = Array.from({ length: n }, (_, i) =>
    i === 0 ? "<unk>" : i === 1 ? "<s>" : i === 2 ? "</s>" : `t${i}`,
  );
  return writeGguf({
    kvs: [
      kv.str("general.architecture", "llama"),
      kv.u32("llama.block_count", 32),
      kv.str("tokenizer.ggml.model", "llama"),
      {
        key: "tokenizer.ggml.tokens",
        value: { type: GgufType.ARRAY, itemType: GgufType.STRING, items: tokens },
      },
      {
        key: "tokenizer.ggml.scores",
        value: { type: GgufType.ARRAY, itemType: GgufType.FLOAT32, items: tokens.map(() => 0) },
      },
      kv.u32("tokenizer.ggml.bos_token_id", 1),
      kv.u32("tokenizer.ggml.eos_token_id", 2),
      kv.bool("tokenizer.ggml.add_bos_token", true),
      kv.str("tokenizer.chat_template", "{{ not this one }}"),
    ],
    tensors: [],
  });
}

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

describe("tiny llama model", () => {
  const vocab = fakeVocab(300);

  it("writes the bench size with the blocks and widths that make its prefill cost hundreds of ms", () => {
    const file = readGguf(buildTinyModel(vocab, { shape: TINY_MODEL_SIZES.bench }));
    const val = (key: string) => {
      const v = getKv(file, key);
      return v && v.type !== GgufType.ARRAY ? v.value : v;
    };
    expect(val("llama.embedding_length")).toBe(256);
    expect(val("llama.block_count")).toBe(3);
    expect(val("llama.feed_forward_length")).toBe(768);
    expect(file.tensors.filter((t) => t.name.endsWith("ffn_up.weight"))).toHaveLength(3);
  });

  it("declares the llama architecture and copies the tokenizer, with its own chat template", () => {
    const file = readGguf(buildTinyModel(vocab));
    const val = (key: string) => {
      const v = getKv(file, key);
      return v && v.type !== GgufType.ARRAY ? v.value : v;
    };
    expect(val("general.architecture")).toBe("llama");
    expect(val("llama.embedding_length")).toBe(64);
    expect(val("llama.block_count")).toBe(2);
    expect(val("llama.feed_forward_length")).toBe(128);
    expect(val("llama.attention.head_count")).toBe(4);
    expect(val("llama.rope.dimension_count")).toBe(16);
    expect(val("llama.vocab_size")).toBe(300);
    expect(val("tokenizer.ggml.model")).toBe("llama");
    expect(val("tokenizer.ggml.eos_token_id")).toBe(2);
    expect(val("tokenizer.chat_template")).toBe(TINY_CHAT_TEMPLATE);
    expect(file.kvs.filter((e) => e.key === "tokenizer.chat_template")).toHaveLength(1);
  });

  it("has the tensors llama.cpp's llama loader requires, with its shapes", () => {
    const file = readGguf(buildTinyModel(vocab));
    const shapes = Object.fromEntries(file.tensors.map((t) => [t.name, t.dims.map(Number)]));
    expect(shapes["token_embd.weight"]).toEqual([64, 300]);
    expect(shapes["output_norm.weight"]).toEqual([64]);
    expect(shapes["output.weight"]).toEqual([64, 300]);
    for (const b of [0, 1]) {
      expect(shapes[`blk.${b}.attn_norm.weight`]).toEqual([64]);
      for (const m of ["attn_q", "attn_k", "attn_v", "attn_output"])
        expect(shapes[`blk.${b}.${m}.weight`]).toEqual([64, 64]);
      expect(shapes[`blk.${b}.ffn_norm.weight`]).toEqual([64]);
      expect(shapes[`blk.${b}.ffn_gate.weight`]).toEqual([64, 128]);
      expect(shapes[`blk.${b}.ffn_up.weight`]).toEqual([64, 128]);
      expect(shapes[`blk.${b}.ffn_down.weight`]).toEqual([128, 64]);
    }
    expect(file.tensors).toHaveLength(3 + 2 * 9);
  });

  it("is reproducible: same seed, same bytes; another seed, other bytes", () => {
    const a = sha(buildTinyModel(vocab, { seed: 7 }));
    expect(sha(buildTinyModel(vocab, { seed: 7 }))).toBe(a);
    expect(sha(buildTinyModel(vocab, { seed: 8 }))).not.toBe(a);
  });

  it("keeps its bytes across releases (bump the file name version when this changes)", () => {
    expect(sha(buildTinyModel(vocab, { seed: 42 }))).toBe(
      "a55e93a97f622e24d4e24f7bf36ca7700dd0f715794492cbea921118715a5065",
    );
  });

  it("is about 17 MB with the 32000-token llama vocabulary", () => {
    const bytes = buildTinyModel(fakeVocab(32000)).byteLength;
    const params = 2 * 64 * 32000 + 64 + 2 * (2 * 64 + 4 * 64 * 64 + 3 * 64 * 128);
    expect(params).toBe(4_178_240);
    expect(bytes).toBeGreaterThan(params * 4);
    expect(bytes).toBeLessThan(20 * 1024 * 1024);
  });

  it("mulberry32 is a deterministic uniform source in [0, 1)", () => {
    const r1 = mulberry32(1);
    const r2 = mulberry32(1);
    const xs = Array.from({ length: 1000 }, () => r1());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => r2()));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
  });

  describe("ensureTinyModelFile", () => {
    let dir = "";
    afterAll(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it("writes once and then leaves the file alone", async () => {
      dir = await mkdtemp(join(tmpdir(), "fg-tiny-"));
      const vocabPath = join(dir, "vocab.gguf");
      await writeFile(vocabPath, vocab);
      const out = join(dir, "models", "tiny.gguf");
      const first = await ensureTinyModelFile(vocabPath, out, { seed: 3 });
      expect(first.created).toBe(true);
      const second = await ensureTinyModelFile(vocabPath, out, { seed: 3 });
      expect(second).toEqual({ path: out, created: false, bytes: first.bytes });
      expect(sha(await readFile(out))).toBe(sha(buildTinyModel(vocab, { seed: 3 })));
    });
  });
});
