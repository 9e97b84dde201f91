/**
 * Gradient graphs must not make onnxruntime materialise transformed copies of the weights: a Transpose (or any
 * other op) whose input is a weight matrix would be constant-folded into a second copy of it in the session.
 * The backward pass multiplies by weights through Gemm(transB) or FusedMatMul(transB) instead. (A Transpose the model itself has, such
 * as a tied LM head's, stays: it is the forward computation.)
 */
import * as assert from 'node:assert/strict';
import { buildGradientModel } from '../../src/onnx/gradientModel';
import { loadModel } from '../../src/onnx/modelFile';
import { decodeModel } from '../../src/onnx/onnxProto';
import { bundled } from './fixtures';

describe('gradient graphs keep the weights as they are', () => {
  for (const [name, kind] of [['promptscope-tiny-lm', 'causal-lm'], ['promptscope-tiny-sentiment', 'sequence-classifier']] as const) {
    it(`${name}: the backward pass transposes no weight matrix, and every weight matrix feeds a Gemm(transB) or FusedMatMul(transB) in the backward pass`, function () {
      const b = bundled(name);
      if (!b) this.skip();
      const model = loadModel(b!.onnx);
      const own = new Set((model.graph?.node ?? []).filter((n) => n.op_type === 'Transpose').map((n) => n.input![0]));
      const graph = decodeModel(buildGradientModel(model, { kind, classScore: 'logit' }).bytes).graph!;
      const matrices = new Set((graph.initializer ?? []).filter((t) => (t.dims ?? []).length === 2 && Number(t.dims![0]) > 1 && Number(t.dims![1]) > 1).map((t) => t.name!));
      assert.ok(matrices.size > 4, `the model has weight matrices (${matrices.size})`);
      const nodes = graph.node ?? [];
      const transposed = nodes.filter((n) => n.op_type === 'Transpose' && matrices.has(n.input![0]) && !own.has(n.input![0]));
      assert.deepEqual(transposed.map((n) => n.input![0]), [], 'weights transposed by the backward pass');
      const gemmTransB = new Set(nodes.filter((n) => (n.op_type === 'Gemm' || n.op_type === 'FusedMatMul') && (n.attribute ?? []).some((a) => a.name === 'transB' && Number(a.i) === 1)).map((n) => n.input![1]));
      const viaMatMul = new Set(nodes.filter((n) => n.op_type === 'MatMul').map((n) => n.input![1]).filter((x) => matrices.has(x!)));
      for (const w of viaMatMul) assert.ok(gemmTransB.has(w!), `${w} multiplies forward by MatMul but has no Gemm(transB) or FusedMatMul(transB) backward`);
      assert.ok(viaMatMul.size > 0, 'some weight matrices are MatMul right operands');
    });
  }
});
