/**
 * The panel shows the prompt's own text and one colour scale, on results from the bundled tokenizers:
 * WordPiece keeps its spaces, zero-width byte pieces fold into their character, a lone accent sits on a
 * dotted circle, weak output rows stay pale unless per-row scaling is asked for, an output token click
 * tells the host which row to tint, and the header names the document.
 */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import type { AttributionResult, ResultToken } from '../../src/core/result';
import { TextTokenizer } from '../../src/runtime/textTokenizer';
import { buildWebview, launchChromium, openPanel, OUTPUT, waitForPosted, type PanelPage } from './panelHarness';
import { sampleResult } from './sampleResult';

const MODELS = path.resolve(__dirname, '../../models');

async function resultFor(model: string, text: string, rows = 1): Promise<AttributionResult> {
  const tok = await TextTokenizer.load(path.join(MODELS, model));
  const tokens: ResultToken[] = tok.encodePrompt(text).map((t, index) => ({ index, id: t.id, start: t.start, end: t.end, text: text.slice(t.start, t.end), special: t.special }));
  const base = sampleResult();
  const rowsOut = base.target.rows.slice(0, rows);
  return {
    ...base,
    input: { text, tokens },
    target: { spec: rows > 1 ? { kind: 'generate', tokens: rows } : { kind: 'next-token' }, rows: rowsOut },
    runs: [{ ...base.runs[0], scores: rowsOut.map((_, r) => tokens.map((t, i) => (t.special ? 0 : ((i % 5) - 2 + 0.5) * (r === 0 ? 1 : 1e-3)))) }],
    request: { ...base.request, text },
  };
}

describe('panel text and scale in Chromium', function () {
  let browser: Browser;
  const opened: PanelPage[] = [];
  before(async function () {
    await buildWebview();
    browser = await launchChromium();
  });
  after(async function () {
    for (const p of opened) assert.deepEqual(p.problems, []);
    await browser?.close();
  });

  async function show(result: AttributionResult, documentUri = 'file:///work/samples/review.txt'): Promise<PanelPage> {
    const p = await openPanel(browser, {});
    opened.push(p);
    await p.send({ type: 'snapshot', snapshot: { documentUri, offset: 0, result } });
    await waitForPosted(p.page, 'rendered');
    return p;
  }

  it('WordPiece: the prompt reads as the input text, spaces included', async function () {
    const text = 'An absolute delight from start to finish, truly.';
    const p = await show(await resultFor('promptscope-tiny-sentiment', text));
    const shown = await p.page.$eval('#prompt-section .heatmap', (el) => el.textContent);
    assert.equal(shown, text);
  });

  it('byte-level: emoji pieces form one chip, a lone accent is drawn on a dotted circle', async function () {
    const text = 'Nice 😀 \u0301done';
    const result = await resultFor('promptscope-tiny-lm', text);
    const emojiEnd = text.indexOf('😀') + 2;
    const zeroWidth = result.input.tokens.filter((t) => !t.special && t.end === t.start && t.start === emojiEnd);
    assert.ok(zeroWidth.length > 0, 'the tokenizer splits the emoji into byte pieces');
    const p = await show(result);
    const chips = await p.page.$$eval('#prompt-section .heatmap .chip', (els) => els.map((e) => ({ text: e.textContent, title: e.getAttribute('title') })));
    const emoji = chips.filter((c) => c.text?.includes('😀'));
    assert.equal(emoji.length, 1, JSON.stringify(chips));
    assert.match(emoji[0].title ?? '', new RegExp(`${zeroWidth.length + 1} tokens`));
    assert.ok(chips.every((c) => (c.text ?? '').length > 0), 'no empty chips');
    const top = await p.page.$$eval('#top-section .chip', (els) => els.map((e) => e.textContent ?? ''));
    const accent = [...chips.map((c) => c.text ?? ''), ...top].filter((t) => t.includes('\u0301'));
    assert.ok(accent.length > 0 && accent.every((t) => t.includes('\u25cc\u0301')), `accent shown on a dotted circle: ${JSON.stringify(accent)}`);
  });

  it('colours every output row on one scale by default, per row when asked', async function () {
    const result = await resultFor('promptscope-tiny-lm', 'The capital of France is', 2);
    const p = await show(result, 'untitled:Untitled-1');
    const alphas = () =>
      p.page.$$eval('#prompt-section .heatmap .chip', (els) =>
        els.map((e) => Number((getComputedStyle(e).getPropertyValue('--chip-bg').match(/[\d.]+(?=\))/) ?? ['0'])[0])),
      );
    const strongRow0 = Math.max(...(await alphas()));
    await p.page.click('.out-chip[data-row="1"]');
    assert.deepEqual((await p.posted()).filter((m) => m.type === 'selectRow').at(-1), { type: 'selectRow', row: 1 }, 'the host hears which row to tint');
    const weakShared = Math.max(...(await alphas()));
    assert.ok(strongRow0 > 0.5 && weakShared < 0.01, `row 1 (1000× weaker) is pale on the shared scale: ${strongRow0} vs ${weakShared}`);
    await p.page.click('#row-scale');
    const weakOwn = Math.max(...(await alphas()));
    assert.ok(Math.abs(weakOwn - strongRow0) < 0.01, `per-row scale colours row 1 as strongly as row 0: ${weakOwn}`);
    assert.equal(await p.page.textContent('#document-name'), 'Untitled-1');
  });

  it('names the document the result belongs to', async function () {
    const p = await show(await resultFor('promptscope-tiny-lm', 'Hello'), 'file:///work/my%20prompts/capital.txt');
    assert.equal(await p.page.textContent('#document-name'), 'capital.txt');
    assert.equal(await p.page.getAttribute('#document-name', 'title'), 'file:///work/my%20prompts/capital.txt');
  });
});

