// First activation in a fresh profile: the Getting Started walkthrough opens by itself (beside the editor),
// and its "Open the saliency panel" step's button opens the panel. Screenshot: test-output/e2e-{theme}-walkthrough.png.
import path from 'node:path';
import { runCommand } from './editorFlow.mjs';
import { openFile } from './rtlFlow.mjs';

const TITLE = 'Get started with Promptscope';

export async function runWalkthroughFlow(page, { theme, outDir, log = console.log }) {
  await openFile(page, 'capital.txt');
  // Any Promptscope command activates the extension; Select Model… only shows a quick pick (closed with Escape).
  for (let attempt = 1; ; attempt++) {
    try {
      await runCommand(page, 'Promptscope: Select Model…');
      await page.waitForTimeout(1000);
      await page.keyboard.press('Escape');
      break;
    } catch (err) {
      if (attempt >= 4) throw err;
      await page.keyboard.press('Escape');
      await page.waitForTimeout(3000);
    }
  }
  const walkthrough = page.locator('.gettingStartedContainer', { hasText: TITLE });
  await walkthrough.waitFor({ timeout: 60_000 });
  await page.locator('.tab', { hasText: 'capital.txt' }).first().waitFor({ timeout: 10_000 });
  log(`[${theme}] walkthrough opened on first activation`);
  const step = walkthrough.locator('.getting-started-step', { hasText: 'Open the saliency panel' }).first();
  await step.click();
  const button = step.locator('.button-link, button, a', { hasText: 'Show Saliency Panel' }).first();
  await button.waitFor({ state: 'visible', timeout: 15_000 });
  await page.waitForTimeout(800); // the step's expand animation
  await page.screenshot({ path: path.join(outDir, `e2e-${theme}-walkthrough.png`) });
  await button.click();
  await page.locator('iframe.webview').first().waitFor({ state: 'attached', timeout: 60_000 });
  log(`[${theme}] the step's button opened the saliency panel`);
  await page.waitForTimeout(1500);
  await page.screenshot({ path: path.join(outDir, `e2e-${theme}-walkthrough-panel.png`) });
}
