/**
 * The logit-lens variant (src/onnx/logitLens.ts) on the bundled LM: after the last block it is the model's own
 * logits, bit for bit; after earlier blocks it equals GPT-2's final LayerNorm and tied head computed here in
 * plain TypeScript from the weights, on the residual stream the graph computes.
 */
import * as assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { Graph } from '../../src/onnx/graph';
import { addLogitLens, logitLensOutput, NoLogitLensError } from '../../src/onnx/logitLens';
import { loadModel } from '../../src/onnx/modelFile';
import { encodeModel } from '../../src/onnx/onnxProto';
import { DataType, tensorToFloat32 } from '../../src/onnx/tensorData';
import { bundled, skipUnless } from './fixtures';
import { decoderFeeds } from './unfuseHarness';

/** GPT-2's ln_f (ε = 1e-5) then the tied head, for one position's hidden state. */
function lensByHand(x: Float32Array, w: Float32Array, b: Float32Array, wte: Float32Array): Float64Array {
  const H = x.length, V = wte.length / H;
  const mean = x.reduce((s, v) => s + v, 0) / H;
  const variance = x.reduce((s, v) => s + (v - mean) ** 2, 0) / H;
  const y = Array.from(x, (v, i) => ((v - mean) / Math.sqrt(variance + 1e-5)) * w[i] + b[i]);
  const out = new Float64Array(V);
  for (let t = 0; t < V; t++) {
    let s = 0;
    for (let i = 0; i < H; i++) s += y[i] * wte[t * H + i];
    out[t] = s;
  }
  return out;
}

describe('logit lens graph', function () {
  it('bundled promptscope-tiny-lm: the last layer is the logits exactly, earlier layers match ln_f and the head by hand', async function () {
    const b = skipUnless(this, bundled('promptscope-tiny-lm'), 'the bundled LM');
    const model = loadModel(b.onnx);
    const g = Graph.fromModelProto(model);
    const ids = [271, 305, 279, 1129, 264, 42, 7];
    const feeds = decoderFeeds(g, ids, 0);
    const lens = addLogitLens(g, 4);
    assert.equal(lens.streams.length, 5);
    // Expose the residual stream too, for the hand computation.
    lens.streams.forEach((s) => g.outputs.push({ name: s, elemType: DataType.FLOAT, dims: undefined }));
    const session = await ort.InferenceSession.create(encodeModel(g.toModelProto()));
    const names = ['logits', ...lens.streams, ...[0, 1, 2, 3, 4].map(logitLensOutput)];
    const out = await session.run(feeds, names);
    const logits = out.logits.data as Float32Array;
    assert.deepEqual(out[logitLensOutput(4)].dims, out.logits.dims);
    const last = out[logitLensOutput(4)].data as Float32Array;
    for (let i = 0; i < logits.length; i++) assert.ok(Object.is(last[i], logits[i]), `logit ${i}: ${last[i]} vs ${logits[i]}`);

    const w = tensorToFloat32(g.initializers.get('transformer.ln_f.weight')!);
    const bias = tensorToFloat32(g.initializers.get('transformer.ln_f.bias')!);
    const wte = tensorToFloat32(g.initializers.get('transformer.wte.weight')!);
    const H = w.length, V = wte.length / H;
    let differs = false;
    for (let l = 0; l <= 4; l++) {
      const x = out[lens.streams[l]].data as Float32Array;
      const got = out[logitLensOutput(l)].data as Float32Array;
      for (const p of [0, 3, ids.length - 1]) {
        const want = lensByHand(x.subarray(p * H, (p + 1) * H), w, bias, wte);
        const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 1);
        for (let t = 0; t < V; t++) assert.ok(Math.abs(got[p * V + t] - want[t]) <= 1e-4 * scale, `layer ${l}, position ${p}, token ${t}: ${got[p * V + t]} vs ${want[t]}`);
        if (l < 4 && Math.abs(got[p * V] - logits[p * V]) > 1e-3) differs = true;
      }
    }
    assert.ok(differs, 'earlier layers predict differently from the last');
  });

  it('refuses a block count that does not fit the residual stream', function () {
    const b = skipUnless(this, bundled('promptscope-tiny-lm'), 'the bundled LM');
    const g = Graph.fromModelProto(loadModel(b.onnx));
    assert.throws(() => addLogitLens(g, 3), (e: unknown) => e instanceof NoLogitLensError && /Found 8 residual additions for 3 blocks/.test(e.message));
  });
});
