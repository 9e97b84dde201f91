/**
 * fp16/bf16 models are differentiated in fp32: half-precision gradients through softmax and layer norms are
 * too coarse for attributions, and the cost is only memory for these small models.
 */
import { Graph, T } from './graph';
import { TensorProto } from './onnxProto';
import { DataType, makeTensor, tensorToFloat32 } from './tensorData';

const isHalf = (t: number | undefined): boolean => t === DataType.FLOAT16 || t === DataType.BFLOAT16;

function toF32(t: TensorProto): TensorProto {
  return makeTensor(t.name ?? '', DataType.FLOAT, (t.dims ?? []).map(Number), tensorToFloat32(t));
}

export function convertHalfToFloat(g: Graph): boolean {
  let changed = false;
  for (const [name, t] of g.initializers) if (isHalf(t.data_type)) { g.initializers.set(name, toF32(t)); changed = true; }
  for (const v of [...g.inputs, ...g.outputs]) if (isHalf(v.elemType)) { v.elemType = DataType.FLOAT; changed = true; }
  for (const n of g.nodes) {
    for (const [k, a] of Object.entries(n.attrs)) {
      if (a.kind === 'tensor' && isHalf(a.value.data_type)) { n.attrs[k] = T(toF32(a.value)); changed = true; }
      if (a.kind === 'int' && (k === 'to' || k === 'dtype' || k === 'output_datatype') && isHalf(a.value)) { n.attrs[k] = { kind: 'int', value: DataType.FLOAT }; changed = true; }
    }
  }
  for (const v of g.valueInfo.values()) if (isHalf(v.elemType)) v.elemType = DataType.FLOAT;
  if (changed) foldFloatCasts(g);
  return changed;
}

/**
 * Weights stored in half precision and read through Cast(to=float) are now float → float casts of
 * initializers: make the cast's output the initializer itself, so passes that look for constant matrices
 * (the embedding lookup, the LM head) find them.
 */
function foldFloatCasts(g: Graph): void {
  const folded = new Set<unknown>();
  for (const n of g.nodes) {
    if (n.opType !== 'Cast' || n.attrs.to?.kind !== 'int' || n.attrs.to.value !== DataType.FLOAT) continue;
    const src = g.initializers.get(n.inputs[0]);
    if (!src || src.data_type !== DataType.FLOAT || g.initializers.has(n.outputs[0])) continue;
    g.initializers.set(n.outputs[0], { ...src, name: n.outputs[0] });
    folded.add(n);
  }
  if (folded.size) {
    g.nodes = g.nodes.filter((n) => !folded.has(n));
    g.invalidate();
  }
}
