// The user's path through a real VS Code (code-server) in Chromium: open a prompt file, select the prompt,
// run Promptscope: Explain Selection from the command palette, see the tints, hover a token, open the
// saliency panel. Every check reads the workbench DOM; screenshots are saved for people to look at.
import assert from 'node:assert/strict';
import path from 'node:path';

const PROMPT = 'The capital of France is';

/** Runs the command palette entry whose label is `label`. */
async function runCommand(page, label) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(`>${label}`);
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first();
  await row.waitFor({ state: 'visible', timeout: 15_000 });
  await page.keyboard.press('Enter');
}

/** Tint elements in the editor: decoration overlays whose background is one of the scale's hues. */
async function tintBoxes(page) {
  return page.evaluate(() => {
    const out = [];
    for (const el of document.querySelectorAll('.monaco-editor .view-overlays div[class*="ced-"], .monaco-editor .view-lines span[class*="ced-"]')) {
      const bg = getComputedStyle(el).backgroundColor;
      const m = bg.match(/rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)/);
      if (!m) continue;
      const [r, g, b, a = '1'] = m.slice(1).map(Number);
      if (a === 0) continue;
      const sign = r === 230 && g === 97 && b === 1 ? 'pos' : r === 33 && g === 102 && b === 172 ? 'neg' : undefined;
      if (!sign) continue;
      const box = el.getBoundingClientRect();
      out.push({ sign, alpha: a, x: box.x, y: box.y, width: box.width, height: box.height });
    }
    return out.sort((p, q) => p.y - q.y || p.x - q.x);
  });
}

export async function runEditorFlow(page, { theme, outDir, log = console.log }) {
  const shot = (name) => path.join(outDir, `e2e-${theme}-${name}.png`);

  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  const fileItem = page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'capital.txt' });
  await fileItem.waitFor({ timeout: 60_000 });
  await fileItem.click();
  const editor = page.locator('.editor-instance .monaco-editor').first();
  await editor.locator('.view-line', { hasText: PROMPT }).waitFor();

  // Select the first line (the prompt) with the keyboard, as a user would.
  await editor.locator('.view-line', { hasText: PROMPT }).click();
  await page.keyboard.press('Home');
  await page.keyboard.press('Shift+End');

  log(`[${theme}] running Promptscope: Explain Selection`);
  await runCommand(page, 'Promptscope: Explain Selection');
  // Tints appear once the model answered (first run includes starting the inference process).
  await page.waitForFunction(
    () => document.querySelectorAll('.monaco-editor .view-overlays div[class*="ced-"]').length > 0,
    undefined,
    { timeout: 120_000 },
  );
  // Move the cursor off the prompt so neither the selection nor word highlights cover the tints.
  await page.keyboard.press('ArrowDown');
  await page.waitForTimeout(300);
  const tints = await tintBoxes(page);
  log(`[${theme}] ${tints.length} tinted tokens: ${tints.map((t) => `${t.sign}:${t.alpha.toFixed(2)}`).join(' ')}`);
  // Scores below half a bucket are not tinted, so not every token of this prompt is coloured.
  assert.ok(tints.length >= 2, `at least 2 tinted tokens (got ${tints.length})`);
  assert.ok(tints.some((t) => t.sign === 'pos') && tints.some((t) => t.sign === 'neg'), 'both raising and lowering tokens are tinted');
  // All tints sit on the prompt's line, inside the text.
  const line = await editor.locator('.view-line', { hasText: PROMPT }).boundingBox();
  const textWidth = await editor.locator('.view-line', { hasText: PROMPT }).evaluate((el) => {
    const r = document.createRange();
    r.selectNodeContents(el);
    return r.getBoundingClientRect().width;
  });
  for (const t of tints) {
    assert.ok(Math.abs(t.y - line.y) < 2, 'tint on the prompt line');
    assert.ok(t.x >= line.x - 1 && t.x + t.width <= line.x + textWidth + 1, 'tint within the prompt text');
  }

  const legend = page.locator('.statusbar-item', { hasText: '“' }).first();
  await legend.waitFor({ timeout: 10_000 });
  const legendText = (await legend.innerText()).trim();
  log(`[${theme}] legend: ${legendText}`);

  // Hover the strongest tinted token and read the tooltip.
  const strongest = [...tints].sort((a, b) => b.alpha - a.alpha)[0];
  await page.mouse.move(strongest.x + strongest.width / 2, strongest.y + strongest.height / 2);
  const hover = page.locator('.monaco-hover:not(.hidden)', { hasText: 'Promptscope' }).first();
  await hover.waitFor({ state: 'visible', timeout: 15_000 });
  const hoverText = (await hover.innerText()).replace(/\u00a0/g, ' ');
  log(`[${theme}] hover: ${hoverText.replace(/\s+/g, ' ').slice(0, 240)}`);
  assert.match(hoverText, /score [+-]?\d/);
  assert.match(hoverText, /rank \d+ of \d+/);
  assert.match(hoverText, /target/);
  assert.equal(await hover.locator('a[href], script, img').count(), 0, 'no links, scripts or images in the hover');
  await page.screenshot({ path: shot('editor') });

  // The saliency panel with its heatmap.
  await page.mouse.move(5, 5);
  await runCommand(page, 'Promptscope: Show Saliency Panel');
  const webview = page.frameLocator('iframe.webview').frameLocator('#active-frame');
  const chips = webview.locator('.heatmap .chip');
  await chips.first().waitFor({ timeout: 30_000 });
  const chipTexts = await chips.allInnerTexts();
  log(`[${theme}] heatmap chips: ${JSON.stringify(chipTexts)}`);
  assert.equal(chipTexts.join('').replace(/\s+/g, ' ').trim(), PROMPT);
  await page.waitForTimeout(500);
  await page.screenshot({ path: shot('panel') });
  return { tints: tints.length, legendText, hoverText, chips: chipTexts.length };
}
