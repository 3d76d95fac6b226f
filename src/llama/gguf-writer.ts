import {
  alignUp,
  GGML_TYPE_F32,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_VERSION,
  type GgufKv,
  type GgufScalar,
  GgufType,
  type GgufValue,
} from "./gguf.js";

export interface F32Tensor {
  name: string;
  /** ne0 first (the contiguous dimension), as llama.cpp's create_tensor lists them. */
  dims: number[];
  data: Float32Array;
}

export interface GgufDocument {
  kvs: GgufKv[];
  tensors: F32Tensor[];
  /** Must match a `general.alignment` entry in kvs if one is given. */
  alignment?: number;
}

const utf8 = new TextEncoder();

function scalarSize(type: number, v: GgufScalar): number {
  switch (type) {
    case GgufType.UINT8:
    case GgufType.INT8:
    case GgufType.BOOL:
      return 1;
    case GgufType.UINT16:
    case GgufType.INT16:
      return 2;
    case GgufType.UINT32:
    case GgufType.INT32:
    case GgufType.FLOAT32:
      return 4;
    case GgufType.UINT64:
    case GgufType.INT64:
    case GgufType.FLOAT64:
      return 8;
    case GgufType.STRING:
      return 8 + utf8.encode(String(v)).byteLength;
    default:
      throw new Error(`cannot size GGUF value type ${type}`);
  }
}

function valueSize(v: GgufValue): number {
  if (v.type !== GgufType.ARRAY) return scalarSize(v.type, v.value);
  let n = 4 + 8;
  for (const item of v.items) n += scalarSize(v.itemType, item);
  return n;
}

class Writer {
  pos = 0;
  readonly view: DataView;
  constructor(readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  u32(v: number) {
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }
  u64(v: number | bigint) {
    this.view.setBigUint64(this.pos, BigInt(v), true);
    this.pos += 8;
  }
  str(s: string) {
    const bytes = utf8.encode(s);
    this.u64(bytes.byteLength);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.byteLength;
  }
  scalar(type: number, v: GgufScalar) {
    const at = this.pos;
    const num = () => Number(v);
    switch (type) {
      case GgufType.UINT8:
      case GgufType.BOOL:
        this.view.setUint8(at, type === GgufType.BOOL ? (v ? 1 : 0) : num());
        break;
      case GgufType.INT8:
        this.view.setInt8(at, num());
        break;
      case GgufType.UINT16:
        this.view.setUint16(at, num(), true);
        break;
      case GgufType.INT16:
        this.view.setInt16(at, num(), true);
        break;
      case GgufType.UINT32:
        this.view.setUint32(at, num(), true);
        break;
      case GgufType.INT32:
        this.view.setInt32(at, num(), true);
        break;
      case GgufType.FLOAT32:
        this.view.setFloat32(at, num(), true);
        break;
      case GgufType.UINT64:
        this.view.setBigUint64(at, BigInt(v), true);
        break;
      case GgufType.INT64:
        this.view.setBigInt64(at, BigInt(v), true);
        break;
      case GgufType.FLOAT64:
        this.view.setFloat64(at, num(), true);
        break;
      case GgufType.STRING:
        this.str(String(v));
        return;
    }
    this.pos += scalarSize(type, v);
  }
  value(v: GgufValue) {
    this.u32(v.type);
    if (v.type !== GgufType.ARRAY) {
      this.scalar(v.type, v.value);
      return;
    }
    this.u32(v.itemType);
    this.u64(v.items.length);
    for (const item of v.items) this.scalar(v.itemType, item);
  }
}

/**
 * Serialises a whole GGUF v3 file into one buffer. Sizes are computed first so the output is written
 * in a single pass and is byte-for-byte deterministic for the same document (padding is zeros).
 */
export function writeGguf(doc: GgufDocument): Uint8Array {
  const alignment = doc.alignment ?? GGUF_DEFAULT_ALIGNMENT;
  for (const t of doc.tensors) {
    const elements = t.dims.reduce((a, b) => a * b, 1);
    if (elements !== t.data.length) {
      throw new Error(
        `tensor ${t.name}: dims ${t.dims.join("x")} need ${elements} values, got ${t.data.length}`,
      );
    }
  }
  let header = 4 + 4 + 8 + 8;
  for (const e of doc.kvs) header += scalarSize(GgufType.STRING, e.key) + 4 + valueSize(e.value);
  const offsets: number[] = [];
  let dataSize = 0;
  for (const t of doc.tensors) {
    header += scalarSize(GgufType.STRING, t.name) + 4 + 8 * t.dims.length + 4 + 8;
    dataSize = alignUp(dataSize, alignment);
    offsets.push(dataSize);
    dataSize += t.data.byteLength;
  }
  const dataStart = alignUp(header, alignment);
  const w = new Writer(new Uint8Array(dataStart + alignUp(dataSize, alignment)));

  w.u32(GGUF_MAGIC);
  w.u32(GGUF_VERSION);
  w.u64(doc.tensors.length);
  w.u64(doc.kvs.length);
  for (const e of doc.kvs) {
    w.str(e.key);
    w.value(e.value);
  }
  doc.tensors.forEach((t, i) => {
    w.str(t.name);
    w.u32(t.dims.length);
    for (const d of t.dims) w.u64(d);
    w.u32(GGML_TYPE_F32);
    w.u64(offsets[i] ?? 0);
  });
  doc.tensors.forEach((t, i) => {
    const base = dataStart + (offsets[i] ?? 0);
    for (let j = 0; j < t.data.length; j++) w.view.setFloat32(base + 4 * j, t.data[j] ?? 0, true);
  });
  return w.buf;
}
