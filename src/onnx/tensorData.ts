/** TensorProto <-> typed arrays, including fp16 conversion (fp16 models are differentiated in fp32). */
import { TensorProto, toNumber } from './onnxProto';
import { externalBytes } from './modelSkeleton';

export const DataType = {
  FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9,
  FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, BFLOAT16: 16,
} as const;

export type TensorArray =
  | Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Uint16Array | Int16Array
  | Uint32Array | BigUint64Array;

export interface TensorValue { dataType: number; dims: number[]; data: TensorArray }

const BYTES: Record<number, number> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };

export function isFloatType(t: number): boolean {
  return t === DataType.FLOAT || t === DataType.FLOAT16 || t === DataType.DOUBLE || t === DataType.BFLOAT16;
}

export function dimsOf(t: TensorProto): number[] {
  return (t.dims ?? []).map(toNumber);
}

function viewRaw(raw: Uint8Array, dataType: number): TensorArray {
  // Copy to an aligned buffer: raw_data may sit at any offset inside the model file buffer.
  const buf = new Uint8Array(raw).buffer; // Buffer#slice would alias the pooled buffer; this copies
  switch (dataType) {
    case DataType.FLOAT: return new Float32Array(buf);
    case DataType.DOUBLE: return new Float64Array(buf);
    case DataType.INT32: return new Int32Array(buf);
    case DataType.INT64: return new BigInt64Array(buf);
    case DataType.UINT64: return new BigUint64Array(buf);
    case DataType.UINT32: return new Uint32Array(buf);
    case DataType.INT16: return new Int16Array(buf);
    case DataType.UINT16: case DataType.FLOAT16: case DataType.BFLOAT16: return new Uint16Array(buf);
    case DataType.INT8: return new Int8Array(buf);
    case DataType.UINT8: case DataType.BOOL: return new Uint8Array(buf);
    default: throw new Error(`Unsupported tensor data type ${dataType}.`);
  }
}

export function readTensor(t: TensorProto): TensorValue {
  const dataType = t.data_type ?? 0;
  const dims = dimsOf(t);
  if (t.data_location === 1) {
    // Skeleton tensors read their bytes from the model file on demand (see modelSkeleton.ts).
    const raw = externalBytes(t);
    if (!raw) throw new Error(`Tensor ${t.name} still refers to external data; load the model with its folder.`);
    return { dataType, dims, data: viewRaw(raw, dataType) };
  }
  if (t.raw_data && t.raw_data.length > 0) return { dataType, dims, data: viewRaw(t.raw_data, dataType) };
  const n = dims.reduce((a, b) => a * b, 1);
  let data: TensorArray;
  switch (dataType) {
    case DataType.FLOAT: data = Float32Array.from(t.float_data ?? []); break;
    case DataType.DOUBLE: data = Float64Array.from(t.double_data ?? []); break;
    case DataType.INT64: data = BigInt64Array.from((t.int64_data ?? []).map((v) => BigInt(v.toString()))); break;
    case DataType.UINT64: data = BigUint64Array.from((t.uint64_data ?? []).map((v) => BigInt(v.toString()))); break;
    case DataType.INT32: data = Int32Array.from(t.int32_data ?? []); break;
    case DataType.INT16: data = Int16Array.from(t.int32_data ?? []); break;
    case DataType.INT8: data = Int8Array.from(t.int32_data ?? []); break;
    case DataType.UINT8: case DataType.BOOL: data = Uint8Array.from(t.int32_data ?? []); break;
    case DataType.UINT16: case DataType.FLOAT16: case DataType.BFLOAT16: data = Uint16Array.from(t.int32_data ?? []); break;
    default: throw new Error(`Unsupported tensor data type ${dataType} in ${t.name}.`);
  }
  if (data.length !== n && n !== 0) throw new Error(`Tensor ${t.name}: ${data.length} values for ${n} elements.`);
  return { dataType, dims, data };
}

export function makeTensor(name: string, dataType: number, dims: number[], data: TensorArray): TensorProto {
  const bytes = BYTES[dataType];
  if (!bytes) throw new Error(`Cannot serialise data type ${dataType}.`);
  const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return { name, data_type: dataType, dims, raw_data: raw };
}

/** Numeric view (float64) of any numeric tensor: for reading small constants (shapes, axes, scales). */
export function tensorToNumbers(t: TensorProto): number[] {
  const v = readTensor(t);
  if (v.dataType === DataType.FLOAT16) return Array.from(v.data as Uint16Array, halfToFloat);
  if (v.dataType === DataType.BFLOAT16) return Array.from(v.data as Uint16Array, (h) => bf16ToFloat(h));
  return Array.from(v.data as ArrayLike<number | bigint>, (x) => Number(x));
}

/** Any float tensor as Float32Array (fp16/bf16/double converted). */
export function tensorToFloat32(t: TensorProto): Float32Array {
  const v = readTensor(t);
  switch (v.dataType) {
    case DataType.FLOAT: return v.data as Float32Array;
    case DataType.FLOAT16: return Float32Array.from(v.data as Uint16Array, halfToFloat);
    case DataType.BFLOAT16: return Float32Array.from(v.data as Uint16Array, bf16ToFloat);
    default: return Float32Array.from(v.data as ArrayLike<number | bigint>, (x) => Number(x));
  }
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
export function bf16ToFloat(h: number): number {
  u32[0] = h << 16;
  return f32[0];
}

export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}
