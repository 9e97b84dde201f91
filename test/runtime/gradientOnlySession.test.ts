/**
 * A load for gradient methods opens no forward session: the gradient graph answers single-sequence forward passes
 * (the prediction, the target) and the embedding-input graph batches (trust figures), checked against the forward
 * session of a plain load. Large models hold one of the two at a time (forced here with
 * PROMPTSCOPE_EXCLUSIVE_SESSIONS_MB=0): same scores and trust figures, the gradient graph reopened when needed.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { explain } from '../../src/core/explain';
import { ensureGradients, loadModel, type LoadedModel } from '../../src/runtime/loadedModel';
import type { OnnxRunner } from '../../src/runtime/onnxRunner';

describe('gradient loads answer single forward passes from the gradient graph', function () {
  let grad: LoadedModel;
  let plain: LoadedModel;
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'promptscope-gradonly-'));
  const text = 'The capital of France is';
  const runnerOf = (m: LoadedModel) => m.runner as OnnxRunner;
  before(async function () {
    grad = await loadModel('promptscope-tiny-lm', { purpose: 'gradients' });
    await ensureGradients(grad, cache);
    plain = await loadModel('promptscope-tiny-lm');
    await ensureGradients(plain, cache);
  });
  after(() => fs.rmSync(cache, { recursive: true, force: true }));

  it('top tokens and scores equal the forward session, and no forward session is opened', async function () {
    assert.equal(runnerOf(grad).forwardSessionOpen, false);
    assert.equal(runnerOf(plain).forwardSessionOpen, true);
    const ids = grad.tokenizer.encodePrompt(text).map((t) => t.id);
    const [a, b] = [await grad.runner.topTokens(ids, 5), await plain.runner.topTokens(ids, 5)];
    assert.deepEqual(a.map((t) => t.tokenId), b.map((t) => t.tokenId));
    a.forEach((t, i) => assert.ok(Math.abs(t.logProb - b[i].logProb) <= 1e-4, `${t.logProb} vs ${b[i].logProb}`));
    const item = { inputIds: ids, queries: [{ position: ids.length - 1, tokenId: a[1].tokenId }, { position: 1, tokenId: ids[2] }, { position: ids.length - 1, tokenId: ids[0] }] };
    const [sa] = await grad.runner.score([item]);
    const [sb] = await plain.runner.score([item]);
    sa.forEach((v, i) => {
      assert.ok(Math.abs(v.logProb - sb[i].logProb) <= 1e-4, `logProb ${v.logProb} vs ${sb[i].logProb}`);
      assert.ok(Math.abs(v.logit - sb[i].logit) <= 1e-4, `logit ${v.logit} vs ${sb[i].logit}`);
    });
    const req = { text, methods: ['gradient-x-input'], params: {}, target: { kind: 'next-token' as const }, trust: false };
    const [ra, rb] = [await explain(req, grad), await explain(req, plain)];
    assert.deepEqual(ra.target.rows.map((r) => r.tokenId), rb.target.rows.map((r) => r.tokenId));
    const sc = rb.runs[0].scores[0];
    const top = Math.max(...sc.map(Math.abs));
    ra.runs[0].scores[0].forEach((v, i) => assert.ok(Math.abs(v - sc[i]) <= 1e-5 * top, `token ${i}: ${v} vs ${sc[i]}`));
    assert.equal(runnerOf(grad).forwardSessionOpen, false, 'a gradient × input run needs no forward session');
  });

  it('gradient × input runs the gradient graph once: the prediction\'s run also gives its top token\'s gradient', async function () {
    const g = grad.runner.gradients as unknown as { graphRuns: number; keptServed: number };
    const [r0, k0] = [g.graphRuns, g.keptServed];
    const req = { text: 'The old lighthouse keeper walked', methods: ['gradient-x-input'], params: {}, target: { kind: 'next-token' as const }, trust: false };
    const r = await explain(req, grad);
    assert.equal(g.graphRuns - r0, 1);
    assert.equal(g.keptServed - k0, 1);
    // A changed prompt is not answered from the kept rows: its prediction equals the forward session's.
    const ids = grad.tokenizer.encodePrompt('The old lighthouse keeper ran').map((t) => t.id);
    const [a, b] = [await grad.runner.topTokens(ids, 3), await plain.runner.topTokens(ids, 3)];
    assert.equal(g.graphRuns - r0, 2);
    a.forEach((t, i) => assert.ok(Math.abs(t.logProb - b[i].logProb) <= 1e-4, `${t.logProb} vs ${b[i].logProb}`));
    // The kept gradient is the one a run of its own computes (here after another prompt's forward answer), bit for bit.
    const first = grad.tokenizer.encodePrompt('The old lighthouse keeper walked').map((t) => t.id);
    const item = { inputIds: first, inputsEmbeds: grad.runner.gradients!.embed(first), target: { tokenIds: [r.target.rows[0].tokenId], positions: [first.length - 1], weights: [1] } };
    const [own] = await grad.runner.gradients!.scoreAndGradient([item]);
    assert.equal(g.graphRuns - r0, 3, 'a run of its own');
    const x = item.inputsEmbeds;
    const h = grad.runner.gradients!.hiddenSize;
    const gxi = r.runs[0].scores[0].map((_, i) => { let s = 0; for (let k = i * h; k < (i + 1) * h; k++) s += own.grad[k] * x[k]; return s; });
    assert.deepEqual(r.runs[0].scores[0], gxi);
    assert.ok(r.runs[0].scores[0].some((v) => v !== 0));
    // Another target on the same prompt (not its top token) is not given the kept gradient.
    await grad.runner.topTokens(first, 3);
    const k1 = g.keptServed;
    await grad.runner.gradients!.scoreAndGradient([{ ...item, target: { ...item.target, tokenIds: [ids[0]] } }]);
    assert.equal(g.keptServed, k1);
  });

  it('a batch of forward passes is answered by the embedding-input graph, with the forward session\'s values', async function () {
    const ids = grad.tokenizer.encodePrompt(text).map((t) => t.id);
    // Different lengths (right padding), a hidden token, several rows per item.
    const items = [
      { inputIds: ids, queries: [{ position: ids.length - 1, tokenId: ids[1] }, { position: 2, tokenId: ids[0] }] },
      { inputIds: ids.slice(0, -1), attentionMask: ids.slice(0, -1).map((_, i) => (i === 1 ? 0 : 1)), queries: [{ position: ids.length - 2, tokenId: ids[1] }] },
    ];
    const a = await grad.runner.score(items);
    assert.equal(runnerOf(grad).forwardSessionOpen, false);
    const b = await plain.runner.score(items);
    a.forEach((row, k) => row.forEach((v, q) => {
      assert.ok(Math.abs(v.logProb - b[k][q].logProb) <= 1e-5, `logProb ${v.logProb} vs ${b[k][q].logProb}`);
      assert.ok(Math.abs(v.logit - b[k][q].logit) <= 1e-5, `logit ${v.logit} vs ${b[k][q].logit}`);
    }));
  });

  it('with exclusive sessions, trust figures release the gradient graph and the next gradient run reopens it, with the same numbers', async function () {
    const saved = process.env.PROMPTSCOPE_EXCLUSIVE_SESSIONS_MB;
    process.env.PROMPTSCOPE_EXCLUSIVE_SESSIONS_MB = '0';
    let excl: LoadedModel;
    try {
      excl = await loadModel('promptscope-tiny-lm', { purpose: 'gradients' });
      await ensureGradients(excl, cache);
    } finally {
      if (saved === undefined) delete process.env.PROMPTSCOPE_EXCLUSIVE_SESSIONS_MB;
      else process.env.PROMPTSCOPE_EXCLUSIVE_SESSIONS_MB = saved;
    }
    const backend = excl.runner.gradients as unknown as { gradientSessionOpen: boolean };
    const req = { text, methods: ['gradient-x-input'], params: {}, target: { kind: 'next-token' as const } };
    const [ra, rb] = [await explain(req, excl), await explain(req, plain)];
    assert.equal(backend.gradientSessionOpen, false, 'the trust figures released the gradient graph');
    assert.equal(runnerOf(excl).forwardSessionOpen, false);
    assert.deepEqual(ra.runs[0].scores, rb.runs[0].scores);
    const ta = ra.trust!.methods[0], tb = rb.trust!.methods[0];
    ta.rows.forEach((row, r) => {
      assert.ok(Math.abs(row.aopcComprehensiveness - tb.rows[r].aopcComprehensiveness) <= 1e-5, `${row.aopcComprehensiveness} vs ${tb.rows[r].aopcComprehensiveness}`);
      assert.ok(Math.abs(row.aopcSufficiency - tb.rows[r].aopcSufficiency) <= 1e-5, `${row.aopcSufficiency} vs ${tb.rows[r].aopcSufficiency}`);
    });
    assert.ok(ta.soft && tb.soft && Math.abs(ta.soft.softNC - tb.soft.softNC) <= 1e-6);
    // Another prompt (the same one is answered from the kept rows and gradient, with no run at all).
    const next = { ...req, text: 'The old lighthouse keeper walked', trust: false };
    const again = await explain(next, excl);
    assert.equal(backend.gradientSessionOpen, true, 'the gradient run reopened the gradient graph');
    assert.deepEqual(again.runs[0].scores, (await explain(next, plain)).runs[0].scores);
  });

  it('an explain with a forward method among gradient methods opens the forward session for it (shared prefixes reused), with the plain load\'s scores', async function () {
    const mixed = await loadModel('promptscope-tiny-lm', { purpose: 'gradients' });
    await ensureGradients(mixed, cache);
    const req = { text: 'The old lighthouse keeper walked along the shore every morning', methods: ['gradient-x-input', 'occlusion'], params: {}, target: { kind: 'next-token' as const }, trust: false };
    const [ra, rb] = [await explain(req, mixed), await explain(req, plain)];
    assert.equal(runnerOf(mixed).forwardSessionOpen, true);
    // The prediction came from the gradient graph and the prefixes from passes of their own: equal within rounding.
    const sb = rb.runs[1].scores[0], top = Math.max(...sb.map(Math.abs));
    ra.runs[1].scores[0].forEach((v, i) => assert.ok(Math.abs(v - sb[i]) <= 1e-5 * top, `token ${i}: ${v} vs ${sb[i]}`));
  });
});
