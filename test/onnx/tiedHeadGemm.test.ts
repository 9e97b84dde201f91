/**
 * The unpacked tied head of the logit-row variant (src/onnx/tiedHeadGemm.ts): on a small tied decoder head the
 * rewritten variant's row logits equal the original graph's full logits at those rows (an independent session of
 * the unrewritten model), the table becomes an overridable input that callers need not feed, and heads that are
 * not tied, or tables below the size threshold, are left as they were.
 */
import * as assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { Graph, I, Is } from '../../src/onnx/graph';
import { LOGIT_ROWS_INPUT, ROW_LOGITS_OUTPUT, selectLogitRows } from '../../src/onnx/logitRows';
import { encodeModel, type ModelProto } from '../../src/onnx/onnxProto';
import { DataType } from '../../src/onnx/tensorData';
import { UNPACKED_HEAD_FROM_BYTES } from '../../src/onnx/tiedHeadGemm';
import { rng } from './fdHarness';

const V = 11, H = 6, S = 5;

/** input_ids [1, S] → Gather(table) → Mul(scale) → Reshape [S, H] → MatMul(Transpose(head)) → Reshape → logits [1, S, V]. */
function decoderHead(tied: boolean): ModelProto {
  const rand = rng(3);
  const g = new Graph();
  g.opsets.set('', 17);
  g.inputs.push({ name: 'input_ids', elemType: DataType.INT64, dims: [1, S] });
  const table = g.constF32(Array.from({ length: V * H }, () => rand() * 2 - 1), [V, H]);
  const head = tied ? table : g.constF32(Array.from({ length: V * H }, () => rand() * 2 - 1), [V, H]);
  const hidden = g.op('Mul', [g.op('Gather', [table, 'input_ids'], { axis: I(0) }), g.constF32(Array.from({ length: H }, () => 0.5 + rand()), [H])]);
  const flat = g.op('Reshape', [hidden, g.constI64([-1, H])]);
  const mm = g.op('MatMul', [flat, g.op('Transpose', [head], { perm: Is([1, 0]) })]);
  g.add('Reshape', [mm, g.constI64([1, S, V])], {}, { outputs: ['logits'] });
  g.outputs = [{ name: 'logits', elemType: DataType.FLOAT, dims: [1, S, V] }];
  return g.toModelProto();
}

const ids = (): Record<string, ort.Tensor> => ({ input_ids: new ort.Tensor('int64', BigInt64Array.from([3n, 0n, 10n, 7n, 3n]), [1, S]) });
const opsOf = (m: ModelProto): string[] => (m.graph?.node ?? []).map((n) => n.op_type ?? '');

describe('unpacked tied LM head of the logit-row variant', function () {
  this.timeout(60000);

  it('a tied head reads the lookup table through Gemm(transB), equal to the full logits at the picked rows', async function () {
    const model = decoderHead(true);
    const variant = selectLogitRows(model, 'logits', { unpackedHeadFromBytes: 0 })!;
    assert.ok(opsOf(variant).includes('Gemm') && !opsOf(variant).includes('Transpose') && !opsOf(variant).includes('MatMul'), opsOf(variant).join(','));
    const table = (variant.graph?.initializer ?? []).find((t) => (t.dims ?? []).map(Number).join() === `${V},${H}`)!.name;
    assert.ok((variant.graph?.input ?? []).some((i) => i.name === table), 'the table is an overridable graph input');
    const full = await ort.InferenceSession.create(encodeModel(model));
    const part = await ort.InferenceSession.create(encodeModel(variant), { logSeverityLevel: 3 });
    assert.deepEqual([...part.inputNames].sort(), ['input_ids', LOGIT_ROWS_INPUT].sort(), 'callers feed only the usual inputs');
    const rows = [4, 1, 1];
    const logits = (await full.run(ids(), ['logits'])).logits.data as Float32Array;
    const picked = (await part.run({ ...ids(), [LOGIT_ROWS_INPUT]: new ort.Tensor('int64', BigInt64Array.from(rows.map(BigInt)), [1, rows.length]) }, [ROW_LOGITS_OUTPUT]))[ROW_LOGITS_OUTPUT];
    assert.deepEqual(picked.dims, [1, rows.length, V]);
    const got = picked.data as Float32Array;
    rows.forEach((r, j) => {
      for (let v = 0; v < V; v++) assert.ok(Math.abs(got[j * V + v] - logits[r * V + v]) <= 1e-5 * (1 + Math.abs(logits[r * V + v])), `row ${r}, logit ${v}: ${got[j * V + v]} vs ${logits[r * V + v]}`);
    });
  });

  it('an untied head, a tied table below the threshold, and callers that do not ask keep MatMul(Transpose)', function () {
    for (const [model, opts] of [[decoderHead(false), { unpackedHeadFromBytes: 0 }], [decoderHead(true), { unpackedHeadFromBytes: UNPACKED_HEAD_FROM_BYTES }], [decoderHead(true), {}]] as const) {
      const variant = selectLogitRows(model, 'logits', opts)!;
      assert.ok(opsOf(variant).includes('Transpose') && opsOf(variant).includes('MatMul') && !opsOf(variant).includes('Gemm'), opsOf(variant).join(','));
      assert.deepEqual((variant.graph?.input ?? []).map((i) => i.name).sort(), ['input_ids', LOGIT_ROWS_INPUT].sort());
    }
  });
});
