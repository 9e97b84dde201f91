/** Written-out LayerNorm patterns are re-fused into one LayerNormalization node with identical outputs. */
import * as assert from 'node:assert';
import * as ort from 'onnxruntime-node';
import { Graph, I } from '../../src/onnx/graph';
import { encodeModel } from '../../src/onnx/onnxProto';
import { fuseLayerNorms } from '../../src/onnx/layerNormFusion';
import { DataType } from '../../src/onnx/tensorData';
import { rng } from './fdHarness';

function decomposedLayerNorm(extraReader: boolean): Graph {
  const g = new Graph();
  g.opsets.set('', 17);
  g.inputs.push({ name: 'x', elemType: DataType.FLOAT, dims: [2, 3, 8] });
  const mean = g.op('ReduceMean', ['x'], { axes: { kind: 'ints', value: [-1] }, keepdims: I(1) });
  const d = g.op('Sub', ['x', mean]);
  const v = g.op('ReduceMean', [g.op('Pow', [d, g.scalarF32(2)])], { axes: { kind: 'ints', value: [-1] } });
  const n = g.op('Div', [d, g.op('Sqrt', [g.op('Add', [v, g.scalarF32(1e-5)])])]);
  const y = g.op('Add', [g.op('Mul', [n, g.constF32(Array.from({ length: 8 }, (_, i) => 0.5 + i / 8))]), g.constF32(Array.from({ length: 8 }, (_, i) => i / 10 - 0.3))]);
  g.outputs = [{ name: y, elemType: DataType.FLOAT, dims: undefined }];
  if (extraReader) g.outputs.push({ name: v, elemType: DataType.FLOAT, dims: undefined });
  return g;
}

describe('LayerNorm re-fusion', () => {
  it('fuses the written-out pattern and keeps the outputs (max abs error ≤ 1e-5)', async () => {
    const rand = rng(2);
    const x = new ort.Tensor('float32', Float32Array.from({ length: 48 }, () => rand() * 4 - 2), [2, 3, 8]);
    const a = decomposedLayerNorm(false), b = decomposedLayerNorm(false);
    assert.strictEqual(fuseLayerNorms(b), 1);
    assert.deepStrictEqual(b.nodes.map((n) => n.opType), ['LayerNormalization']);
    const run = async (g: Graph): Promise<Float32Array> => {
      const s = await ort.InferenceSession.create(encodeModel(g.toModelProto()));
      return (await s.run({ x }))[g.outputs[0].name].data as Float32Array;
    };
    const [ya, yb] = [await run(a), await run(b)];
    for (let k = 0; k < ya.length; k++) assert.ok(Math.abs(ya[k] - yb[k]) <= 1e-5, `element ${k}: ${ya[k]} vs ${yb[k]}`);
  });
  it('leaves the pattern alone when an intermediate value has another reader', () => {
    assert.strictEqual(fuseLayerNorms(decomposedLayerNorm(true)), 0);
  });
});
