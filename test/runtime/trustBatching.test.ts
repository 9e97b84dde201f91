/**
 * The faithfulness figures do not depend on how their perturbed prompts are grouped into runs: the default runs
 * (prompts ordered by length, several per run, right-padded) against one prompt per run, on the bundled LM loaded
 * for gradients (its forward passes answered by the embedding-input graph, as in the editor and the CLI).
 */
import * as assert from 'node:assert/strict';
import { explain } from '../../src/core/explain';
import { hellinger } from '../../src/core/trust/softMasking';
import type { TrustReport } from '../../src/core/trust/trustReport';
import { ensureGradients, loadModel } from '../../src/runtime/loadedModel';

/** Every number in two reports side by side (timings left out), with its path. */
function numbers(a: unknown, b: unknown, path: string, out: { path: string; a: number; b: number }[]): void {
  if (typeof a === 'number' && typeof b === 'number') out.push({ path, a, b });
  else if (Array.isArray(a) && Array.isArray(b)) {
    assert.equal(a.length, b.length, path);
    a.forEach((x, i) => numbers(x, b[i], `${path}[${i}]`, out));
  } else if (a && typeof a === 'object' && b && typeof b === 'object') {
    for (const k of Object.keys(a)) if (k !== 'elapsedMs') numbers((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`, out);
  } else assert.deepEqual(a, b, path);
}

describe('trust figures and run grouping', function () {
  it('equal one perturbed prompt per run (within 1e-5) for gradient × input on the bundled LM', async () => {
    const lm = await loadModel('promptscope-tiny-lm', { purpose: 'gradients' });
    await ensureGradients(lm);
    const req = { text: 'The old lighthouse keeper walked along the rocky shore every morning', methods: ['gradient-x-input'], target: { kind: 'next-token' as const } };
    const batched = (await explain(req, lm)).trust as TrustReport;
    const single = (await explain({ ...req, maxTokensPerBatch: 1 }, lm)).trust as TrustReport;
    assert.equal(batched.baseline, 'delete');
    assert.ok(batched.methods[0].rows[0].comprehensiveness.some((c) => c !== 0), 'the figures are all zero');
    const pairs: { path: string; a: number; b: number }[] = [];
    numbers(batched, single, 'trust', pairs);
    assert.ok(pairs.length > 50, `only ${pairs.length} numbers compared`);
    // Relative above 1: the vs-random ratios divide by small random AOPCs.
    for (const p of pairs) assert.ok(Math.abs(p.a - p.b) <= 1e-5 * Math.max(1, Math.abs(p.b)), `${p.path}: ${p.a} batched vs ${p.b} alone`);
  });

  it('Hellinger distance equals √(1 − Σ √(p q)) for normalised distributions', () => {
    const logp = (w: number[]): Float32Array => {
      const z = w.reduce((a, b) => a + b, 0);
      return Float32Array.from(w, (x) => Math.log(x / z));
    };
    const p = logp([1, 2, 3, 4, 0.5]), q = logp([4, 1, 0.25, 2, 3]);
    let bc = 0;
    for (let i = 0; i < p.length; i++) bc += Math.sqrt(Math.exp(p[i]) * Math.exp(q[i]));
    assert.ok(Math.abs(hellinger(p, q) - Math.sqrt(1 - bc)) < 1e-6, `${hellinger(p, q)} vs ${Math.sqrt(1 - bc)}`);
    assert.equal(hellinger(p, p), 0);
  });
});
