/**
 * LIME recovers the coefficients of a model whose target score is a known linear function of the kept tokens:
 * a test-built ONNX classifier with log p(class 0) = b + Σ_t w[id_t] (tokens hidden by the attention mask or
 * replaced by the pad token, whose weight is 0, drop out of the sum). Logits [c, log(1 − e^c)] make the
 * log-softmax of class 0 exactly c.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { MethodContext } from '../../src/core/methods/method';
import { methodByName } from '../../src/core/methods/registry';
import type { ModelInfo } from '../../src/core/modelRunner';
import type { OcclusionBaseline } from '../../src/core/request';
import { resolveTarget } from '../../src/core/targets';
import type { PromptTokenizer } from '../../src/core/tokenizer';
import { Graph, I } from '../../src/onnx/graph';
import { encodeModel } from '../../src/onnx/onnxProto';
import { DataType } from '../../src/onnx/tensorData';
import { OnnxRunner } from '../../src/runtime/onnxRunner';
import { mulberry32 } from '../../src/core/methods/smoothGrad';

const VOCAB = 40;

function linearClassifier(weights: number[], bias: number): Uint8Array {
  const g = new Graph();
  g.opsets.set('', 17);
  g.inputs.push({ name: 'input_ids', elemType: DataType.INT64, dims: ['batch', 'seq'] });
  g.inputs.push({ name: 'attention_mask', elemType: DataType.INT64, dims: ['batch', 'seq'] });
  const w = g.constF32(weights, [VOCAB]);
  const perToken = g.op('Gather', [w, 'input_ids'], { axis: I(0) });
  const kept = g.op('Mul', [perToken, g.op('Cast', ['attention_mask'], { to: I(DataType.FLOAT) })]);
  const c = g.op('Add', [g.op('ReduceSum', [kept, g.constI64([1])], { keepdims: I(1) }), g.scalarF32(bias)]);
  const other = g.op('Log', [g.op('Sub', [g.scalarF32(1), g.op('Exp', [c])])]);
  g.add('Concat', [c, other], { axis: I(1) }, { outputs: ['logits'] });
  g.outputs.push({ name: 'logits', elemType: DataType.FLOAT, dims: ['batch', 2] });
  return encodeModel(g.toModelProto());
}

describe('LIME on a model with a known linear score', function () {
  const rand = mulberry32(11);
  const weights = Array.from({ length: VOCAB }, (_, v) => (v === 0 ? 0 : Math.round((rand() * 2 - 1) * 100) / 100));
  const prompt = [3, 17, 5, 29, 8, 12, 33, 21, 9, 14];
  const bias = -0.5 - prompt.reduce((s, id) => s + Math.max(0, weights[id]), 0);
  let runner: OnnxRunner;
  before(async function () {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'promptscope-lime-')), 'linear.onnx');
    fs.writeFileSync(file, linearClassifier(weights, bias));
    const info: ModelInfo = { id: 'linear', kind: 'sequence-classifier', architecture: 'test', contextLength: 64, vocabSize: VOCAB, labels: ['yes', 'no'], special: { pad: 0 }, supportsGradients: false };
    runner = await OnnxRunner.create(info, file, 0, {});
  });

  async function context(baseline: OcclusionBaseline, samples: number): Promise<MethodContext> {
    const tokens = prompt.map((id, i) => ({ id, start: i, end: i + 1, special: false }));
    const plan = await resolveTarget({ kind: 'class', label: 'yes' }, prompt, runner, {} as PromptTokenizer);
    return { runner, prompt: tokens, plan, params: { baseline, samples, seed: 5 }, special: { pad: 0 }, words: prompt.map((_, i) => [i]), maxTokensPerBatch: 4096 };
  }

  for (const baseline of ['pad', 'delete', 'attention'] as OcclusionBaseline[]) {
    it(`recovers every coefficient, closer as samples grow (baseline ${baseline})`, async function () {
      const worst: number[] = [];
      for (const samples of [600, 2400]) {
        const ctx = await context(baseline, samples);
        assert.ok(Math.abs(ctx.plan.rows[0].score - (bias + prompt.reduce((s, id) => s + weights[id], 0))) < 1e-5, 'the test model scores as designed');
        const out = await methodByName('lime').run(ctx);
        worst.push(Math.max(...prompt.map((id, i) => Math.abs(out.scores[0][i] - weights[id]))));
        console.log(`      ${samples} samples: max |coefficient − weight| = ${worst[worst.length - 1].toExponential(2)} (weights up to ${Math.max(...prompt.map((id) => Math.abs(weights[id])))}), R² = ${out.fitR2![0].toFixed(6)}`);
        assert.ok(out.fitR2![0] > 0.999);
        assert.equal(out.samples, samples);
        assert.ok(out.samplingError![0].every((e) => e >= 0 && e < 0.01));
      }
      // The only gap is the ridge penalty (α = 1), which shrinks coefficients by about α / (weighted samples).
      assert.ok(worst[0] < 0.025, `coefficients off by ${worst[0]} at 600 samples`);
      assert.ok(worst[1] < 0.006 && worst[1] < worst[0] / 2.5, `coefficients off by ${worst[1]} at 2400 samples`);
    });
  }

  it('is reproducible for a seed and differs for another', async function () {
    const a = await methodByName('lime').run(await context('pad', 40));
    const b = await methodByName('lime').run(await context('pad', 40));
    const ctx = await context('pad', 40);
    ctx.params.seed = 6;
    const c = await methodByName('lime').run(ctx);
    assert.deepEqual(a.scores, b.scores);
    assert.notDeepEqual(a.scores, c.scores);
  });
});
