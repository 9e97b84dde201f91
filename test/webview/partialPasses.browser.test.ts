/**
 * The panel counts an occlusion run's passes as the progress notification does ("Explaining · tokens ·
 * 40/120 passes"): the partial note and the diagnostics line name the same occlusion passes, and the
 * forward passes that also computed shared prefixes are told apart from them.
 */
import { strict as assert } from 'node:assert';
import type { Browser } from 'playwright-core';
import type { AttributionResult } from '../../src/core/result';
import { buildWebview, launchChromium, openPanel, waitForPosted } from './panelHarness';
import { sampleResult } from './sampleResult';

function withPasses(occlusions: number, forwardPasses: number, partial?: AttributionResult['partial']): AttributionResult {
  const base = sampleResult();
  const [first, ...rest] = base.runs;
  return { ...base, runs: [{ ...first, diagnostics: { ...first.diagnostics, occlusions, forwardPasses } }, ...rest], ...(partial ? { partial } : {}) };
}

describe('occlusion passes in the panel', function () {
  let browser: Browser;
  before(async function () {
    await buildWebview();
    browser = await launchChromium();
  });
  after(async () => browser?.close());

  async function show(result: AttributionResult): Promise<{ note: string; facts: string }> {
    const p = await openPanel(browser);
    await p.send({ type: 'snapshot', snapshot: { documentUri: 'file:///work/prompt.md', offset: 0, result } });
    await waitForPosted(p.page, 'rendered');
    const note = (await p.page.locator('#partial-note').count()) ? ((await p.page.textContent('#partial-note')) ?? '') : '';
    const facts = (await p.page.textContent('#diagnostics-facts')) ?? '';
    await p.page.close();
    return { note, facts };
  }

  it('a partial run: the note and the diagnostics show the passes the progress line counts', async function () {
    const { note, facts } = await show(withPasses(40, 47, { state: 'running', method: 'occlusion', unit: 'token', passes: 40, totalPasses: 120 }));
    assert.match(note, /tokens · 40\/120 passes/);
    assert.match(facts, /^40 occlusion passes · 47 forward passes with the shared prefixes · /);
  });

  it('a final run: occlusion passes first, then every forward pass', async function () {
    const { note, facts } = await show(withPasses(120, 141));
    assert.equal(note, '');
    assert.match(facts, /^120 occlusion passes · 141 forward passes with the shared prefixes · /);
    const { facts: plain } = await show(withPasses(120, 120));
    assert.match(plain, /^120 occlusion passes · 120 forward passes · /);
  });
});
