/** Every VJP rule against central finite differences (directional derivatives), incl. broadcasting shapes. */
import * as assert from 'node:assert';
import { F, I, Is, AttrValue } from '../../src/onnx/graph';
import { VJP_RULES } from '../../src/onnx/vjpRules';
import { checkOpGradient, InputSpec } from './fdHarness';

const f = (...dims: number[]): InputSpec => ({ dims });
const pos = (...dims: number[]): InputSpec => ({ dims, range: [0.5, 2] });
const k = (...dims: number[]): InputSpec => ({ dims, constant: true });
const i64 = (dims: number[], v: number[]): InputSpec => ({ dims, data: BigInt64Array.from(v.map(BigInt)) });
const bool = (dims: number[], v: number[]): InputSpec => ({ dims, data: Uint8Array.from(v) });

type Case = [string, string, InputSpec[], Record<string, AttrValue>?, { outputs?: number; useOutputs?: number[]; eps?: number; domain?: string }?];

const cases: Case[] = [
  ['Add broadcast trailing', 'Add', [f(2, 3, 4), f(4)]],
  ['Add broadcast middle ones', 'Add', [f(2, 1, 4), f(3, 1)]],
  ['Add same shape', 'Add', [f(2, 3), f(2, 3)]],
  ['Sub broadcast', 'Sub', [f(3, 1), f(1, 4)]],
  ['Mul broadcast', 'Mul', [f(2, 3, 4), f(1, 3, 1)]],
  ['Mul by constant', 'Mul', [f(2, 3), k(3)]],
  ['Div broadcast', 'Div', [f(2, 3, 4), pos(4)]],
  ['Pow constant 2', 'Pow', [f(2, 3), { dims: [], constant: true, data: Float32Array.from([2]) }]],
  ['Pow constant 3', 'Pow', [{ dims: [2, 3], range: [-1, 1] }, { dims: [], constant: true, data: Float32Array.from([3]) }], {}, { eps: 2e-3 }],
  ['Pow both inputs', 'Pow', [pos(2, 3), f(3)]],
  ['Sqrt', 'Sqrt', [pos(3, 4)]],
  ['Erf', 'Erf', [f(3, 4)]],
  ['Tanh', 'Tanh', [f(3, 4)]],
  ['Sigmoid', 'Sigmoid', [f(3, 4)]],
  ['Relu', 'Relu', [f(4, 5)]],
  ['Neg', 'Neg', [f(4)]],
  ['Exp', 'Exp', [f(4)]],
  ['Log', 'Log', [pos(4)]],
  ['Identity', 'Identity', [f(2, 2)]],
  ['Softmax last axis', 'Softmax', [f(2, 3, 5)], { axis: I(-1) }],
  ['Softmax axis 1', 'Softmax', [f(2, 3, 5)], { axis: I(1) }],
  ['LogSoftmax', 'LogSoftmax', [f(2, 6)], { axis: I(-1) }],
  ['ReduceMean keepdims', 'ReduceMean', [f(2, 3, 4)], { axes: Is([-1]), keepdims: I(1) }],
  ['ReduceMean no keepdims', 'ReduceMean', [f(2, 3, 4)], { axes: Is([0, 2]), keepdims: I(0) }],
  ['ReduceMean all', 'ReduceMean', [f(2, 3)], { keepdims: I(0) }],
  ['ReduceSum axes input', 'ReduceSum', [f(2, 3, 4), i64([1], [1])], { keepdims: I(0) }],
  ['ReduceSum all keepdims', 'ReduceSum', [f(2, 3, 4)], { keepdims: I(1) }],
  ['MatMul 3D x 2D', 'MatMul', [f(2, 3, 4), f(4, 5)]],
  ['MatMul batched broadcast', 'MatMul', [f(2, 1, 3, 4), f(3, 4, 2)]],
  ['MatMul attention-like', 'MatMul', [f(2, 2, 3, 4), f(2, 2, 4, 3)]],
  ['MatMul vector x matrix', 'MatMul', [f(4), f(2, 4, 3)]],
  ['MatMul matrix x vector', 'MatMul', [f(2, 3, 4), f(4)]],
  ['FusedMatMul transB, scaled (attention scores)', 'FusedMatMul', [f(2, 2, 3, 4), f(2, 2, 5, 4)], { transB: I(1), alpha: F(0.125) }, { domain: 'com.microsoft' }],
  ['FusedMatMul transA, batch broadcast', 'FusedMatMul', [f(2, 1, 4, 3), f(3, 4, 2)], { transA: I(1), alpha: F(1.5) }, { domain: 'com.microsoft' }],
  ['FusedMatMul both transposed', 'FusedMatMul', [f(2, 4, 3), f(2, 5, 4)], { transA: I(1), transB: I(1) }, { domain: 'com.microsoft' }],
  ['FusedMatMul by a constant matrix', 'FusedMatMul', [f(2, 3, 4), k(5, 4)], { transB: I(1) }, { domain: 'com.microsoft' }],
  ['Gemm plain', 'Gemm', [f(3, 4), f(4, 5), f(5)]],
  ['Gemm transposed + alpha/beta', 'Gemm', [f(4, 3), f(5, 4), f(1, 5)], { transA: I(1), transB: I(1), alpha: F(0.7), beta: F(1.3) }],
  ['Gemm transB constant weights', 'Gemm', [f(3, 4), k(5, 4), k(5)], { transB: I(1) }],
  ['Reshape', 'Reshape', [f(2, 3, 4), i64([3], [0, -1, 2])]],
  ['Transpose', 'Transpose', [f(2, 3, 4)], { perm: Is([2, 0, 1]) }],
  ['Transpose default perm', 'Transpose', [f(2, 3, 4)]],
  ['Unsqueeze', 'Unsqueeze', [f(2, 3), i64([2], [0, -1])]],
  ['Squeeze', 'Squeeze', [f(2, 1, 3), i64([1], [1])]],
  ['Flatten', 'Flatten', [f(2, 3, 4)], { axis: I(2) }],
  ['Concat axis 1', 'Concat', [f(2, 1, 3), f(2, 4, 3), f(2, 2, 3)], { axis: I(1) }],
  ['Concat with constant', 'Concat', [f(2, 3), k(2, 2)], { axis: I(-1) }],
  ['Split three ways, one unused', 'Split', [f(2, 7), i64([3], [2, 4, 1])], { axis: I(1) }, { outputs: 3, useOutputs: [0, 2] }],
  ['Slice with steps', 'Slice', [f(4, 6), i64([2], [1, 5]), i64([2], [4, 0]), i64([2], [0, 1]), i64([2], [1, -2])]],
  ['Slice to end', 'Slice', [f(2, 5, 3), i64([1], [1]), i64([1], [9223372036854775807]), i64([1], [1])]],
  ['Slice from a constant start, unit steps (as a pad)', 'Slice', [f(2, 5, 6), i64([2], [1, 2]), i64([2], [4, 5]), i64([2], [1, -1]), i64([2], [1, 1])]],
  ['Slice from a constant start with an end past the axis (as a pad)', 'Slice', [f(2, 5), i64([1], [3]), i64([1], [9]), i64([1], [1])]],
  // Exports write "to the end" as the largest int64 (a JS number would round it to 2^63, which wraps).
  ['Slice from a negative start to the end (as a pad)', 'Slice', [f(3, 6), i64([1], [-4]), { dims: [1], data: BigInt64Array.from([9223372036854775807n]) }, i64([1], [-1])]],
  ['Slice from a negative start to a 2^31 - 1 end (as a pad)', 'Slice', [f(4, 3), i64([1], [-3]), i64([1], [2147483647]), i64([1], [0])]],
  ['Slice with a negative end (scattered)', 'Slice', [f(3, 6), i64([1], [-4]), i64([1], [-1]), i64([1], [1])]],
  ['Expand', 'Expand', [f(3, 1), i64([3], [2, 3, 4])]],
  ['Tile', 'Tile', [f(2, 3), i64([2], [2, 3])]],
  ['Where broadcast', 'Where', [bool([2, 3], [1, 0, 1, 0, 0, 1]), f(2, 3), f(3)]],
  ['Where with constant', 'Where', [bool([3], [1, 0, 1]), f(2, 3), k(1)]],
  ['Cast float to float', 'Cast', [f(2, 3)], { to: I(1) }],
  ['Trilu lower', 'Trilu', [f(2, 4, 4)], { upper: I(0) }],
  ['Trilu upper k', 'Trilu', [f(4, 5), i64([], [1])], { upper: I(1) }],
  ['Gather scalar index', 'Gather', [f(2, 5, 3), i64([], [2])], { axis: I(1) }],
  ['Gather repeated indices', 'Gather', [f(5, 3), i64([2, 3], [0, 4, 4, 1, 0, 0])], { axis: I(0) }],
  ['GatherElements', 'GatherElements', [f(3, 4), i64([3, 2], [0, 3, 3, 3, 1, 0])], { axis: I(1) }],
  ['Clip', 'Clip', [f(3, 4), { dims: [], constant: true, data: Float32Array.from([-0.5]) }, { dims: [], constant: true, data: Float32Array.from([0.7]) }]],
  ['Max', 'Max', [f(3, 4), f(4)]],
  ['Sum variadic', 'Sum', [f(2, 3), f(3), f(2, 1)]],
  ['LayerNormalization last axis, all inputs', 'LayerNormalization', [f(2, 3, 8), f(8), f(8)], { epsilon: F(1e-5) }],
  ['LayerNormalization over two axes', 'LayerNormalization', [f(2, 3, 4), f(3, 4), k(3, 4)], { axis: I(1), epsilon: F(1e-5) }],
  ['LayerNormalization without bias', 'LayerNormalization', [f(3, 6), k(6)], { epsilon: F(1e-3) }],
  ['SimplifiedLayerNormalization (RMSNorm)', 'SimplifiedLayerNormalization', [f(2, 3, 8), f(8)], { epsilon: F(1e-6), axis: I(-1) }],
];

describe('VJP rules vs central finite differences', function () {
  this.timeout(60000);
  for (const [title, op, inputs, attrs, opts] of cases) {
    it(`${op}: ${title}`, async () => {
      const r = await checkOpGradient(op, inputs, attrs ?? {}, opts ?? {});
      assert.ok(r.maxRelErr < 2e-3, `relative error ${r.maxRelErr.toExponential(2)} (${r.worst})`);
    });
  }

  it('a wrong rule is caught (the harness can fail)', async () => {
    const saved = VJP_RULES.Tanh;
    VJP_RULES.Tanh = (c, n, gy) => [c.mul(gy[0]!, c.f32(1))];
    try {
      const r = await checkOpGradient('Tanh', [f(3, 4)]);
      assert.ok(r.maxRelErr > 1e-2, `expected a large error, got ${r.maxRelErr}`);
    } finally {
      VJP_RULES.Tanh = saved;
    }
  });
});
