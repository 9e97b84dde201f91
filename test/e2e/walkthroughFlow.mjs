// First activation in a fresh profile: the Get started walkthrough opens by itself as a background tab (the
// file the user works in keeps its tab and the keyboard focus), and each of its five steps' buttons does
// what the step says and marks the step done. Screenshots: test-output/e2e-{theme}-walkthrough-*.png;
// with `imagesDir`, the steps' images (the part of the window beside the walkthrough) are saved there too.
import assert from 'node:assert/strict';
import path from 'node:path';
import { ALL_METHODS, PROMPT, runCommand, waitFullyVisible } from './editorFlow.mjs';

const TITLE = 'Get started with Promptscope';
const STEPS = [
  { id: 'explain', title: 'Explain a prompt', button: 'Explain the Sample' },
  { id: 'hover', title: 'Read a hover', button: "Show a Token's Hover" },
  { id: 'panel', title: 'Open the saliency panel', button: 'Show Saliency Panel' },
  { id: 'compare', title: 'Compare two methods', button: 'Explain Selection With…' },
  { id: 'model', title: 'Use your own model', button: 'Select Model…' },
];

const tintCount = (page) => page.evaluate(() => document.querySelectorAll('.monaco-editor .view-overlays div[class*="ced-"]').length);
const panelFrame = (page) => page.frameLocator('iframe.webview').frameLocator('#active-frame');

