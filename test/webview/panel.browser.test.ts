/**
 * The real panel bundle in headless Chromium: handshake, rendering as text, colours, reveal, output rows,
 * controls, exports, validation, state restore, themes. Only acquireVsCodeApi is a stand-in.
 */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { applyTheme, buildWebview, cspViolations, launchChromium, openPanel, OUTPUT, waitForPosted, type PanelPage } from './panelHarness';
import { sampleResult, SAMPLE_PROMPT } from './sampleResult';
import { toSvg } from '../../src/core/exporters/svg';
import { writeFileSync } from 'node:fs';

const snapshotMessage = (createdAt?: string) => ({
  type: 'snapshot',
  snapshot: { documentUri: 'file:///work/prompt.md', offset: 120, result: sampleResult(createdAt) },
});

const chipTexts = (p: PanelPage) => p.page.$$eval('#prompt-section .heatmap .chip', (els) => els.map((e) => e.textContent));
const lastOf = async (p: PanelPage, type: string) => (await p.posted()).filter((m) => m.type === type).at(-1);

async function chooseOption(p: PanelPage, dropdown: string, value: string): Promise<void> {
  await p.page.click(`#${dropdown}`);
  await p.page.click(`#${dropdown} vscode-option[value="${value}"]`);
}

describe('saliency panel in Chromium', function () {
  let browser: Browser;
  const opened: PanelPage[] = [];

  before(async function () {
    await buildWebview();
    browser = await launchChromium();
  });

  after(async function () {
    for (const p of opened) {
      assert.deepEqual(p.problems, [], `${p.page.url()} ${opened.indexOf(p)}: ` + 'no CSP violations, dialogs, remote requests or page errors');
      assert.deepEqual(await cspViolations(p.page), []);
    }
    await browser?.close();
  });

  async function open(opts: Parameters<typeof openPanel>[1] = {}): Promise<PanelPage> {
    const p = await openPanel(browser, opts);
    opened.push(p);
    return p;
  }

  async function openWithResult(opts: Parameters<typeof openPanel>[1] = {}): Promise<PanelPage> {
    const p = await open(opts);
    await p.send(snapshotMessage());
    await waitForPosted(p.page, 'rendered');
    return p;
  }

  it('sends the ready handshake first and shows the empty state', async function () {
    const p = await open();
    const posted = await p.posted();
    assert.deepEqual(posted[0], { type: 'ready' });
    assert.equal(posted.length, 1);
    const empty = await p.page.textContent('#empty-state');
    assert.match(empty ?? '', /Select text and run Promptscope: Explain Selection/);
  });

  it('renders every prompt token as a chip with its exact text, markup included, as text', async function () {
    const p = await openWithResult();
    const result = sampleResult();
    const expected = result.input.tokens.filter((t) => !t.special).map((t) => t.text);
    assert.deepEqual(await chipTexts(p), expected);
    assert.equal(expected.join(''), SAMPLE_PROMPT);
    // The markup tokens became text, not elements.
    assert.equal(await p.page.locator('#content script, #content img').count(), 0);
    assert.ok(expected.includes(' <script>') && expected.some((t) => t.includes('onerror')));
    assert.deepEqual(await lastOf(p, 'rendered'), { type: 'rendered', resultCreatedAt: result.createdAt, tokenCount: result.input.tokens.length });
    // Hover text carries the score.
    const title = await p.page.getAttribute('#prompt-section .chip[data-index="7"]', 'title');
    assert.match(title ?? '', /^" <script>"\nscore [+−]\d/);
  });

  it('shows chat template tokens as template chips around the prompt, outside the editor mapping', async function () {
    const p = await open();
    const result = sampleResult();
    const head = { index: 0, id: 1, start: 0, end: 0, text: '<|user|>\n', special: true, template: true };
    const tail = { index: 0, id: 2, start: 0, end: 0, text: '<|assistant|>', special: true, template: true };
    result.input.tokens = [head, ...result.input.tokens, tail].map((t, index) => ({ ...t, index }));
    for (const run of result.runs) run.scores = run.scores.map((row) => [0.5, ...row, -0.25]);
    await p.send({ type: 'snapshot', snapshot: { documentUri: 'file:///work/prompt.md', offset: 0, result } });
    await waitForPosted(p.page, 'rendered');
    const texts = await chipTexts(p);
    const template = await p.page.$$eval('#prompt-section .heatmap .chip.template', (els) => els.map((e) => ({ text: e.textContent, index: (e as HTMLElement).dataset.index, sign: (e as HTMLElement).dataset.sign, title: e.getAttribute('title') })));
    assert.equal(template.length, 2);
    assert.ok(template[0].text?.startsWith('<|user|>'), String(template[0].text));
    assert.equal(template[1].text, '<|assistant|>');
    assert.deepEqual(template.map((t) => t.index), [undefined, undefined], 'template chips do not map to document text');
    assert.deepEqual(template.map((t) => t.sign), ['pos', 'neg']);
    assert.match(template[0].title ?? '', /^chat template: /);
    // The user's tokens are still the chips between them, in order.
    const userTexts = texts.slice(1, -1);
    assert.deepEqual(userTexts, result.input.tokens.filter((t) => !t.special).map((t) => t.text));
  });

  it('colours positive and negative scores with different hues', async function () {
    const p = await openWithResult();
    const colours = await p.page.$$eval('#prompt-section .chip', (els) =>
      els.map((e) => ({ sign: (e as HTMLElement).dataset.sign, bg: getComputedStyle(e).backgroundColor })),
    );
    const rgb = (s: string) => (s.match(/[\d.]+/g) ?? []).map(Number);
    const pos = colours.filter((c) => c.sign === 'pos').map((c) => rgb(c.bg));
    const neg = colours.filter((c) => c.sign === 'neg').map((c) => rgb(c.bg));
    assert.ok(pos.length > 0 && neg.length > 0, 'the fixture has both signs');
    for (const [r, , b] of pos) assert.ok(r > b, 'positive is warm');
    for (const [r, , b] of neg) assert.ok(b > r, 'negative is cool');
  });

  it('reveals a token in the editor when its chip is clicked', async function () {
    const p = await openWithResult();
    const token = sampleResult().input.tokens[8]; // ' <script>'
    await p.page.click(`#prompt-section .chip[data-start="${token.start}"]`);
    assert.deepEqual(await lastOf(p, 'reveal'), { type: 'reveal', tokenIndex: token.index, start: token.start, end: token.end });
  });

  it('switches the explained row when an output token is clicked', async function () {
    const p = await openWithResult();
    const before = await p.page.$$eval('#prompt-section .chip', (els) => els.map((e) => getComputedStyle(e).backgroundColor));
    assert.equal(await p.page.getAttribute('.out-chip[data-row="0"]', 'aria-pressed'), 'true');
    await p.page.click('.out-chip[data-row="2"]');
    assert.equal(await p.page.getAttribute('.out-chip[data-row="2"]', 'aria-pressed'), 'true');
    assert.equal(await p.page.getAttribute('.out-chip[data-row="0"]', 'aria-pressed'), 'false');
    assert.match((await p.page.textContent('.explaining')) ?? '', /" <b>"/);
    const after = await p.page.$$eval('#prompt-section .chip', (els) => els.map((e) => getComputedStyle(e).backgroundColor));
    assert.notDeepEqual(after, before);
    assert.equal(await p.page.locator('.matrix .cell.selected[data-row="2"]').count(), sampleResult().input.tokens.length - 1);
    // Selecting a matrix row does the same.
    await p.page.click('.matrix .cell[data-row="1"] >> nth=3');
    assert.equal(await p.page.getAttribute('.out-chip[data-row="1"]', 'aria-pressed'), 'true');
  });

  it('asks the host to re-run from the method, granularity and target controls', async function () {
    const p = await openWithResult();
    // A method already in the result only switches the view.
    await chooseOption(p, 'method', 'integrated-gradients');
    await p.page.waitForFunction(() => document.querySelector('.meaning strong')?.textContent === 'integrated-gradients');
    assert.match((await p.page.textContent('#diagnostics-facts')) ?? '', /completeness gap 0\.0120 · .*seed 7|seed 7 · completeness gap 0\.0120/);
    assert.equal(await lastOf(p, 'rerun'), undefined);
    // A method it lacks needs the engine.
    await chooseOption(p, 'method', 'gradient');
    assert.deepEqual(await lastOf(p, 'rerun'), { type: 'rerun', change: { method: 'gradient' } });
    // Granularity re-aggregates at once and tells the host.
    await chooseOption(p, 'granularity', 'line');
    assert.deepEqual(await lastOf(p, 'rerun'), { type: 'rerun', change: { granularity: 'line' } });
    assert.deepEqual(await chipTexts(p), SAMPLE_PROMPT.split(/(?<=\n)/));
    // A forced continuation typed in the target field.
    await chooseOption(p, 'target-kind', 'forced');
    await p.page.fill('#target-text input', ' Le chat');
    await p.page.click('#rerun');
    assert.deepEqual(await lastOf(p, 'rerun'), { type: 'rerun', change: { target: { kind: 'forced', text: ' Le chat' } } });
    // An invalid target is caught in the panel, not sent.
    await chooseOption(p, 'target-kind', 'generate');
    await p.page.fill('#target-text input', 'many');
    const count = (await p.posted()).length;
    await p.page.click('#rerun');
    assert.equal((await p.posted()).length, count);
    assert.match((await p.page.textContent('.control-error')) ?? '', /number of tokens/);
    // The host reports progress and failure.
    // Messages reach the page asynchronously: wait for the status line to change before reading it.
    const statusBecomes = (pattern: RegExp) =>
      p.page.waitForFunction((src) => new RegExp(src).test(document.querySelector('#status')?.textContent ?? ''), pattern.source, { timeout: 5000 });
    await p.send({ type: 'status', state: 'running' });
    await statusBecomes(/Running/);
    assert.match((await p.page.textContent('#status')) ?? '', /Running/);
    await p.send({ type: 'status', state: 'error', message: 'The model could not be loaded: <b>x</b>' });
    await statusBecomes(/could not be loaded/);
    assert.equal(await p.page.textContent('#status'), 'The model could not be loaded: <b>x</b>');
  });

  it('asks the host to export in each format with the current view', async function () {
    const p = await openWithResult();
    await p.page.click('.out-chip[data-row="1"]');
    for (const format of ['json', 'csv', 'html', 'svg']) {
      await p.page.click(`#export-${format}`);
      assert.deepEqual(await lastOf(p, 'export'), { type: 'export', format, view: { row: 1, granularity: 'token' } });
    }
  });

  it('rejects malformed host messages and keeps showing the last good snapshot', async function () {
    const p = await openWithResult();
    const good = await chipTexts(p);
    const bad = sampleResult('2025-07-01T00:00:00.000Z');
    bad.runs[0].scores[1] = bad.runs[0].scores[1].slice(1); // one score short
    const injected = sampleResult('2025-07-02T00:00:00.000Z');
    (injected.input.tokens[3] as unknown as Record<string, unknown>).start = 10_000; // offset outside the text
    const messages: unknown[] = [
      { type: 'snapshot', snapshot: { offset: 0, result: bad } },
      { type: 'snapshot', snapshot: { offset: 0, result: injected } },
      { type: 'snapshot', snapshot: { offset: -1, result: sampleResult() } },
      { type: 'snapshot' },
      { type: 'status', state: 'exploded' },
      { type: 'exec', code: 'alert(1)' },
      'snapshot',
      null,
    ];
    for (const m of messages) await p.send(m);
    await waitForPosted(p.page, 'rejected', messages.length);
    assert.deepEqual(await chipTexts(p), good);
    assert.equal((await p.posted()).filter((m) => m.type === 'rendered').length, 1);
  });

  it('keeps UI state and the snapshot through setState and restores them in a new instance', async function () {
    const p = await openWithResult();
    await p.page.click('.out-chip[data-row="3"]');
    await chooseOption(p, 'method', 'integrated-gradients');
    const state = (await p.state()) as { version: number; view: unknown; snapshot: { result: { createdAt: string } } };
    assert.equal(state.version, 1);
    assert.deepEqual(state.view, { row: 3, method: 'integrated-gradients', granularity: 'token' });
    assert.equal(state.snapshot.result.createdAt, sampleResult().createdAt);

    // A reloaded webview: nothing from the host yet, everything from its state.
    const q = await open({ state });
    assert.deepEqual((await q.posted())[0], { type: 'ready' });
    assert.deepEqual(await chipTexts(q), await chipTexts(p));
    assert.equal(await q.page.getAttribute('.out-chip[data-row="3"]', 'aria-pressed'), 'true');
    assert.equal(await q.page.textContent('.meaning strong'), 'integrated-gradients');
    // An explicit "no result" from the host clears it.
    await q.send({ type: 'snapshot', snapshot: null });
    await q.page.waitForSelector('#empty-state');
    assert.equal(((await q.state()) as { snapshot?: unknown }).snapshot, undefined);
  });

  for (const theme of ['light', 'dark', 'hc'] as const) {
    it(`renders readably in the ${theme} theme (screenshot)`, async function () {
      const p = await openWithResult({ theme, height: 1300 });
      await applyTheme(p.page, theme);
      await p.page.click('.out-chip[data-row="1"]');
      await p.page.screenshot({ path: path.join(OUTPUT, `panel-${theme}.png`), fullPage: true });
    });
  }

  it('exports an SVG that Chromium draws as a heatmap without running any of its text', async function () {
    const svg = toSvg(sampleResult(), { row: 1 });
    writeFileSync(path.join(OUTPUT, 'heatmap.svg'), svg);
    const height = Number(/height="(\d+)"/.exec(svg)?.[1] ?? 400);
    const page = await browser.newPage({ viewport: { width: 800, height } });
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.route('https://svg.promptscope.test/**', (route) => route.fulfill({ status: 200, contentType: 'image/svg+xml', body: svg }));
    await page.goto('https://svg.promptscope.test/heatmap.svg');
    assert.equal(await page.locator('rect').count() > 26, true);
    assert.equal(await page.locator('script, image, foreignObject').count(), 0);
    await page.screenshot({ path: path.join(OUTPUT, 'heatmap-svg.png') }); // fullPage hangs on SVG documents
    assert.deepEqual(dialogs, []);
    await page.close();
  });
});
