/**
 * The row-wise LM-head rewrite (src/onnx/lmHeadRows.ts) through both of its callers: the forward scoring
 * variant (logitRows.ts, GatherND rows) on the bundled LM, the real exports and small graphs with every tail
 * shape it accepts, compared with the full model's logits at the same rows; and the refusals that keep it
 * correct (a constant that varies along the sequence axis, an intermediate value read elsewhere).
 */
import * as assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { Graph, I } from '../../src/onnx/graph';
import { findRowWiseHead, headOnSelectedRows } from '../../src/onnx/lmHeadRows';
import { LOGIT_ROWS_INPUT, ROW_LOGITS_OUTPUT, selectLogitRows } from '../../src/onnx/logitRows';
import { loadModel } from '../../src/onnx/modelFile';
import { encodeModel, type ModelProto } from '../../src/onnx/onnxProto';
import { DataType } from '../../src/onnx/tensorData';
import { assertLogitsClose } from '../models/logitTolerance';
import { rng } from './fdHarness';
import { bundled, realExport } from './fixtures';
import { decoderFeeds } from './unfuseHarness';

const halfToFloat = (h: number): number => {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  return e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
};
const floats = (t: ort.Tensor): Float32Array => (t.type === 'float16' ? Float32Array.from(t.data as Uint16Array, halfToFloat) : (t.data as Float32Array));

/** row_logits of the variant at `rows` against the full model's logits at the same positions. */
async function compareRows(model: ModelProto, feeds: Record<string, ort.Tensor>, rows: number[], relTol?: number): Promise<void> {
  const variant = selectLogitRows(model);
  assert.ok(variant, 'the head is found');
  const full = await ort.InferenceSession.create(encodeModel(model));
  const part = await ort.InferenceSession.create(encodeModel(variant));
  const logits = (await full.run(feeds, ['logits'])).logits;
  const picked = (await part.run({ ...feeds, [LOGIT_ROWS_INPUT]: new ort.Tensor('int64', BigInt64Array.from(rows.map(BigInt)), [1, rows.length]) }, [ROW_LOGITS_OUTPUT]))[ROW_LOGITS_OUTPUT];
  const V = logits.dims[2];
  assert.deepEqual(picked.dims, [1, rows.length, V]);
  const a = floats(logits), b = floats(picked);
  rows.forEach((r, j) => {
    const got = b.subarray(j * V, (j + 1) * V), want = a.subarray(r * V, (r + 1) * V);
    if (relTol === undefined) assertLogitsClose(got, want, `row ${r}`);
    else {
      const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 1);
      got.forEach((v, k) => assert.ok(Math.abs(v - want[k]) <= relTol * scale, `row ${r}, logit ${k}: ${v} vs ${want[k]}`));
    }
  });
}

/** x [1, 4, 6] → tail → logits [1, 4, 5]. */
function tinyHead(tail: (g: Graph, x: string, w: string) => string): ModelProto {
  const rand = rng(5);
  const g = new Graph();
  g.opsets.set('', 17);
  g.inputs.push({ name: 'x', elemType: DataType.FLOAT, dims: [1, 4, 6] });
  const w = g.constF32(Array.from({ length: 30 }, () => rand() - 0.5), [6, 5]);
  g.add('Identity', [tail(g, 'x', w)], {}, { outputs: ['logits'] });
  g.outputs = [{ name: 'logits', elemType: DataType.FLOAT, dims: [1, 4, 5] }];
  return g.toModelProto();
}
const xFeed = (): Record<string, ort.Tensor> => {
  const rand = rng(9);
  return { x: new ort.Tensor('float32', Float32Array.from({ length: 24 }, () => rand() * 2 - 1), [1, 4, 6]) };
};

