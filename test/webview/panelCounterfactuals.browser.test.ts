/** The real panel bundle in headless Chromium lists a result's verified counterfactual edits, as text. */
import { strict as assert } from 'node:assert';
import type { Browser } from 'playwright-core';
import { explain } from '../../src/core/explain';
import { editAction, percent } from '../../src/core/counterfactualText';
import type { AttributionResult } from '../../src/core/result';
import { loadModel } from '../../src/runtime/loadedModel';
import { buildWebview, launchChromium, openPanel, waitForPosted } from './panelHarness';

describe('saliency panel: counterfactual edits', function () {
  let browser: Browser;
  let result: AttributionResult;
  before(async function () {
    await buildWebview();
    browser = await launchChromium();
    result = await explain({ text: 'The <b>capital</b> of France is', methods: ['counterfactuals'], target: { kind: 'next-token' }, trust: false }, await loadModel('promptscope-tiny-lm'));
  });
  after(async () => browser?.close());

  it('lists the edits with their verified outcome, best first; markup in tokens stays text', async function () {
    const p = await openPanel(browser);
    await p.send({ type: 'snapshot', snapshot: { offset: 0, result } });
    await waitForPosted(p.page, 'rendered');
    const items = await p.page.$$eval('#counterfactual-list li', (els) => els.map((e) => e.textContent ?? ''));
    const edits = result.counterfactuals!.edits;
    assert.equal(items.length, Math.min(12, edits.length));
    items.forEach((text, i) => {
      assert.ok(text.startsWith(editAction(edits[i])), `${text} starts with ${editAction(edits[i])}`);
      assert.ok(text.includes(`${JSON.stringify(edits[i].newTop.text)} (${percent(edits[i].newTop.probability)})`), text);
    });
    assert.equal(await p.page.$$eval('#counterfactual-list b', (els) => els.length), 0, 'no element from token text');
    assert.deepEqual(p.problems, []);
  });

  it('rejects a result whose edits point outside the prompt', async function () {
    const p = await openPanel(browser);
    const bad = structuredClone(result);
    bad.counterfactuals!.edits[0].end = 10_000;
    await p.send({ type: 'snapshot', snapshot: { offset: 0, result: bad } });
    await waitForPosted(p.page, 'rejected');
    assert.equal((await p.posted()).filter((m) => m.type === 'rendered').length, 0);
  });
});
