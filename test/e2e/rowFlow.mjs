// Multi-token targets in the real editor: generate three tokens from the panel, then click an output
// token in the panel; the editor's tints and the status bar legend must follow that row.
import assert from 'node:assert/strict';
import path from 'node:path';
import { PROMPT, runCommand } from './editorFlow.mjs';
import { openFile } from './rtlFlow.mjs';

const panelFrame = (page) => page.frameLocator('iframe.webview').frameLocator('#active-frame');

/** Tint boxes in the editor as a comparable signature (position and colour of each). */
const tintSignature = (page) =>
  page.evaluate(() =>
    [...document.querySelectorAll('.monaco-editor .view-overlays div[class*="ced-"]')]
      .map((el) => `${Math.round(el.getBoundingClientRect().x)}:${getComputedStyle(el).backgroundColor}`)
      .join(' '),
  );

export async function runRowFlow(page, { theme, outDir, log = console.log }) {
  await openFile(page, 'capital.txt');
  const line = page.locator('.editor-instance .monaco-editor .view-line', { hasText: PROMPT });
  await line.click();
  await page.keyboard.press('Home');
  await page.keyboard.press('Shift+End');
  await page.keyboard.press('Control+Alt+E'); // Explain Selection's key binding
  const panel = panelFrame(page);
  await runCommand(page, 'Promptscope: Show Saliency Panel');
  await panel.locator('#target-kind').waitFor({ timeout: 60_000 });
  // Re-run acts on the result the panel shows: wait until it is this file's (an earlier flow's may still be up).
  await panel.locator('#document-name', { hasText: 'capital.txt' }).waitFor({ timeout: 120_000 });
  await panel.locator('#target-kind').click();
  await panel.locator('#target-kind vscode-option[value="generate"]').click();
  await panel.locator('#target-text input').fill('3');
  await panel.locator('#rerun').click();
  const third = panel.locator('.out-chip[data-row="2"]');
  await third.waitFor({ timeout: 120_000 });
  // Rows stream in as partial results; the row choice applies to the final one.
  await panel.locator('.partial-note').waitFor({ state: 'detached', timeout: 120_000 });
  await page.waitForTimeout(500);
  const legend = page.locator('.statusbar-item', { hasText: '“' }).first();
  const rows = await panel.locator('.out-chip .out-text').allTextContents();
  log(`[${theme}] generated rows: ${JSON.stringify(rows)}`);
  // The status bar legend belongs to the active editor: focus it to read what the tints show.
  await openFile(page, 'capital.txt');
  const before = { tints: await tintSignature(page), legend: await legend.innerText() };
  await third.click();
  await page.waitForTimeout(1000);
  const afterTints = await tintSignature(page);
  await openFile(page, 'capital.txt');
  // The legend names the explained row's token (spaces shown as · as in hovers).
  const shown = rows[2].replace(/ /g, '·');
  await page.locator('.statusbar-item', { hasText: `“${shown.slice(0, 20)}` }).first().waitFor({ timeout: 15_000 });
  const after = { tints: afterTints, legend: await legend.innerText() };
  log(`[${theme}] legend ${JSON.stringify(before.legend)} → ${JSON.stringify(after.legend)}; tints changed: ${before.tints !== after.tints}`);
  assert.notEqual(after.legend, before.legend, 'the legend follows the clicked output token');
  if (rows[2] !== rows[0]) assert.notEqual(after.tints, before.tints, 'the editor tints follow the clicked output token');
  await page.screenshot({ path: path.join(outDir, `e2e-${theme}-rows.png`) });
}
