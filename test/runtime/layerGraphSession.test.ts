/**
 * The layer graph's session by size: small graphs run on the sequential executor with prepacked weights, large ones
 * (from 2000 nodes or 64 MiB of weights, e.g. 135M-parameter decoders) on the parallel executor without prepacking. The large graphs'
 * options are checked on the bundled LM's graph (forced with a size limit of 0) against the small graphs' session,
 * which the layer methods' tests check against central differences. The small graph gives every depth in one
 * concatenated output; a batch checks that each item gets its own slice of it.
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { createGradientBackend } from '../../src/runtime/gradientBackend';
import { createLayerGradientBackend } from '../../src/runtime/layerGradientBackend';

const LM = path.resolve(__dirname, '../../models/promptscope-tiny-lm/onnx/model.onnx');

describe('layer graph session options by graph size', function () {
  this.timeout(60000);

  it('gives the same score and layer gradients on the large graphs’ executor as on the small graphs’', async () => {
    const g = await createGradientBackend(path.dirname(LM), LM, { kind: 'causal-lm' });
    const ids = [5, 17, 42, 9, 88, 23, 61, 7];
    const items = [ids, ids.map((t) => (t * 7 + 3) % 500)].map((x, b) => ({ inputsEmbeds: g.embed(x), inputIds: x, target: { tokenIds: [31 + b], positions: [x.length - 1 - b], weights: [1] } }));
    const streams = [0, 2, 4];
    const smalls = await createLayerGradientBackend(LM, { kind: 'causal-lm', layers: 4 }).scoreAndLayerGradients(items, streams);
    const larges = await createLayerGradientBackend(LM, { kind: 'causal-lm', layers: 4, largeGraph: { nodes: 0, weightBytes: 0 } }).scoreAndLayerGradients(items, streams);
    const [one] = await createLayerGradientBackend(LM, { kind: 'causal-lm', layers: 4 }).scoreAndLayerGradients([items[0]], streams);
    assert.notEqual(smalls[0].score, smalls[1].score);
    for (const [small, large] of [[smalls[0], larges[0]], [smalls[1], larges[1]], [one, larges[0]]]) {
      assert.ok(Math.abs(small.score - large.score) <= 1e-4 * Math.max(1, Math.abs(small.score)), `score ${small.score} vs ${large.score}`);
      for (const [k, s] of streams.entries()) {
        const scale = Math.max(...small.grads[k].map(Math.abs));
        assert.ok(scale > 0, `stream ${s} has a gradient`);
        assert.ok(small.grads[k].length === large.grads[k].length && small.activations[k].length === large.activations[k].length, `stream ${s} sizes`);
        small.grads[k].forEach((x, i) => assert.ok(Math.abs(x - large.grads[k][i]) <= 1e-3 * scale, `stream ${s} value ${i}: ${x} vs ${large.grads[k][i]}`));
        small.activations[k].forEach((x, i) => assert.ok(Math.abs(x - large.activations[k][i]) <= 1e-4 * (1 + Math.abs(x)), `stream ${s} activation ${i}: ${x} vs ${large.activations[k][i]}`));
      }
    }
  });
});
