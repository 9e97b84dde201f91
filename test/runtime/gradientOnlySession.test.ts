/**
 * A load for gradient methods opens one session: the gradient graph answers single-sequence forward passes (the
 * prediction, the target), checked against the forward session of a plain load; a batch opens the forward session.
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

  it('gradient × input runs the gradient graph twice: the prediction, whose rows the target reuses, and the gradient', async function () {
    const g = grad.runner.gradients as unknown as { graphRuns: number };
    const r0 = g.graphRuns;
    const req = { text: 'The old lighthouse keeper walked', methods: ['gradient-x-input'], params: {}, target: { kind: 'next-token' as const }, trust: false };
    const r = await explain(req, grad);
    assert.equal(g.graphRuns - r0, 2);
    // A changed prompt is not answered from the kept rows: its prediction equals the forward session's.
    const ids = grad.tokenizer.encodePrompt('The old lighthouse keeper ran').map((t) => t.id);
    const [a, b] = [await grad.runner.topTokens(ids, 3), await plain.runner.topTokens(ids, 3)];
    assert.equal(g.graphRuns - r0, 3);
    a.forEach((t, i) => assert.ok(Math.abs(t.logProb - b[i].logProb) <= 1e-4, `${t.logProb} vs ${b[i].logProb}`));
    assert.ok(r.runs[0].scores[0].some((v) => v !== 0));
  });

  it('a batch of forward passes opens the forward session, with the same values', async function () {
    const ids = grad.tokenizer.encodePrompt(text).map((t) => t.id);
    const items = [ids, ids.slice(0, -1)].map((s) => ({ inputIds: s, queries: [{ position: s.length - 1, tokenId: ids[1] }] }));
    const a = await grad.runner.score(items);
    assert.equal(runnerOf(grad).forwardSessionOpen, true);
    const b = await plain.runner.score(items);
    a.forEach((row, k) => assert.ok(Math.abs(row[0].logProb - b[k][0].logProb) <= 1e-6, `${row[0].logProb} vs ${b[k][0].logProb}`));
  });
});
