/**
 * onnxruntime-node hands half-precision tensors over as raw 16-bit patterns (Uint16Array) and takes integer
 * inputs only in the exact element type the graph declares. Every read of a float output and every write of
 * an id / mask / past input goes through here, so no caller ever treats fp16 bits as numbers.
 */
import * as ort from 'onnxruntime-node';

export type FloatElement = 'float32' | 'float16' | 'bfloat16' | 'float64';
export type IntElement = 'int64' | 'int32';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE 754 binary16 bits → number (subnormals, infinities and NaN included). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** number → binary16 bits, round to nearest even (what numpy's astype(float16) does). */
export function floatToHalf(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    let half = m >> shift;
    const rem = m & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** bfloat16 bits are the top half of a float32. */
export function bfloatToFloat(b: number): number {
  u32[0] = b << 16;
  return f32[0];
}

export function floatToBfloat(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  if ((bits & 0x7f800000) === 0x7f800000 && bits & 0x7fffff) return (bits >>> 16) | 0x40;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/** The values of a floating-point output as float32, whatever its element type. */
export function floatData(t: ort.Tensor): Float32Array {
  switch (t.type as string) {
    case 'float32': return t.data as Float32Array;
    case 'float64': return Float32Array.from(t.data as Float64Array);
    case 'float16': return decodeHalfArray(t.data as ArrayLike<number>);
    case 'bfloat16': {
      const src = t.data as Uint16Array;
      const out = new Float32Array(src.length);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < src.length; i++) bits[i] = src[i] << 16;
      return out;
    }
    default: throw new Error(`Expected a floating-point tensor, got ${t.type}.`);
  }
}

function decodeHalfArray(src: ArrayLike<number>): Float32Array {
  // Newer runtimes may hand out a Float16Array, whose elements are already numbers.
  if (!(src instanceof Uint16Array)) return Float32Array.from(src);
  const table = halfTable();
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = table[src[i]];
  return out;
}

let HALF_TABLE: Float32Array | undefined;
function halfTable(): Float32Array {
  if (!HALF_TABLE) {
    HALF_TABLE = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) HALF_TABLE[h] = halfToFloat(h);
  }
  return HALF_TABLE;
}

/** A float tensor of the given element type from float32 values (fp16/bf16 stored as their bit patterns). */
export function floatTensor(type: FloatElement, values: Float32Array, dims: readonly number[]): ort.Tensor {
  switch (type) {
    case 'float32': return new ort.Tensor('float32', values, dims);
    case 'float64': return new ort.Tensor('float64', Float64Array.from(values), dims);
    case 'float16': return new ort.Tensor('float16', Uint16Array.from(values, floatToHalf), dims);
    case 'bfloat16': return new ort.Tensor('bfloat16' as 'float16', Uint16Array.from(values, floatToBfloat), dims);
  }
}

/** An empty tensor (one dimension 0) of a float element type, e.g. a past-key-value input with no past. */
export function emptyFloatTensor(type: FloatElement, dims: readonly number[]): ort.Tensor {
  return floatTensor(type, new Float32Array(0), dims);
}

/** An integer tensor in the element type the graph declares. */
export function intTensor(type: IntElement, values: ArrayLike<number>, dims: readonly number[]): ort.Tensor {
  if (type === 'int32') return new ort.Tensor('int32', Int32Array.from(values), dims);
  const a = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) a[i] = BigInt(values[i]);
  return new ort.Tensor('int64', a, dims);
}

/** Element type of an input from session metadata, normalised to what Promptscope can feed. */
export function inputElementType(session: ort.InferenceSession, name: string): string | undefined {
  const m = (session.inputMetadata ?? []).find((x) => x.name === name) as { type?: string } | undefined;
  return m?.type;
}

export function intElementOf(type: string | undefined): IntElement {
  return type === 'int32' ? 'int32' : 'int64';
}

export function floatElementOf(type: string | undefined): FloatElement {
  return type === 'float16' || type === 'bfloat16' || type === 'float64' ? type : 'float32';
}

/** Re-types int64 feeds to the element types the session declares (int32 ids of genai exports). */
export function conformIntFeeds(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>): Record<string, ort.Tensor> {
  for (const [name, t] of Object.entries(feeds)) {
    if (t.type !== 'int64') continue;
    if (inputElementType(session, name) !== 'int32') continue;
    const src = t.data as BigInt64Array;
    feeds[name] = new ort.Tensor('int32', Int32Array.from(src, (v) => Number(v)), t.dims);
  }
  return feeds;
}
