import { randomBytes } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { mulberry32 } from "../seeded-random.js";
import { type GgufKv, GgufType, kv } from "./gguf.js";
import { readGguf } from "./gguf-reader.js";
import { type F32Tensor, writeGguf } from "./gguf-writer.js";

export interface TinyModelShape {
  contextLength: number;
  embedding: number;
  blocks: number;
  feedForward: number;
  heads: number;
  headsKv: number;
}

export const TINY_MODEL_SHAPE: Readonly<TinyModelShape> = Object.freeze({
  contextLength: 4096,
  embedding: 64,
  blocks: 2,
  feedForward: 128,
  heads: 4,
  headsKv: 4,
});

/**
 * Big enough that prefill costs what a routing benchmark needs to see: a cold prefill of about 1,000
 * tokens takes 200-400 ms on one quiet CPU core (measured with llama-server's `timings.prompt_ms`, see
 * the README's routing section), while decode stays a few ms per token. Still random noise, ~72 MB.
 */
export const BENCH_MODEL_SHAPE: Readonly<TinyModelShape> = Object.freeze({
  contextLength: 8192,
  embedding: 256,
  blocks: 3,
  feedForward: 768,
  heads: 4,
  headsKv: 4,
});

/** The sizes the writer knows: `tiny` for tests, `bench` for benchmarks that need a real prefill cost. */
export const TINY_MODEL_SIZES = Object.freeze({ tiny: TINY_MODEL_SHAPE, bench: BENCH_MODEL_SHAPE });
export type TinyModelSize = keyof typeof TINY_MODEL_SIZES;

export const DEFAULT_TINY_MODEL_SEED = 42;

/**
 * ChatML-shaped so llama.cpp's built-in template detection and its Jinja engine both accept it; the
 * markers are plain text to the SentencePiece vocab, which is fine for a model that speaks noise.
 */
export const TINY_CHAT_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}" +
  "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/**
 * Uniform noise with the given standard deviation. Scaling by 1/sqrt(fan_in) keeps activations and
 * logits near unit scale, so sampling stays varied instead of collapsing onto one token or NaN.
 */
function noise(rand: () => number, count: number, std: number): Float32Array {
  const half = Math.sqrt(3) * std;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = (rand() * 2 - 1) * half;
  return out;
}

function tensors(shape: TinyModelShape, vocabSize: number, seed: number): F32Tensor[] {
  const rand = mulberry32(seed);
  const { embedding: e, feedForward: ff, heads, headsKv } = shape;
  const kvDim = (e / heads) * headsKv;
  const matrix = (name: string, cols: number, rows: number): F32Tensor => ({
    name,
    dims: [cols, rows],
    data: noise(rand, cols * rows, 1 / Math.sqrt(cols)),
  });
  const ones = (name: string, n: number): F32Tensor => ({
    name,
    dims: [n],
    data: new Float32Array(n).fill(1),
  });
  const out: F32Tensor[] = [
    { name: "token_embd.weight", dims: [e, vocabSize], data: noise(rand, e * vocabSize, 1) },
    ones("output_norm.weight", e),
    matrix("output.weight", e, vocabSize),
  ];
  for (let b = 0; b < shape.blocks; b++) {
    const p = `blk.${b}.`;
    out.push(
      ones(`${p}attn_norm.weight`, e),
      matrix(`${p}attn_q.weight`, e, e),
      matrix(`${p}attn_k.weight`, e, kvDim),
      matrix(`${p}attn_v.weight`, e, kvDim),
      matrix(`${p}attn_output.weight`, e, e),
      ones(`${p}ffn_norm.weight`, e),
      matrix(`${p}ffn_gate.weight`, e, ff),
      matrix(`${p}ffn_up.weight`, e, ff),
      matrix(`${p}ffn_down.weight`, ff, e),
    );
  }
  return out;
}

export interface TinyModelOptions {
  seed?: number;
  shape?: Partial<TinyModelShape>;
}

/**
 * Builds a random-weight llama-architecture GGUF around the tokenizer of a vocab-only GGUF (llama.cpp's
 * `models/ggml-vocab-llama-spm.gguf`). Same vocab, seed and shape give identical bytes.
 */
export function buildTinyModel(vocabGguf: Uint8Array, options: TinyModelOptions = {}): Uint8Array {
  const shape: TinyModelShape = { ...TINY_MODEL_SHAPE, ...options.shape };
  if (shape.embedding % shape.heads !== 0) throw new Error("embedding must be a multiple of heads");
  const vocab = readGguf(vocabGguf);
  const tokenizer = vocab.kvs.filter(
    (e) => e.key.startsWith("tokenizer.") && e.key !== "tokenizer.chat_template",
  );
  const tokens = tokenizer.find((e) => e.key === "tokenizer.ggml.tokens")?.value;
  if (tokens?.type !== GgufType.ARRAY) throw new Error("vocab GGUF has no tokenizer.ggml.tokens array");
  const vocabSize = tokens.items.length;
  const a = "llama";
  const kvs: GgufKv[] = [
    kv.str("general.architecture", a),
    kv.str("general.name", "fleetgate-tiny"),
    kv.u32("general.file_type", 0),
    kv.u32(`${a}.context_length`, shape.contextLength),
    kv.u32(`${a}.embedding_length`, shape.embedding),
    kv.u32(`${a}.block_count`, shape.blocks),
    kv.u32(`${a}.feed_forward_length`, shape.feedForward),
    kv.u32(`${a}.attention.head_count`, shape.heads),
    kv.u32(`${a}.attention.head_count_kv`, shape.headsKv),
    kv.u32(`${a}.rope.dimension_count`, shape.embedding / shape.heads),
    kv.f32(`${a}.rope.freq_base`, 10000),
    kv.f32(`${a}.attention.layer_norm_rms_epsilon`, 1e-5),
    kv.u32(`${a}.vocab_size`, vocabSize),
    ...tokenizer,
    kv.str("tokenizer.chat_template", TINY_CHAT_TEMPLATE),
  ];
  return writeGguf({ kvs, tensors: tensors(shape, vocabSize, options.seed ?? DEFAULT_TINY_MODEL_SEED) });
}

/**
 * Writes the model unless the file is already there. The write goes through a unique temp name and a
 * rename so parallel test workers never see a half-written file.
 */
export async function ensureTinyModelFile(
  vocabPath: string,
  outPath: string,
  options: TinyModelOptions = {},
): Promise<{ path: string; created: boolean; bytes: number }> {
  if (existsSync(outPath)) return { path: outPath, created: false, bytes: statSync(outPath).size };
  const bytes = buildTinyModel(await readFile(vocabPath), options);
  await mkdir(dirname(outPath), { recursive: true });
  const tmp = `${outPath}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, outPath);
  } finally {
    await rm(tmp, { force: true });
  }
  return { path: outPath, created: true, bytes: bytes.byteLength };
}