describe('panel shaping in Chromium', function () {
  let browser: Browser;
  before(async function () {
    await buildWebview();
    browser = await launchChromium();
  });
  after(async function () {
    await browser?.close();
  });

  it('the chips of an Arabic word touch, so the browser shapes the word across them: it is as wide as the word drawn whole', async function () {
    const text = 'عاصمة فرنسا هي';
    const result = await resultFor('promptscope-tiny-lm', text);
    const p = await openPanel(browser, {});
    await p.send({ type: 'snapshot', snapshot: { documentUri: 'file:///w/rtl.txt', offset: 0, result } });
    await waitForPosted(p.page, 'rendered');
    const [split, whole] = await p.page.$eval('#prompt-section .heatmap', (heatmap, word) => {
      const chips = [...heatmap.querySelectorAll('.chip')].filter((c) => word.includes((c.textContent ?? '').trim()) && (c.textContent ?? '').trim());
      const first = chips.filter((c) => (c.textContent ?? '').trim() && word.startsWith((c.textContent ?? '').trim()))[0];
      // The chips from the word's first piece up to its end.
      const run: Element[] = [];
      let text = '';
      for (let c: Element | null = first; c && text.length < word.length; c = c.nextElementSibling) {
        run.push(c);
        text += (c.textContent ?? '').trim();
      }
      const rects = run.map((e) => e.getBoundingClientRect());
      const width = Math.max(...rects.map((x) => x.right)) - Math.min(...rects.map((x) => x.left));
      const ref = document.createElement('span');
      ref.textContent = word;
      heatmap.appendChild(ref);
      const w = ref.getBoundingClientRect().width;
      ref.remove();
      return [{ width, pieces: run.length, text, detail: run.map((e) => [e.textContent, getComputedStyle(e).marginRight, e.getBoundingClientRect().left.toFixed(1), e.getBoundingClientRect().right.toFixed(1)]) }, w] as const;
    }, 'عاصمة');
    await (await p.page.$('#prompt-section .heatmap'))!.screenshot({ path: path.join(OUTPUT, 'panel-rtl-heatmap.png') });
    assert.ok(split.pieces > 1, `the word is split over chips: ${JSON.stringify(split)}`);
    assert.equal(split.text, 'عاصمة');
    assert.ok(Math.abs(split.width - whole) < 1, `split word ${split.width.toFixed(1)} px vs the word ${whole.toFixed(1)} px: ${JSON.stringify(split.detail)}`);
    assert.deepEqual(p.problems, []);
  });
});
