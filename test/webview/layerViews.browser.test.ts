/**
 * The panel's layer sweep and logit lens in headless Chromium, on real results of the bundled LM: the layer ×
 * token grid carries the result's own scores at every depth, the "Sweep layers" and "Show logit lens" offers
 * post the re-runs that produce them, and the lens table lists the target's probability after every block.
 */
import { strict as assert } from 'node:assert';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { explain } from '../../src/core/explain';
import type { AttributionResult } from '../../src/core/result';
import { ensureGradients, ensureLogitLens, loadModel } from '../../src/runtime/loadedModel';
import { buildWebview, cspViolations, launchChromium, openPanel, waitForPosted } from './panelHarness';

describe('panel layer sweep and logit lens in Chromium', function () {
  let browser: Browser;
  let swept: AttributionResult, plain: AttributionResult;

  before(async function () {
    const lm = await loadModel('promptscope-tiny-lm');
    await ensureGradients(lm, path.join(os.tmpdir(), 'promptscope-test-cache'));
    await ensureLogitLens(lm);
    swept = await explain({ text: 'The capital of France is', methods: ['layer-gradient-x-activation'], target: { kind: 'next-token' }, trust: false, logitLens: true, params: { layer: 2 } }, lm);
    plain = await explain({ text: 'The capital of France is', methods: ['gradient-x-input'], target: { kind: 'next-token' }, trust: false }, lm);
    await buildWebview();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  it('draws every depth of the sweep with the result’s own scores and a table of the lens', async () => {
    const p = await openPanel(browser);
    await waitForPosted(p.page, 'ready');
    await p.send({ type: 'snapshot', snapshot: { documentUri: 'file:///work/prompt.md', offset: 0, result: swept } });
    await p.page.waitForSelector('#layer-sweep');
    const sweep = swept.runs[0].layerSweep!;
    const labels = await p.page.$$eval('#layer-sweep .row-label', (els) => els.map((e) => e.textContent));
    assert.deepEqual(labels, ['embeddings', 'block 0', 'block 1', 'block 2', 'block 3']);
    assert.equal(await p.page.textContent('#layer-sweep .row-label.selected'), 'block 2', '--layer 2 is highlighted');
    const cells = await p.page.$$eval('#layer-sweep .cell', (els) => els.map((e) => [Number((e as HTMLElement).dataset.stream), Number((e as HTMLElement).dataset.score)]));
    const n = swept.input.tokens.length;
    assert.equal(cells.length, sweep.streams.length * n);
    cells.forEach(([s, v], k) => {
      assert.equal(s, sweep.streams[Math.floor(k / n)]);
      assert.equal(v, sweep.scores[0][Math.floor(k / n)][k % n]);
    });
    const lens = swept.logitLens!.rows[0];
    const rows = await p.page.$$eval('#logit-lens tbody tr', (els) => els.map((e) => [Number((e as HTMLElement).dataset.layer), Number((e as HTMLElement).dataset.probability)]));
    assert.deepEqual(rows, lens.layers.map((l) => [l.layer, l.probability]));
    // After the last block the lens is the model's own prediction.
    assert.ok(Math.abs(rows[rows.length - 1][1] - swept.target.rows[0].probability) < 1e-6);
    assert.deepEqual(await cspViolations(p.page), []);
    assert.deepEqual(p.problems, []);
  });

  it('offers the sweep and the lens on a result without them, as re-runs', async () => {
    const p = await openPanel(browser);
    await waitForPosted(p.page, 'ready');
    await p.send({ type: 'snapshot', snapshot: { documentUri: 'file:///work/prompt.md', offset: 0, result: plain } });
    await p.page.waitForSelector('#sweep-layers');
    await p.page.click('#sweep-layers');
    await p.page.click('#show-logit-lens');
    const posted = (await p.posted()).filter((m) => m.type === 'rerun');
    assert.deepEqual(posted, [{ type: 'rerun', change: { method: 'layer-gradient-x-activation' } }, { type: 'rerun', change: { logitLens: true } }]);
  });
});
