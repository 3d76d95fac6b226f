/**
 * GGUF value model shared by the reader and the writer (spec: llama.cpp docs/gguf.md, version 3).
 * Only what a tiny F32 llama model and a vocab-only file need is modelled; other tensor types are
 * read as opaque descriptors.
 */
export const GGUF_MAGIC = 0x46554747; // "GGUF" read as little-endian u32
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;
export const GGML_TYPE_F32 = 0;

export const GgufType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;
export type GgufScalarType = Exclude<(typeof GgufType)[keyof typeof GgufType], 9>;

/** Numbers for every numeric type keep call sites simple; 64-bit integers are bigint to stay exact. */
export type GgufScalar = number | bigint | boolean | string;

export type GgufValue =
  | { type: GgufScalarType; value: GgufScalar }
  | { type: typeof GgufType.ARRAY; itemType: GgufScalarType; items: GgufScalar[] };

export interface GgufKv {
  key: string;
  value: GgufValue;
}

export interface GgufTensorInfo {
  name: string;
  /** ne0 first, as GGUF stores them: ne0 is the contiguous dimension. */
  dims: bigint[];
  ggmlType: number;
  /** Relative to the start of the tensor data section. */
  offset: bigint;
}

export const kv = {
  u32: (key: string, value: number): GgufKv => ({ key, value: { type: GgufType.UINT32, value } }),
  f32: (key: string, value: number): GgufKv => ({ key, value: { type: GgufType.FLOAT32, value } }),
  str: (key: string, value: string): GgufKv => ({ key, value: { type: GgufType.STRING, value } }),
  bool: (key: string, value: boolean): GgufKv => ({ key, value: { type: GgufType.BOOL, value } }),
};

export function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}
