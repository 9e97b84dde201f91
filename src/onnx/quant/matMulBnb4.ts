/**
 * com.microsoft MatMulBnb4 (bitsandbytes 4-bit, the hub's model_bnb4.onnx) → MatMul by a constant fp32
 * [K, N] matrix. B holds Wᵀ ([N, K], row-major) flattened and quantised in blocks of block_size along that
 * flat index; each byte carries two 4-bit codes, the first element in the HIGH nibble. A code indexes the
 * FP4 (quant_type 0) or NF4 (quant_type 1) table and is scaled by its block's absmax.
 */
import { Graph, Node } from '../graph';
import { DataType, readTensor, tensorToFloat32 } from '../tensorData';

const attrInt = (n: Node, k: string, d: number): number => (n.attrs[k]?.kind === 'int' ? (n.attrs[k].value as number) : d);

/** bitsandbytes' 4-bit float code book (sign bit, 2-bit exponent with bias 3, 1-bit mantissa), absmax 1. */
const FP4 = [0, 0.0625, 8, 12, 4, 6, 2, 3].map((v) => v / 12);
const FP4_MAP = [...FP4, ...FP4.map((v) => -v)];

/** bitsandbytes' NormalFloat4 code book: quantiles of a standard normal, scaled to [−1, 1]. */
const NF4_MAP = [
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334,
  -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
  0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
];

export function bnb4CodeBook(quantType: number): readonly number[] {
  if (quantType === 0) return FP4_MAP;
  if (quantType === 1) return NF4_MAP;
  throw new Error(`Unknown MatMulBnb4 quant_type ${quantType} (0 = FP4, 1 = NF4).`);
}

/** The dequantised weight as row-major [K, N] (ready for A @ W). */
export function dequantizeMatMulBnb4(g: Graph, n: Node): Float32Array {
  const K = attrInt(n, 'K', 0), N = attrInt(n, 'N', 0), bs = attrInt(n, 'block_size', 0), qt = attrInt(n, 'quant_type', -1);
  const fail = (why: string): never => { throw new Error(`Cannot dequantise MatMulBnb4 node "${n.name}": ${why}`); };
  if (!(K > 0 && N > 0 && bs > 0)) fail('K, N and block_size must be positive.');
  if (attrInt(n, 'transB', 1) !== 1) fail('only transB = 1 (the layout onnxruntime runs) is supported.');
  if (qt !== 0 && qt !== 1) fail(`quant_type ${qt} is not FP4 (0) or NF4 (1).`);
  const bt = g.constantValue(n.inputs[1]), at = g.constantValue(n.inputs[2]);
  if (!bt || !at) fail('weights and absmax must be constants.');
  if (bt!.data_type !== DataType.UINT8) fail('B must be uint8.');
  const q = readTensor(bt!).data as Uint8Array;
  const absmax = tensorToFloat32(at!);
  const numel = K * N;
  if (q.length !== Math.ceil(numel / 2)) fail(`B has ${q.length} bytes, expected ⌈N·K/2⌉ = ${Math.ceil(numel / 2)}.`);
  if (absmax.length !== Math.ceil(numel / bs)) fail(`${absmax.length} absmax values, expected ⌈N·K/block_size⌉ = ${Math.ceil(numel / bs)}.`);
  const book = bnb4CodeBook(qt);
  const w = new Float32Array(numel);
  for (let i = 0; i < numel; i++) {
    // Blocks never split a byte: block sizes are even, so element i sits in byte ⌊i/2⌋ of its own block.
    const byte = q[i >> 1];
    const code = i & 1 ? byte & 0xf : byte >> 4;
    const row = Math.floor(i / K), k = i % K; // Wᵀ[row, k] = W[k, row]
    w[k * N + row] = book[code] * absmax[Math.floor(i / bs)];
  }
  return w;
}

/** Emits MatMul(A, W) writing to the node's output (appends to g.nodes). */
export function emitDequantizedBnb4MatMul(g: Graph, n: Node): void {
  const K = attrInt(n, 'K', 0), N = attrInt(n, 'N', 0);
  const w = g.constTensor(`${n.name}_dequantized`, DataType.FLOAT, [K, N], dequantizeMatMulBnb4(g, n));
  g.add('MatMul', [n.inputs[0], w], {}, { outputs: [n.outputs[0]] });
}
