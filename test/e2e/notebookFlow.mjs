// A notebook in the real editor: samples/prompts.ipynb, the cursor in the code cell's string literal (which
// holds a \n escape), Explain Line or Paragraph at Cursor. The tints must sit on the cell's editor inside the
// quotes, and a hover on one must name its token. Screenshot: e2e-{theme}-notebook.png.
import assert from 'node:assert/strict';
import path from 'node:path';
import { runCommand } from './editorFlow.mjs';
import { openFile } from './rtlFlow.mjs';

export async function runNotebookFlow(page, { theme, outDir, log = console.log }) {
  await openFile(page, 'prompts.ipynb');
  const cellLine = page.locator('.notebook-editor .cell-editor-container .view-line', { hasText: 'system =' }).first();
  await cellLine.waitFor({ timeout: 60_000 });
  await cellLine.click();
  // Into the literal: the line ends with `… France is"`, so four characters back from the end is inside it.
  await page.keyboard.press('End');
  for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowLeft');
  await runCommand(page, 'Promptscope: Explain Line or Paragraph at Cursor');
  const tintSel = '.notebook-editor .cell-editor-container .view-overlays div[class*="ced-"]';
  await page.waitForFunction((sel) => document.querySelectorAll(sel).length > 0, tintSel, { timeout: 120_000 });
  await page.keyboard.press('ArrowDown'); // the cursor off the line, so that its highlight hides no tint
  await page.waitForTimeout(300);

  // Every tint lies on the cell's first line, between the quotes of the literal.
  const line = await cellLine.boundingBox();
  const text = await cellLine.innerText();
  const quote = await cellLine.evaluate((el) => {
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    const boxes = [];
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      for (let i = 0; i < n.data.length; i++) {
        if (n.data[i] !== '"') continue;
        const r = document.createRange();
        r.setStart(n, i);
        r.setEnd(n, i + 1);
        boxes.push(r.getBoundingClientRect().x);
      }
    }
    return boxes;
  });
  assert.equal(quote.length, 2, `two quotes on ${JSON.stringify(text)}`);
  const tints = await page.$$eval(tintSel, (els) => els.map((e) => e.getBoundingClientRect()).map((r) => ({ x: r.x, y: r.y, width: r.width })));
  log(`[${theme}] notebook: ${tints.length} tints on ${JSON.stringify(text.replace(/\u00a0/g, ' '))}`);
  assert.ok(tints.length >= 2, 'tints on the cell');
  for (const t of tints) {
    assert.ok(Math.abs(t.y - line.y) < 2, 'tint on the literal’s line');
    assert.ok(t.x >= quote[0] && t.x + t.width <= quote[1] + 1, `tint between the quotes (${t.x}–${t.x + t.width} vs ${quote})`);
  }
  // Hover a tint the cell editor shows (a narrow cell scrolls the line sideways).
  const frame = await page.locator('.notebook-editor .cell-editor-container', { hasText: 'system =' }).first().boundingBox();
  const shown = tints.find((t) => t.x > frame.x + 4 && t.x + t.width < frame.x + frame.width - 4);
  assert.ok(shown, 'a tint in view');
  await page.mouse.move(shown.x + shown.width / 2, line.y + line.height / 2);
  const hover = page.locator('.monaco-hover:not(.hidden)', { hasText: 'Promptscope' }).first();
  await hover.waitFor({ state: 'visible', timeout: 15_000 });
  await page.waitForTimeout(500);
  const hoverText = (await hover.innerText()).replace(/\u00a0/g, ' ');
  log(`[${theme}] notebook hover: ${hoverText.replace(/\s+/g, ' ').slice(0, 160)}`);
  assert.match(hoverText, /score [+\-−]?\d/);
  await page.screenshot({ path: path.join(outDir, `e2e-${theme}-notebook.png`) });
  await page.mouse.move(5, 5);
}
