/**
 * Test fixture: the fp16 form of an fp32 model as half-precision exports look from outside — weights stored
 * as float16 (cast up where used) and every float graph input and output (logits, past / present keys and
 * values) declared float16. Arithmetic stays fp32 inside, so the model runs on every CPU alike.
 */
import { Graph, I } from '../../src/onnx/graph';
import { ModelProto } from '../../src/onnx/onnxProto';
import { DataType, dimsOf, makeTensor, tensorToFloat32 } from '../../src/onnx/tensorData';
import { floatToHalf } from '../../src/runtime/tensorDecoding';

export function toHalfPrecision(model: ModelProto, opts: { minWeightSize?: number } = {}): ModelProto {
  const g = Graph.fromModelProto(model);
  const casts: Graph['nodes'] = [];
  for (const [name, t] of [...g.initializers]) {
    if (t.data_type !== DataType.FLOAT) continue;
    const dims = dimsOf(t);
    if (dims.reduce((a, b) => a * b, 1) < (opts.minWeightSize ?? 16)) continue;
    const half = Uint16Array.from(tensorToFloat32(t), floatToHalf);
    g.initializers.delete(name);
    g.initializers.set(`${name}_fp16`, makeTensor(`${name}_fp16`, DataType.FLOAT16, dims, half));
    casts.push({ opType: 'Cast', domain: '', inputs: [`${name}_fp16`], outputs: [name], attrs: { to: I(DataType.FLOAT) }, name: `${name}_to_fp32` });
  }
  for (const inp of g.inputs) {
    if (inp.elemType !== DataType.FLOAT) continue;
    const inner = `${inp.name}_fp32`;
    for (const n of g.nodes) n.inputs = n.inputs.map((x) => (x === inp.name ? inner : x));
    casts.push({ opType: 'Cast', domain: '', inputs: [inp.name], outputs: [inner], attrs: { to: I(DataType.FLOAT) }, name: `${inp.name}_in_cast` });
    inp.elemType = DataType.FLOAT16;
  }
  const tail: Graph['nodes'] = [];
  for (const out of g.outputs) {
    if (out.elemType !== DataType.FLOAT) continue;
    const inner = `${out.name}_fp32`;
    for (const n of g.nodes) {
      n.outputs = n.outputs.map((x) => (x === out.name ? inner : x));
      n.inputs = n.inputs.map((x) => (x === out.name ? inner : x));
    }
    tail.push({ opType: 'Cast', domain: '', inputs: [inner], outputs: [out.name], attrs: { to: I(DataType.FLOAT16) }, name: `${out.name}_out_cast` });
    out.elemType = DataType.FLOAT16;
  }
  g.nodes = [...casts, ...g.nodes, ...tail];
  g.valueInfo.clear();
  return g.toModelProto();
}