describe('LM head on selected rows', function () {
  this.timeout(120000);

  it('bundled promptscope-tiny-lm: row logits equal the full logits at those rows', async function () {
    const b = bundled('promptscope-tiny-lm');
    if (!b) return this.skip();
    const model = loadModel(b.onnx);
    await compareRows(model, decoderFeeds(Graph.fromModelProto(model), [271, 305, 279, 1129, 264, 42, 7], 0), [6, 2, 0]);
  });

  it('real export genai-tiny-random-gpt2-fused (opset 11): no variant, since GatherND has no batch_dims before opset 12', function () {
    const p = realExport('genai-tiny-random-gpt2-fused/past.onnx');
    if (!p) return this.skip();
    const model = loadModel(p);
    assert.ok((model.opset_import ?? []).some((o) => (o.domain ?? '') === '' && Number(o.version) < 12));
    assert.equal(selectLogitRows(model), undefined);
  });

  for (const [rel, ids, tol] of [
    // fp16 logits: both sides round to 11 significant bits, through different kernels for [S, H] and [T, H].
    ['genai-tiny-random-llama-fp16/model.onnx', [1, 500, 31999, 7, 12000, 3], 2e-3],
  ] as const) {
    it(`real export ${rel}: row logits equal the full logits`, async function () {
      const p = realExport(rel);
      if (!p) return this.skip();
      const model = loadModel(p);
      await compareRows(model, decoderFeeds(Graph.fromModelProto(model), [...ids], 0), [ids.length - 1, 1], tol);
    });
  }

  const tails: [string, (g: Graph, x: string, w: string) => string][] = [
    ['flattening Reshapes around the MatMul', (g, x, w) => g.op('Reshape', [g.op('MatMul', [g.op('Reshape', [x, g.constI64([4, 6])]), w]), g.constI64([1, 4, 5])])],
    ['bias, constant-first scale, Sub and Div', (g, x, w) => g.op('Div', [g.op('Sub', [g.op('Mul', [g.scalarF32(0.5), g.op('Add', [g.op('MatMul', [x, w]), g.constF32([0.1, 0.2, 0.3, 0.4, 0.5], [5])])]), g.constF32([1, 0, 1, 0, 1], [1, 1, 5])]), g.scalarF32(2)])],
    ['a tied head stored as Transpose, then Cast and Identity', (g, x, w) => g.op('Identity', [g.op('Cast', [g.op('MatMul', [x, g.op('Transpose', [g.op('Transpose', [w])])])], { to: I(DataType.FLOAT) })])],
  ];
  for (const [what, tail] of tails) {
    it(`accepts ${what}`, async () => {
      await compareRows(tinyHead(tail), xFeed(), [3, 0]);
    });
  }

  it('the gradient caller gets the same tail on its own row selection', () => {
    const g = Graph.fromModelProto(tinyHead(tails[1][1]));
    const before = g.nodes.length;
    let selected = '';
    const out = headOnSelectedRows(g, 'logits', (h) => (selected = g.op('Identity', [h])));
    assert.ok(out && selected);
    // One selection node plus the replayed MatMul, Add, Mul, Sub, Div and the final Identity.
    assert.equal(g.nodes.length - before, 7);
  });

  it('refuses a constant that varies along the sequence axis, and an intermediate value read elsewhere', () => {
    const seqConst = tinyHead((g, x, w) => g.op('Add', [g.op('MatMul', [x, w]), g.constF32(Array.from({ length: 20 }, (_, i) => i), [4, 5])]));
    assert.equal(findRowWiseHead(Graph.fromModelProto(seqConst), 'logits')?.steps.length, undefined);
    assert.equal(selectLogitRows(seqConst), undefined);
    const g = Graph.fromModelProto(tinyHead((gr, x, w) => gr.op('Add', [gr.op('MatMul', [x, w]), gr.constF32([1, 2, 3, 4, 5], [5])])));
    const mm = g.nodes.find((n) => n.opType === 'MatMul')!.outputs[0];
    g.outputs.push({ name: mm, elemType: DataType.FLOAT, dims: undefined });
    assert.equal(findRowWiseHead(g, 'logits'), undefined);
  });
});
