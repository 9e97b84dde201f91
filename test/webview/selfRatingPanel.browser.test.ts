/**
 * The panel's "model's own ratings" section in headless Chromium, on a real occlusion result of the bundled
 * LM: a reply in the rating format (fixed text, parsed by the real parser) gives one row per word with the
 * rating and the word's summed attribution and the rank correlation; the tiny model's own unreadable reply
 * is said to be unreadable, with the reply shown as text.
 */
import { strict as assert } from 'node:assert';
import type { Browser } from 'playwright-core';
import { explain } from '../../src/core/explain';
import type { AttributionResult } from '../../src/core/result';
import { askModelToRate, compareWithResult } from '../../src/core/trust/askModel';
import { parseSelfRatings, selfRatingPrompt, wordsOf } from '../../src/core/trust/selfExplanation';
import { wordScores } from '../../src/core/trust/selfRatingView';
import { loadModel } from '../../src/runtime/loadedModel';
import { buildWebview, cspViolations, launchChromium, openPanel, waitForPosted } from './panelHarness';

const TEXT = 'The capital of France is';

describe('panel self-rating section in Chromium', function () {
  let browser: Browser;
  let result: AttributionResult;

  before(async function () {
    const lm = await loadModel('promptscope-tiny-lm');
    result = await explain({ text: TEXT, methods: ['occlusion'], target: { kind: 'next-token' }, trust: false }, lm);
    await buildWebview();
    browser = await launchChromium();
  });
  after(async () => browser?.close());

  async function show(r: AttributionResult) {
    const p = await openPanel(browser, { width: 700 });
    await p.send({ type: 'snapshot', snapshot: { documentUri: 'file:///work/prompt.md', offset: 0, result: r } });
    await waitForPosted(p.page, 'rendered');
    return p;
  }

  it('shows each word’s rating beside its summed attribution and the rank correlation', async () => {
    const words = wordsOf(TEXT);
    const reply = '(The, 0)\n(capital, 0.5)\n(of, -0.25)\n(France, 1)\n(is, 0.1)\nAnswer: Paris';
    const report = compareWithResult({ prompt: selfRatingPrompt({ text: TEXT, words }), reply, words, parse: parseSelfRatings(reply, words) }, result);
    const p = await show({ ...result, selfRating: report });
    const cells = await p.page.$$eval('#self-rating-table tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    assert.deepEqual(cells.map((c) => c[0]), words);
    assert.deepEqual(cells.map((c) => c[1]), ['+0.00', '+0.50', '−0.25', '+1.00', '+0.10']);
    // The attribution column: token scores summed per word, recomputed here from the result's tokens.
    const occ = result.runs[0].scores[0];
    const byWord = words.map(() => 0);
    for (const t of result.input.tokens.filter((x) => !x.special)) {
      const p = t.start + (TEXT.slice(t.start, t.end).length - TEXT.slice(t.start, t.end).trimStart().length);
      byWord[(TEXT.slice(0, p + 1).match(/\S+/g) ?? []).length - 1] += occ[t.index];
    }
    assert.deepEqual(wordScores(result).map((x) => x.toFixed(6)), byWord.map((x) => x.toFixed(6)));
    const rho = await p.page.textContent('#self-rating-rho');
    assert.ok(rho?.includes(`occlusion: ${(report.vsAttribution!.rho! >= 0 ? '+' : '−') + Math.abs(report.vsAttribution!.rho!).toFixed(2)} over 5 words`), rho ?? '');
    assert.deepEqual(p.problems, []);
    assert.deepEqual(await cspViolations(p.page), []);
  });

  it('says when the model’s own reply cannot be read, and shows the reply as text', async () => {
    const lm = await loadModel('promptscope-tiny-lm');
    const asked = await askModelToRate(lm.runner, lm.tokenizer, TEXT, { maxTokens: 12 });
    assert.equal(asked.parse.ok, false, `the tiny LM does not keep the format: ${JSON.stringify(asked.reply)}`);
    const p = await show({ ...result, selfRating: compareWithResult(asked, result) });
    const says = await p.page.textContent('#self-rating-unreadable');
    assert.ok(says?.startsWith('Its reply could not be read: The reply has no (word, importance) ratings'), says ?? '');
    assert.equal(await p.page.textContent('#self-rating-reply'), asked.reply);
    assert.equal(await p.page.$('#self-rating-table'), null);
    assert.deepEqual(p.problems, []);
  });
});
