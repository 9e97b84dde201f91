/**
 * DequantizeLinear of constant inputs → an fp32 initializer: y = (x − zero_point) · scale, with the scale
 * per tensor, per axis (1-D along `axis`), or blocked (opset 21 `block_size`: the scale has x's rank and
 * ceil(D/block_size) entries along `axis`). Folded before differentiation because weights are constants.
 */
import { Graph, Node } from '../graph';
import { DataType, makeTensor, readTensor, tensorToFloat32, tensorToNumbers } from '../tensorData';

const INTEGER_TYPES = new Set<number>([DataType.INT8, DataType.UINT8, DataType.INT16, DataType.UINT16, DataType.INT32]);

const attrInt = (n: Node, k: string, d: number): number => (n.attrs[k]?.kind === 'int' ? (n.attrs[k].value as number) : d);

/** Dequantised values of a constant DequantizeLinear node, or undefined if any input is not a constant. */
export function dequantizeConstant(g: Graph, n: Node): { dims: number[]; data: Float32Array } | undefined {
  const [xName, sName, zName] = n.inputs;
  const xt = g.constantValue(xName), st = g.constantValue(sName), zt = zName ? g.constantValue(zName) : undefined;
  if (!xt || !st || (zName && !zt)) return undefined;
  // Other element types (fp8, int4) stay as nodes: on constants they never need a gradient rule.
  if (!INTEGER_TYPES.has(xt.data_type ?? 0)) return undefined;
  const x = readTensor(xt);
  const q = tensorToNumbers(xt);
  const scale = tensorToFloat32(st);
  const sDims = readTensor(st).dims;
  const zp = zt ? tensorToNumbers(zt) : undefined;
  const dims = x.dims, r = dims.length;
  const out = new Float32Array(q.length);
  if (scale.length === 1) {
    const s = scale[0], z = zp?.[0] ?? 0;
    for (let i = 0; i < q.length; i++) out[i] = (q[i] - z) * s;
    return { dims, data: out };
  }
  let axis = attrInt(n, 'axis', 1);
  if (axis < 0) axis += r;
  if (axis < 0 || axis >= r) throw new Error(`DequantizeLinear node "${n.name}": axis ${axis} is outside rank ${r}.`);
  const D = dims[axis];
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const block = attrInt(n, 'block_size', 0);
  if (block > 0) {
    // Blocked: scale[..., floor(c / block), ...] with the same outer and inner layout as x.
    const Sa = sDims[axis];
    if (sDims.length !== r || Sa !== Math.ceil(D / block)) throw new Error(`DequantizeLinear node "${n.name}": blocked scale shape [${sDims}] does not fit x [${dims}] with block_size ${block}.`);
    for (let i = 0; i < q.length; i++) {
      const innerIdx = i % inner, c = Math.floor(i / inner) % D, outer = Math.floor(i / (inner * D));
      const k = (outer * Sa + Math.floor(c / block)) * inner + innerIdx;
      out[i] = (q[i] - (zp?.[k] ?? 0)) * scale[k];
    }
    return { dims, data: out };
  }
  if (scale.length !== D) throw new Error(`DequantizeLinear node "${n.name}": ${scale.length} scales for axis ${axis} of size ${D}.`);
  for (let i = 0; i < q.length; i++) {
    const c = Math.floor(i / inner) % D;
    out[i] = (q[i] - (zp?.[c] ?? 0)) * scale[c];
  }
  return { dims, data: out };
}

/** Replaces every DequantizeLinear whose inputs are all constants by an fp32 initializer; returns the count. */
export function foldConstantDequantizeLinear(g: Graph): number {
  let count = 0;
  const keep: Node[] = [];
  for (const n of g.nodes) {
    const isDq = n.opType === 'DequantizeLinear' && (n.domain === '' || n.domain === 'com.microsoft');
    const v = isDq ? dequantizeConstant(g, n) : undefined;
    if (!v) { keep.push(n); continue; }
    g.initializers.set(n.outputs[0], makeTensor(n.outputs[0], DataType.FLOAT, v.dims, v.data));
    count++;
  }
  if (count) { g.nodes = keep; g.invalidate(); }
  return count;
}
