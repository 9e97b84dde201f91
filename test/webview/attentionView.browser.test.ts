/**
 * The panel's attention view in headless Chromium, on a real attention result of the bundled LM: the layer ×
 * head grid, picking a tile, and the drawn matrix against the result's own probabilities.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { explain } from '../../src/core/explain';
import type { AttributionResult } from '../../src/core/result';
import { ensureAttention, loadModel } from '../../src/runtime/loadedModel';
import { applyTheme, buildWebview, cspViolations, launchChromium, openPanel, OUTPUT, waitForPosted } from './panelHarness';

describe('panel attention view in Chromium', function () {
  let browser: Browser;
  let result: AttributionResult;
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'ps-view-attn-'));

  before(async function () {
    const lm = await loadModel('promptscope-tiny-lm');
    await ensureAttention(lm, cache);
    result = await explain({ text: 'The capital of France is', methods: ['attention', 'atman'], target: { kind: 'generate', tokens: 2 }, trust: false }, lm);
    await buildWebview();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    fs.rmSync(cache, { recursive: true, force: true });
  });

  it('shows a layer × head grid, picks a map on click, and draws the chosen map\'s probabilities', async function () {
    const p = await openPanel(browser);
    await applyTheme(p.page, 'dark');
    await waitForPosted(p.page, 'ready');
    await p.send({ type: 'snapshot', snapshot: { documentUri: 'file:///work/prompt.md', offset: 0, result } });
    await p.page.waitForSelector('#attention-view');
    const d = result.runs[0].attention!;
    const tiles = await p.page.$$('#attention-view .tile');
    assert.equal(tiles.length, d.layers * (d.heads + 1) + 1, 'one tile per head, one head mean per layer, one mean of all');
    assert.equal(await p.page.textContent('#attention-choice'), 'mean over all layers and heads');
    // the stylesheet applies (a broken rule earlier in it would leave the grid a plain inline run)
    assert.equal(await p.page.$eval('.attention-grid', (e) => getComputedStyle(e).display), 'grid');
    await p.page.click('#attention-view .tile[data-layer="2"][data-head="1"]');
    assert.equal(await p.page.textContent('#attention-choice'), 'layer 2, head 1');
    // Each cell's alpha is the probability: read the canvas back and compare with the result.
    const S = d.probs[2][1].length;
    const drawn = await p.page.$eval('.attention-matrix', (c, S) => {
      const canvas = c as HTMLCanvasElement;
      const cell = canvas.width / S; // one pixel per (query, key), scaled up by CSS
      const ctx = canvas.getContext('2d')!;
      const out: number[][] = [];
      for (let q = 0; q < S; q++) {
        out.push([]);
        for (let k = 0; k < S; k++) out[q].push(ctx.getImageData(Math.floor(k * cell + cell / 2), Math.floor(q * cell + cell / 2), 1, 1).data[3] / 255);
      }
      return out;
    }, S);
    for (let q = 0; q < S; q++) for (let k = 0; k < S; k++) assert.ok(Math.abs(drawn[q][k] - d.probs[2][1][q][k]) < 0.01, `cell ${q},${k}: ${drawn[q][k]} vs ${d.probs[2][1][q][k]}`);
    // The position predicting the first target is outlined.
    const mark = await p.page.$eval('.attention-query', (e) => (e as HTMLElement).offsetTop / (e as HTMLElement).offsetHeight);
    assert.equal(mark, d.rowQueries[0]);
    await p.page.screenshot({ path: path.join(OUTPUT, 'panel-attention-dark.png'), fullPage: true });
    assert.deepEqual(p.problems, []);
    assert.deepEqual(await cspViolations(p.page), []);
    await p.page.close();
  });
});
