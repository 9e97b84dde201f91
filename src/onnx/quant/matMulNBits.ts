/**
 * com.microsoft MatMulNBits → MatMul by a constant fp32 [K, N] matrix (+ bias). The weight is stored
 * transposed and block-wise along K: B is uint8 [N, k_blocks, block_size·bits/8], values packed from the
 * low bits of each byte up; W[n, k] = (q[n, k] − zp[n, k / block_size]) · scale[n, k / block_size].
 * Zero points are packed uint8 [N, ceil(k_blocks·bits/8)] (same bit order), unpacked floats [N, k_blocks], or
 * absent (then 2^(bits−1)).
 */
import { Graph, Node } from '../graph';
import { DataType, isFloatType, readTensor, tensorToFloat32, tensorToNumbers } from '../tensorData';

const attrInt = (n: Node, k: string, d: number): number => (n.attrs[k]?.kind === 'int' ? (n.attrs[k].value as number) : d);

/** The dequantised weight as row-major [K, N] (ready for A @ W), or an error naming what is unsupported. */
export function dequantizeMatMulNBits(g: Graph, n: Node): Float32Array {
  const K = attrInt(n, 'K', 0), N = attrInt(n, 'N', 0), bits = attrInt(n, 'bits', 4), bs = attrInt(n, 'block_size', 0);
  const fail = (why: string): never => { throw new Error(`Cannot dequantise MatMulNBits node "${n.name}": ${why}`); };
  if (!(K > 0 && N > 0 && bs > 0)) fail('K, N and block_size must be positive.');
  if (![2, 4, 8].includes(bits)) fail(`${bits}-bit weights are not supported (2, 4 and 8 are).`);
  if (n.inputs[4]) fail('the deprecated g_idx input is not supported.');
  if (attrInt(n, 'weight_prepacked', 0)) fail('pre-packed weights are not supported.');
  const bt = g.constantValue(n.inputs[1]), st = g.constantValue(n.inputs[2]);
  const zt = n.inputs[3] ? g.constantValue(n.inputs[3]) : undefined;
  if (!bt || !st || (n.inputs[3] && !zt)) fail('weights, scales and zero points must be constants.');
  const q = readTensor(bt!).data as Uint8Array;
  const scale = tensorToFloat32(st!);
  const kBlocks = Math.ceil(K / bs), blob = (bs * bits) / 8, mask = (1 << bits) - 1;
  if (q.length !== N * kBlocks * blob) fail(`B has ${q.length} bytes, expected N·k_blocks·blob_size = ${N * kBlocks * blob}.`);
  if (scale.length !== N * kBlocks) fail(`${scale.length} scales, expected N·k_blocks = ${N * kBlocks}.`);
  let zeroPoint: (row: number, blk: number) => number;
  if (!zt) {
    const z = 2 ** (bits - 1);
    zeroPoint = () => z;
  } else if (isFloatType(zt.data_type ?? 0)) {
    const z = tensorToFloat32(zt);
    zeroPoint = (row, blk) => z[row * kBlocks + blk];
  } else {
    const z = tensorToNumbers(zt), zRow = Math.ceil((kBlocks * bits) / 8);
    if (z.length !== N * zRow) fail(`${z.length} packed zero points, expected ${N * zRow}.`);
    zeroPoint = (row, blk) => (z[row * zRow + Math.floor((blk * bits) / 8)] >> ((blk * bits) % 8)) & mask;
  }
  const w = new Float32Array(K * N);
  for (let row = 0; row < N; row++) {
    for (let blk = 0; blk < kBlocks; blk++) {
      const s = scale[row * kBlocks + blk], z = zeroPoint(row, blk), base = (row * kBlocks + blk) * blob;
      for (let j = 0; j < bs; j++) {
        const k = blk * bs + j;
        if (k >= K) break; // padding of the last block
        const bit = j * bits;
        const v = (q[base + (bit >> 3)] >> (bit & 7)) & mask;
        w[k * N + row] = (v - z) * s;
      }
    }
  }
  return w;
}

/** Emits MatMul(A, W) [+ bias] writing to the node's output (appends to g.nodes). */
export function emitDequantizedMatMul(g: Graph, n: Node): void {
  const K = attrInt(n, 'K', 0), N = attrInt(n, 'N', 0);
  const w = g.constTensor(`${n.name}_dequantized`, DataType.FLOAT, [K, N], dequantizeMatMulNBits(g, n));
  const bias = n.inputs[5];
  if (!bias) { g.add('MatMul', [n.inputs[0], w], {}, { outputs: [n.outputs[0]] }); return; }
  g.add('Add', [g.op('MatMul', [n.inputs[0], w]), bias], {}, { outputs: [n.outputs[0]] });
}