export async function runWalkthroughFlow(page, { theme, outDir, imagesDir, log = console.log }) {
  const shot = (name) => page.screenshot({ path: path.join(outDir, `e2e-${theme}-walkthrough-${name}.png`) });

  // A user opens a prompt file; the first Promptscope command activates the extension. Select Model… only
  // shows a picker (closed with Escape), so nothing is explained yet.
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  const fileItem = page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'capital.txt' });
  await fileItem.waitFor({ timeout: 60_000 });
  await fileItem.click();
  await page.locator('.editor-instance .monaco-editor .view-line', { hasText: PROMPT }).first().click();
  for (let attempt = 1; ; attempt++) {
    try {
      await runCommand(page, 'Promptscope: Select Model…');
      await page.locator('.quick-input-list .monaco-list-row', { hasText: 'promptscope-tiny-lm' }).first().waitFor({ timeout: 30_000 });
      await page.keyboard.press('Escape');
      break;
    } catch (err) {
      if (attempt >= 4) throw err;
      await page.keyboard.press('Escape');
      await page.waitForTimeout(3000);
    }
  }

  // The walkthrough opened as a tab behind the file, which keeps its tab and the keyboard focus.
  const walkthroughTab = page.locator('.tab', { hasText: /Welcome|Walkthrough/ }).first();
  await walkthroughTab.waitFor({ timeout: 60_000 });
  await page.waitForTimeout(1000);
  assert.match(await page.locator('.tab.active').first().innerText(), /capital\.txt/, 'the file stays the active tab');
  assert.ok(
    await page.evaluate(() => !!document.activeElement?.closest('.editor-instance .monaco-editor')),
    'the keyboard focus stays in the editor',
  );
  log(`[${theme}] the walkthrough opened behind capital.txt on first activation; the editor kept the focus`);
  await shot('opened');

  // The user switches to it (with the side bar closed, so that the step images have room).
  await runCommand(page, 'View: Close Primary Side Bar');
  await walkthroughTab.click();
  const walkthrough = page.locator('.gettingStartedContainer', { hasText: TITLE });
  await walkthrough.waitFor({ timeout: 30_000 });
  const stepEl = (s) => walkthrough.locator('.getting-started-step', { hasText: s.title }).first();
  for (const s of STEPS) {
    await stepEl(s).waitFor({ timeout: 15_000 });
    assert.notEqual(await stepEl(s).getAttribute('aria-checked'), 'true', `${s.id} is not done before its button was used`);
  }
  await shot('steps');

  /** The window beside the walkthrough (what the step's image shows). */
  const besideClip = async () => {
    const walkthroughGroup = await page.locator('.part.editor .editor-group-container', { has: walkthrough }).boundingBox();
    const part = await page.locator('.part.editor').boundingBox();
    const x = walkthroughGroup.x + walkthroughGroup.width;
    return { x, y: part.y, width: part.x + part.width - x, height: Math.min(part.height, 520) };
  };
  /** The quick pick with the editor around it (it opens in the middle of the window, over the walkthrough). */
  const pickerClip = async () => {
    const box = await page.locator('.quick-input-widget').boundingBox();
    const width = Math.max(640, box.width + 40);
    const x = Math.max(0, box.x + box.width / 2 - width / 2);
    return { x, y: Math.max(0, box.y - 40), width, height: Math.max(320, box.height + 120) };
  };
  const stepImage = async (s, clip = besideClip) => {
    await shot(s.id);
    if (imagesDir) await page.screenshot({ path: path.join(imagesDir, `${s.id}-${theme}.png`), clip: await clip() });
  };

  // The Welcome editor can re-render its home page (the list of walkthroughs) after it was switched to; the
  // user then opens the walkthrough again from its tile.
  const showWalkthrough = async (s) => {
    if (await stepEl(s).isVisible()) return;
    await page.locator('.gettingStartedContainer button, .gettingStartedContainer .getting-started-category', { hasText: TITLE }).first().click();
    await stepEl(s).waitFor({ state: 'visible', timeout: 15_000 });
  };
  const clickStepButton = async (s) => {
    await showWalkthrough(s);
    // An expanded step's header is disabled (the first step opens expanded).
    if ((await stepEl(s).getAttribute('aria-expanded')) !== 'true') await stepEl(s).click();
    const button = stepEl(s).locator('.button-link, button, a', { hasText: s.button }).first();
    await button.waitFor({ state: 'visible', timeout: 15_000 });
    await page.waitForTimeout(600); // the step's expand animation
    await button.click();
  };
  const expectDone = async (s) => {
    await page.waitForFunction((el) => el.getAttribute('aria-checked') === 'true', await stepEl(s).elementHandle(), { timeout: 30_000 });
    log(`[${theme}] step ${s.id}: marked done`);
  };
  const hoverText = async () => {
    const hover = page.locator('.monaco-hover:not(.hidden)', { hasText: 'Promptscope' }).first();
    await hover.waitFor({ state: 'visible', timeout: 15_000 });
    await waitFullyVisible(page, hover, `[${theme}] the hover`);
    return (await hover.innerText()).replace(/\u00a0/g, ' ');
  };

  // 1. Explain the sample: it opens beside the walkthrough and gets tinted.
  const [explain, hover, panel, compare, model] = STEPS;
  await clickStepButton(explain);
  await page.waitForFunction(() => document.querySelectorAll('.monaco-editor .view-overlays div[class*="ced-"]').length > 0, undefined, { timeout: 120_000 });
  const sampleEditor = page.locator('.editor-instance .monaco-editor', { hasText: PROMPT }).last();
  await sampleEditor.waitFor();
  const tints = await tintCount(page);
  assert.ok(tints >= 2, `the sample has tinted tokens (${tints})`);
  assert.match(await page.locator('.statusbar-item', { hasText: '“' }).first().innerText(), /orange raises, blue lowers/);
  await expectDone(explain);
  await page.keyboard.press('ArrowDown'); // the selection off the tints
  await stepImage(explain);

  // 2. The strongest token's hover.
  await clickStepButton(hover);
  const text = await hoverText();
  log(`[${theme}] hover: ${text.replace(/\s+/g, ' ').slice(0, 200)}`);
  assert.match(text, /score [+\-−]?\d/);
  assert.match(text, /rank 1 of \d+/, 'the hover is the strongest token’s');
  await expectDone(hover);
  await stepImage(hover);
  await page.mouse.move(5, 5);
  await page.keyboard.press('Escape');

  // 3. The saliency panel shows the sample's heatmap.
  await clickStepButton(panel);
  const chips = panelFrame(page).locator('.heatmap .chip');
  await chips.first().waitFor({ timeout: 60_000 });
  assert.equal((await chips.allInnerTexts()).join('').replace(/\s+/g, ' ').trim(), PROMPT);
  await expectDone(panel);
  await page.waitForTimeout(800);
  await stepImage(panel);

  // 4. Explain Selection With…, from the walkthrough: it acts on the sample (the last text editor); picking
  // integrated gradients beside occlusion gives hovers with both methods' scores.
  await clickStepButton(compare);
  await page.waitForFunction((n) => document.querySelectorAll('.quick-input-list .monaco-list-row').length >= n, ALL_METHODS.length, { timeout: 30_000 });
  const offered = await page.$$eval('.quick-input-list .monaco-list-row', (els) => els.map((r) => r.querySelector('.label-name')?.textContent?.trim()));
  await page.locator('.quick-input-list .monaco-list-row').nth(offered.indexOf('integrated-gradients')).click();
  await page.keyboard.press('Enter'); // methods: occlusion (configured) and integrated-gradients
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'promptscope-tiny-lm' }).first().waitFor({ timeout: 10_000 });
  await page.keyboard.press('Enter'); // model: the default
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Next token' }).first().waitFor({ timeout: 10_000 });
  await page.keyboard.press('Enter'); // target: next token
  await expectDone(compare);
  const deadline = Date.now() + 120_000;
  for (;;) {
    await runCommand(page, "Promptscope: Show the Strongest Token's Hover");
    const both = await hoverText().catch(() => '');
    if (/occlusion [+\-−]?\d.*·\s*integrated-gradients [+\-−]?\d/s.test(both)) {
      log(`[${theme}] hover after comparing: ${both.replace(/\s+/g, ' ').slice(0, 240)}`);
      break;
    }
    if (Date.now() > deadline) throw new Error(`no hover with both methods' scores; last: ${both}`);
    await page.keyboard.press('Escape');
    await page.waitForTimeout(1500);
  }
  await stepImage(compare);
  await page.mouse.move(5, 5);
  await page.keyboard.press('Escape');

  // 5. The model picker offers a folder and a hub id; choosing the bundled classifier sets promptscope.model.
  await clickStepButton(model);
  for (const row of ['promptscope-tiny-sentiment', 'Choose folder…', 'Hugging Face hub id…']) {
    await page.locator('.quick-input-list .monaco-list-row', { hasText: row }).first().waitFor({ timeout: 30_000 });
  }
  await stepImage(model, pickerClip);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'promptscope-tiny-sentiment' }).first().click();
  await expectDone(model);
  await page.waitForTimeout(800);
  await shot('done');
}
