// Compare runs in the real editor: explain the prompt, edit it, explain again, pick the earlier run in the
// panel's "Compare with…" and read the comparison: the prediction's move and the edited prompt's tokens
// (the inserted word marked as inserted, every other token kept). Screenshot: e2e-{theme}-compare.png.
import assert from 'node:assert/strict';
import path from 'node:path';
import { runCommand } from './editorFlow.mjs';
import { openFile, reloadWindow } from './rtlFlow.mjs';

const panelFrame = (page) => page.frameLocator('iframe.webview').frameLocator('#active-frame');
// A prompt of its own: earlier flows explain the first line of capital.txt.
const PROMPT = 'Translate to French: cheese =>';
const EDITED = 'Translate to French: the cheese =>';

/**
 * Tints come while the model runs (partial results); a run is kept for comparisons once it has finished.
 * Waits for tints on this line (not an earlier flow's), then for the status bar legend of a final result.
 */
async function waitFinal(page, text, before) {
  // The editor re-renders its lines as decorations arrive: retry until the line has a box again.
  let box = null;
  for (let i = 0; i < 50 && !box; i++) {
    box = await page.locator('.editor-instance .monaco-editor .view-line', { hasText: text }).first().boundingBox().catch(() => null);
    if (!box) await page.waitForTimeout(200);
  }
  assert.ok(box, `the line ${JSON.stringify(text)} is on screen`);
  await page.waitForFunction(
    (y) => [...document.querySelectorAll('.monaco-editor .view-overlays div[class*="ced-"]')].some((e) => Math.abs(e.getBoundingClientRect().y - y) < 2),
    box.y,
    { timeout: 120_000 },
  );
  // The legend of the file's previous result stays until the first partial one arrives: wait for another.
  await page.waitForFunction(
    (prev) => [...document.querySelectorAll('.statusbar-item')].some((e) => e.textContent.includes('“') && !/partial/.test(e.textContent) && e.textContent !== prev),
    before,
    { timeout: 120_000 },
  );
}

/** The status-bar legend now (the result shown before a new run), or null. */
async function legendText(page) {
  return page.evaluate(() => [...document.querySelectorAll('.statusbar-item')].find((e) => e.textContent.includes('“'))?.textContent ?? null);
}

async function explainLine(page, text) {
  const line = page.locator('.editor-instance .monaco-editor .view-line', { hasText: text }).first();
  await line.click();
  await page.keyboard.press('Home');
  await page.keyboard.press('Shift+End');
  await page.keyboard.press('Control+Alt+E'); // Explain Selection's key binding
}

export async function runCompareFlow(page, { theme, outDir, reload = false, log = console.log }) {
  const panel = panelFrame(page);
  await openFile(page, 'capital.txt');
  let before = await legendText(page);
  await explainLine(page, PROMPT);
  await waitFinal(page, PROMPT, before);

  // Edit the prompt as a user would: replace the selected line by typing, then explain it again.
  const line = page.locator('.editor-instance .monaco-editor .view-line', { hasText: PROMPT }).first();
  await line.click();
  await page.keyboard.press('Home');
  await page.keyboard.press('Shift+End');
  await page.keyboard.type(EDITED);
  before = await legendText(page);
  await explainLine(page, EDITED);
  await waitFinal(page, EDITED, before);

  // The panel follows the new run and offers the earlier one.
  await runCommand(page, 'Promptscope: Show Saliency Panel');
  const pick = panel.locator('#compare-with');
  await pick.waitFor({ timeout: 120_000 });
  // Every new snapshot re-renders the panel (closing an open list): pick once the final result is shown.
  await panel.locator('#partial-note').waitFor({ state: 'detached', timeout: 120_000 });
  await page.waitForTimeout(500);
  await pick.click();
  const earlier = panel.locator('#compare-with vscode-option').nth(1);
  const label = await earlier.innerText();
  log(`[${theme}] compare with: ${label}`);
  assert.match(label, /occlusion/);
  await earlier.click();
  const tokens = panel.locator('#compare-tokens .chip');
  await tokens.first().waitFor({ timeout: 30_000 });

  const prediction = (await panel.locator('#compare-prediction').innerText()).replace(/\s+/g, ' ');
  const counts = await panel.locator('#compare-counts').innerText();
  log(`[${theme}] ${prediction} · ${counts}`);
  assert.match(prediction, /^".*" \d+(\.\d+)?% → (\d+(\.\d+)?%|not among)/);
  const kinds = await tokens.evaluateAll((els) => els.map((e) => [e.dataset.kind, e.textContent]));
  const inserted = kinds.filter(([k]) => k === 'inserted').map(([, t]) => t).join('');
  assert.equal(inserted.trim(), 'the', `the inserted word: ${JSON.stringify(kinds)}`);
  assert.equal(kinds.filter(([k]) => k === 'deleted').length, 0, 'nothing deleted');
  assert.equal(kinds.map(([, t]) => t).join(''), EDITED, 'the chips spell the edited prompt');
  // Kept chips are tinted by their change; the inserted one is outlined instead.
  const styles = await tokens.evaluateAll((els) => els.map((e) => [e.dataset.kind, getComputedStyle(e).backgroundColor, getComputedStyle(e).outlineStyle]));
  assert.ok(styles.some(([k, bg]) => k === 'kept' && !/rgba\(0, 0, 0, 0\)|transparent/.test(bg)), `a kept chip is tinted: ${JSON.stringify(styles)}`);
  assert.ok(styles.some(([k, , outline]) => k === 'inserted' && outline === 'dashed'), 'the inserted chip is outlined');
  await panel.locator('#compare-section').scrollIntoViewIfNeeded();
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(outDir, `e2e-${theme}-compare.png`) });

  // A chip of the current prompt reveals its text in the editor: the inserted " the" (4 characters).
  await panel.locator('#compare-tokens .chip[data-kind="inserted"]').click();
  await page.locator('.statusbar-item', { hasText: '(4 selected)' }).first().waitFor({ timeout: 15_000 });

  if (reload) {
    // The runs are kept across a window reload: the restored panel still offers the earlier run.
    await reloadWindow(page);
    const restored = panelFrame(page);
    await restored.locator('.heatmap .chip').first().waitFor({ timeout: 60_000 });
    const again = restored.locator('#compare-with vscode-option').nth(1);
    await again.waitFor({ state: 'attached', timeout: 30_000 });
    assert.equal(await again.innerText(), label, 'the earlier run is offered after the reload');
    log(`[${theme}] after a reload, compare with: ${label}`);
  }

  // Leave the sample as it was for whatever runs next.
  await openFile(page, 'capital.txt');
  await page.keyboard.press('Control+Z');
}
