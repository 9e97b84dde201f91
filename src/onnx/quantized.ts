/**
 * Quantised weights before differentiation (weights are constants, so they are turned back into fp32):
 *   - DequantizeLinear of constants → fp32 initializers (per tensor, per axis, blocked);
 *   - com.microsoft MatMulNBits and MatMulBnb4 → MatMul by the dequantised fp32 matrix;
 *   - dynamically quantised activations (DynamicQuantizeLinear + MatMulInteger, DynamicQuantizeMatMul,
 *     MatMulIntegerToFloat) keep their exact forward value and get a straight-through gradient
 *     (quant/straightThrough.ts).
 * Half-precision weights are converted separately (fp16ToFp32.ts), after this pass.
 */
import { Graph, Node } from './graph';
import { foldConstantDequantizeLinear } from './quant/dequantizeLinear';
import { emitDequantizedBnb4MatMul } from './quant/matMulBnb4';
import { emitDequantizedMatMul } from './quant/matMulNBits';
import { straightThroughQuantizedMatMuls } from './quant/straightThrough';

function dequantizeBlockwiseMatMuls(g: Graph, opType: string, emit: (g: Graph, n: Node) => void): number {
  const isTarget = (n: Node): boolean => n.opType === opType && n.domain === 'com.microsoft';
  if (!g.nodes.some(isTarget)) return 0;
  const orig = g.nodes;
  g.nodes = []; // rewrites append in place of the fused node, keeping topological order
  let count = 0;
  for (const n of orig) {
    if (!isTarget(n)) { g.nodes.push(n); continue; }
    emit(g, n);
    count++;
  }
  g.invalidate();
  return count;
}

export interface QuantizedFoldCounts { dequantizeLinear: number; matMulNBits: number; matMulBnb4: number; straightThrough: number }

export function foldQuantizedConstants(g: Graph): QuantizedFoldCounts {
  const dequantizeLinear = foldConstantDequantizeLinear(g);
  const matMulNBits = dequantizeBlockwiseMatMuls(g, 'MatMulNBits', emitDequantizedMatMul);
  const matMulBnb4 = dequantizeBlockwiseMatMuls(g, 'MatMulBnb4', emitDequantizedBnb4MatMul);
  const straightThrough = straightThroughQuantizedMatMuls(g);
  // Drops the integer weights and quantisation constants nothing reads any more.
  if (dequantizeLinear + matMulNBits + matMulBnb4 + straightThrough > 0) g.topoSortAndPrune();
  return { dequantizeLinear, matMulNBits, matMulBnb4, straightThrough };
}
