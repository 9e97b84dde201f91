/**
 * The panel's faithfulness section in headless Chromium, drawn from a real result of the bundled LM: one
 * deletion curve per method with the random order dashed, the figures of the report, and a malformed
 * report left out without breaking the panel.
 */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { explain } from '../../src/core/explain';
import type { AttributionResult } from '../../src/core/result';
import { ensureGradients, loadModel, type LoadedModel } from '../../src/runtime/loadedModel';
import { addVariation } from '../../src/runtime/seedVariants';
import { buildWebview, cspViolations, launchChromium, openPanel, OUTPUT, waitForPosted } from './panelHarness';

describe('panel faithfulness section in Chromium', function () {
  let browser: Browser;
  let result: AttributionResult;
  let lm: LoadedModel;

  before(async function () {
    lm = await loadModel('promptscope-tiny-lm');
    await ensureGradients(lm);
    result = await explain({ text: 'The capital of France is', methods: ['occlusion', 'gradient-x-input'], target: { kind: 'next-token' } }, lm);
    await buildWebview();
    browser = await launchChromium();
  });
  after(async () => browser?.close());

  async function show(r: unknown) {
    const p = await openPanel(browser, { width: 700 });
    await p.send({ type: 'snapshot', snapshot: { documentUri: 'file:///work/prompt.md', offset: 0, result: r } });
    await waitForPosted(p.page, 'rendered');
    return p;
  }

  it('draws a deletion curve per method over the dashed random curve, with the report figures', async () => {
    const p = await show(result);
    const cards = await p.page.$$eval('#faithfulness .faith-card', (els) => els.map((e) => ({
      method: e.getAttribute('data-method'),
      method_d: e.querySelector('path.method')?.getAttribute('d') ?? '',
      random_d: e.querySelector('path.random')?.getAttribute('d') ?? '',
      dashed: e.querySelector('path.random')?.getAttribute('stroke-dasharray'),
      text: e.textContent ?? '',
    })));
    assert.deepEqual(cards.map((c) => c.method), ['occlusion', 'gradient-x-input']);
    const t = result.trust!;
    for (const [i, c] of cards.entries()) {
      assert.ok(c.dashed, 'random curve is dashed');
      // 11 points: 0 % and the ten fractions; both curves start at the full prompt's score.
      assert.equal(c.method_d.split(/[ML]/).filter(Boolean).length, 11);
      assert.equal(c.random_d.split(/[ML]/).filter(Boolean).length, 11);
      assert.equal(c.method_d.split(' ')[0], c.random_d.split(' ')[0]);
      const r = t.methods[i].rows[0];
      assert.ok(c.text.includes(`compr. ${r.aopcComprehensiveness.toFixed(2).replace('-', '−')}`), c.text);
    }
    const agreement = await p.page.textContent('#faith-agreement');
    assert.match(agreement ?? '', /occlusion ~ gradient-x-input ρ/);
    await p.page.locator('#faithfulness-section').screenshot({ path: path.join(OUTPUT, 'panel-faithfulness.png') });
    assert.deepEqual(p.problems, []);
    assert.deepEqual(await cspViolations(p.page), []);
  });

  it('draws mean ± sd error bars across method seeds, unstable signs dotted', async () => {
    const base = await explain({ text: 'The capital of France is', methods: ['smoothgrad'], target: { kind: 'next-token' }, params: { samples: 4 }, trust: false }, lm);
    const r = await addVariation(base, { kind: 'method-seeds', seeds: [0, 1, 2, 3] }, lm, loadModel);
    const stats = r.variation!.methods[0].rows[0];
    const p = await show(r);
    const bars = await p.page.$$eval('#variation .variation-chart rect.bar', (els) => els.length);
    const whiskers = await p.page.$$eval('#variation .variation-chart line.error-bar', (els) => els.length);
    const visible = r.input.tokens.filter((t) => !t.special).length;
    assert.equal(bars, visible);
    assert.equal(whiskers, visible * 3);
    const dotted = await p.page.$$eval('#variation .variation-label.unstable', (els) => els.length);
    assert.equal(dotted, r.input.tokens.filter((t) => !t.special && !stats.stableSign[t.index]).length);
    const figures = await p.page.textContent('#variation-figures');
    assert.ok(figures?.includes(`SNR ${stats.snr!.toPrecision(3)}`), figures ?? '');
    await p.page.locator('#variation-section').screenshot({ path: path.join(OUTPUT, 'panel-variation.png') });
    assert.deepEqual(p.problems, []);
  });

  it('leaves a malformed report out and still renders the result', async () => {
    const broken = { ...result, trust: { ...result.trust!, methods: [{ method: 'occlusion', rows: [{ deletion: 'x' }] }] } };
    const p = await show(broken);
    assert.equal(await p.page.$('#faithfulness-section'), null);
    assert.ok(await p.page.$('#prompt-section .heatmap .chip'));
    assert.deepEqual(p.problems, []);
  });
});
