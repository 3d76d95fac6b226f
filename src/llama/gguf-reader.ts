import {
  alignUp,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  type GgufKv,
  type GgufScalar,
  type GgufScalarType,
  type GgufTensorInfo,
  GgufType,
  type GgufValue,
} from "./gguf.js";

export interface GgufFile {
  version: number;
  kvs: GgufKv[];
  tensors: GgufTensorInfo[];
  alignment: number;
  /** Absolute byte offset of the tensor data section. */
  dataOffset: number;
}

export class GgufFormatError extends Error {
  override name = "GgufFormatError";
}

/** A bounds-checked cursor so that a truncated or foreign file fails with a message, not a RangeError. */
class Cursor {
  pos = 0;
  private readonly view: DataView;
  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  private need(n: number): number {
    if (this.pos + n > this.buf.byteLength) {
      throw new GgufFormatError(`unexpected end of file at byte ${this.pos} (needed ${n} more)`);
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }
  u8 = () => this.view.getUint8(this.need(1));
  i8 = () => this.view.getInt8(this.need(1));
  u16 = () => this.view.getUint16(this.need(2), true);
  i16 = () => this.view.getInt16(this.need(2), true);
  u32 = () => this.view.getUint32(this.need(4), true);
  i32 = () => this.view.getInt32(this.need(4), true);
  f32 = () => this.view.getFloat32(this.need(4), true);
  f64 = () => this.view.getFloat64(this.need(8), true);
  u64 = () => this.view.getBigUint64(this.need(8), true);
  i64 = () => this.view.getBigInt64(this.need(8), true);
  /** Lengths and counts are u64 on disk but always fit a JS number for files we can hold in memory. */
  count(): number {
    const n = this.u64();
    if (n > BigInt(this.buf.byteLength))
      throw new GgufFormatError(`implausible length ${n} at byte ${this.pos}`);
    return Number(n);
  }
  str(): string {
    const len = this.count();
    const at = this.need(len);
    return Buffer.from(this.buf.buffer, this.buf.byteOffset + at, len).toString("utf8");
  }
}

function readScalar(c: Cursor, type: number): GgufScalar {
  switch (type) {
    case GgufType.UINT8:
      return c.u8();
    case GgufType.INT8:
      return c.i8();
    case GgufType.UINT16:
      return c.u16();
    case GgufType.INT16:
      return c.i16();
    case GgufType.UINT32:
      return c.u32();
    case GgufType.INT32:
      return c.i32();
    case GgufType.FLOAT32:
      return c.f32();
    case GgufType.BOOL:
      return c.u8() !== 0;
    case GgufType.STRING:
      return c.str();
    case GgufType.UINT64:
      return c.u64();
    case GgufType.INT64:
      return c.i64();
    case GgufType.FLOAT64:
      return c.f64();
    default:
      throw new GgufFormatError(`unknown value type ${type} at byte ${c.pos}`);
  }
}

function readValue(c: Cursor, type: number): GgufValue {
  if (type !== GgufType.ARRAY) return { type: type as GgufScalarType, value: readScalar(c, type) };
  const itemType = c.u32();
  if (itemType === GgufType.ARRAY) throw new GgufFormatError("nested arrays are not supported");
  const n = c.count();
  const items: GgufScalar[] = new Array(n);
  for (let i = 0; i < n; i++) items[i] = readScalar(c, itemType);
  return { type: GgufType.ARRAY, itemType: itemType as GgufScalarType, items };
}

/** Parses the header, metadata and tensor descriptors; tensor data stays in the buffer, untouched. */
export function readGguf(buf: Uint8Array): GgufFile {
  const c = new Cursor(buf);
  const magic = c.u32();
  if (magic !== GGUF_MAGIC) throw new GgufFormatError("not a GGUF file (bad magic)");
  const version = c.u32();
  if (version < 2 || version > 3) throw new GgufFormatError(`unsupported GGUF version ${version}`);
  const tensorCount = c.count();
  const kvCount = c.count();
  const kvs: GgufKv[] = [];
  for (let i = 0; i < kvCount; i++) {
    const key = c.str();
    kvs.push({ key, value: readValue(c, c.u32()) });
  }
  const tensors: GgufTensorInfo[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = c.str();
    const nDims = c.u32();
    const dims: bigint[] = [];
    for (let d = 0; d < nDims; d++) dims.push(c.u64());
    tensors.push({ name, dims, ggmlType: c.u32(), offset: c.u64() });
  }
  const alignKv = kvs.find((e) => e.key === "general.alignment")?.value;
  const alignment =
    alignKv && alignKv.type === GgufType.UINT32 ? Number(alignKv.value) : GGUF_DEFAULT_ALIGNMENT;
  return { version, kvs, tensors, alignment, dataOffset: alignUp(c.pos, alignment) };
}

/** Convenience lookup for scalar metadata; arrays come back as their descriptor. */
export function getKv(file: GgufFile, key: string): GgufValue | undefined {
  return file.kvs.find((e) => e.key === key)?.value;
}
