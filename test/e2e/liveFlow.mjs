// Live results in the real editor: a four-paragraph prompt explained with coarse-to-fine; the panel and the
// tints show a partial result while the model runs (the panel says "Partial", the status bar legend too),
// the cancelled one (cancel from the progress notification), then the final one. Screenshots:
// test-output/e2e-{theme}-live-{partial,cancelled,final}.png.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { runCommand } from './editorFlow.mjs';
import { openFile } from './rtlFlow.mjs';

const panelFrame = (page) => page.frameLocator('iframe.webview').frameLocator('#active-frame');
const tintCount = (page) => page.evaluate(() => document.querySelectorAll('.monaco-editor .view-overlays div[class*="ced-"]').length);

/** Four paragraphs, one prompt (~210 tokens): paragraphs, sentences, words and tokens to refine. */
export const LIGHTHOUSE = "The old lighthouse stood on the cliff above the harbour. Its keeper climbed the stairs every evening. He lit the lamp before the sun went down.\n\nOne winter night a storm broke the windows of the tower. The keeper carried a lantern up the stairs. Ships in the bay saw the light and turned away from the rocks.\n\nYears later the town built a new tower with an electric lamp. Nobody had to climb the stairs any more. The old keeper still walked up the hill every evening to watch the ships come home.\n\nIn the morning the fishermen came to thank him. They brought bread, fish and a new pane of glass. The keeper said that the light belongs to the\n";

export async function runLiveFlow(page, { theme, outDir, workspace, log = console.log }) {
  writeFileSync(path.join(workspace, 'lighthouse.md'), LIGHTHOUSE);
  // A slower run than the other flows (coarse-to-fine over a four-token continuation, small batches), so
  // that the partial state stays on screen long enough to be looked at.
  const settingsDir = path.join(workspace, '.vscode');
  mkdirSync(settingsDir, { recursive: true });
  const settingsFile = path.join(settingsDir, 'settings.json');
  writeFileSync(settingsFile, JSON.stringify({ 'promptscope.method': 'coarse-to-fine', 'promptscope.maxTokensPerBatch': 64, 'promptscope.target': 'generate', 'promptscope.generateTokens': 4 }, null, 2));
  try {
    await page.waitForTimeout(1500); // the workbench reads the new workspace settings
    // An earlier flow's notebook would take the clicks that focus the editor area: close what is open.
    await runCommand(page, 'View: Close All Editors');
    const dontSave = page.locator('.monaco-dialog-box .monaco-button', { hasText: "Don't Save" });
    if (await dontSave.isVisible({ timeout: 2000 }).catch(() => false)) await dontSave.click();
    await page.waitForTimeout(500);
    await openFile(page, 'lighthouse.md');
    await page.locator('.editor-instance .monaco-editor .view-line', { hasText: 'The old lighthouse' }).click();
    await page.keyboard.press('Control+A');
    const panel = panelFrame(page);
    const note = panel.locator('#partial-note');
    const toast = page.locator('.notifications-toasts', { hasText: 'Promptscope: coarse-to-fine' });
    const explainAll = async () => {
      await page.locator('.editor-instance .monaco-editor .view-line', { hasText: 'The old lighthouse' }).click();
      await page.keyboard.press('Control+A');
      await page.keyboard.press('Control+Alt+E'); // Explain Selection
      await toast.waitFor({ timeout: 60_000 }); // the request has taken its text
      await page.keyboard.press('Control+Home'); // the selection would hide the tints
    };
    await runCommand(page, 'Promptscope: Show Saliency Panel');
    await panel.locator('#empty-state, #prompt-section').first().waitFor({ timeout: 60_000 });
    await explainAll();
    await note.waitFor({ timeout: 120_000 });
    await page.screenshot({ path: path.join(outDir, `e2e-${theme}-live-partial.png`) });
    const legend = page.locator('.statusbar-item', { hasText: 'partial' }).first();
    await legend.waitFor({ timeout: 30_000 });
    const partialText = await note.innerText();
    const partialTints = await tintCount(page);
    assert.ok(!(await note.getAttribute('class')).includes('cancelled'), 'the run is still going');
    assert.match(partialText, /^Partial · ((paragraphs|sentences|words|tokens) · \d+\/\d+ passes|checking faithfulness)/);
    assert.ok(partialTints > 0, 'the editor shows tints of the partial result');
    log(`[${theme}] partial: ${JSON.stringify(partialText)}; legend ${JSON.stringify(await legend.innerText())}; ${partialTints} tint boxes`);
    // Cancel from the progress notification: what was computed stays, marked cancelled.
    const cancel = page.locator('.notifications-toasts .monaco-button', { hasText: 'Cancel' }).first();
    if (await cancel.isVisible().catch(() => false)) {
      await cancel.click().catch(() => undefined);
      const cancelled = panel.locator('#partial-note.cancelled');
      if (await cancelled.waitFor({ timeout: 10_000 }).then(() => true, () => false)) {
        await page.locator('.statusbar-item', { hasText: 'partial (cancelled' }).first().waitFor({ timeout: 10_000 });
        await page.screenshot({ path: path.join(outDir, `e2e-${theme}-live-cancelled.png`) });
        log(`[${theme}] cancelled: ${JSON.stringify(await cancelled.innerText())}`);
        // Run it again to the end.
        await explainAll();
        await panel.locator('#partial-note:not(.cancelled)').waitFor({ timeout: 60_000 });
      } else log(`[${theme}] the run ended before the cancel reached it: no cancelled screenshot`);
    }
    // The final result: the note goes away, the legend no longer says partial.
    await note.waitFor({ state: 'detached', timeout: 180_000 });
    await panel.locator('#prompt-section').waitFor();
    await page.waitForTimeout(500);
    const finalLegend = await page.locator('.statusbar-item', { hasText: '“' }).first().innerText();
    assert.ok(!finalLegend.includes('partial'), `final legend: ${finalLegend}`);
    const finalTints = await tintCount(page);
    assert.ok(finalTints > 0);
    await page.screenshot({ path: path.join(outDir, `e2e-${theme}-live-final.png`) });
    const hidden = await panel.locator('#partial-note').count();
    assert.equal(hidden, 0, 'no partial note on the final result');
    log(`[${theme}] final: legend ${JSON.stringify(finalLegend)}; ${finalTints} tint boxes`);
  } finally {
    rmSync(settingsFile, { force: true });
  }
  await runCommand(page, 'View: Close All Editors').catch(() => undefined);
}
