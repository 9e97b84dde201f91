/** Test fixture: a model whose 2-D fp32 MatMul weights become int8 + DequantizeLinear (per output column). */
import { Graph, I } from '../../src/onnx/graph';
import { ModelProto } from '../../src/onnx/onnxProto';
import { DataType, dimsOf, makeTensor, tensorToFloat32 } from '../../src/onnx/tensorData';

export function quantizeMatMulWeightsInt8(model: ModelProto): ModelProto {
  const g = Graph.fromModelProto(model);
  const done = new Set<string>();
  const dqNodes: Graph['nodes'] = [];
  for (const n of g.nodes) {
    const name = n.inputs[1];
    const t = n.opType === 'MatMul' ? g.initializers.get(name) : undefined;
    if (!t || done.has(name) || t.data_type !== DataType.FLOAT || dimsOf(t).length !== 2) continue;
    const [K, N] = dimsOf(t);
    const w = tensorToFloat32(t);
    const scale = new Float32Array(N), q = new Int8Array(K * N);
    for (let c = 0; c < N; c++) {
      let m = 0;
      for (let k = 0; k < K; k++) m = Math.max(m, Math.abs(w[k * N + c]));
      scale[c] = m > 0 ? m / 127 : 1;
      for (let k = 0; k < K; k++) q[k * N + c] = Math.round(w[k * N + c] / scale[c]);
    }
    g.initializers.delete(name);
    g.initializers.set(`${name}_q`, makeTensor(`${name}_q`, DataType.INT8, [K, N], q));
    g.initializers.set(`${name}_scale`, makeTensor(`${name}_scale`, DataType.FLOAT, [N], scale));
    dqNodes.push({ opType: 'DequantizeLinear', domain: '', inputs: [`${name}_q`, `${name}_scale`], outputs: [name], attrs: { axis: I(1) }, name: `${name}_dequantize` });
    done.add(name);
  }
  g.nodes = [...dqNodes, ...g.nodes];
  if (g.opset < 13) g.opsets.set('', 13); // per-axis DequantizeLinear
  return g.toModelProto();
}
