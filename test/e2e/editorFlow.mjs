// The user's path through a real VS Code (code-server) in Chromium: open a prompt file, select the prompt,
// run Promptscope: Explain Selection from the command palette, see the tints, hover a token, open the
// saliency panel, re-run with integrated gradients from the panel. Every check reads the workbench DOM;
// screenshots are saved for people to look at.
import assert from 'node:assert/strict';
import path from 'node:path';

export const PROMPT = 'The capital of France is';

/** Runs the command palette entry whose label is `label`. */
export async function runCommand(page, label) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(`>${label}`);
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first();
  await row.waitFor({ state: 'visible', timeout: 15_000 });
  await page.keyboard.press('Enter');
}

/**
 * Tint elements in the editor: decoration overlays whose background is one of the scale's hues. For each,
 * the colour of the text drawn over its middle and the editor background (for contrast checks).
 */
async function tintBoxes(page) {
  return page.evaluate(() => {
    const rgba = (css) => {
      const m = css.match(/rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)/);
      return m ? [Number(m[1]), Number(m[2]), Number(m[3]), m[4] === undefined ? 1 : Number(m[4])] : undefined;
    };
    const editorBg = rgba(getComputedStyle(document.querySelector('.monaco-editor .monaco-editor-background') ?? document.body).backgroundColor);
    const out = [];
    for (const el of document.querySelectorAll('.monaco-editor .view-overlays div[class*="ced-"]')) {
      const c = rgba(getComputedStyle(el).backgroundColor);
      if (!c) continue;
      const [r, g, b, a = 1] = c;
      if (a === 0) continue;
      const sign = r === 230 && g === 97 && b === 1 ? 'pos' : r === 33 && g === 102 && b === 172 ? 'neg' : undefined;
      if (!sign) continue;
      const box = el.getBoundingClientRect();
      const under = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
      const text = under?.closest('.view-line') ? rgba(getComputedStyle(under).color) : undefined;
      out.push({
        sign,
        alpha: a,
        x: box.x,
        y: box.y,
        width: box.width,
        height: box.height,
        bg: [r, g, b],
        editorBg,
        text,
        underline: under
          ? (({ textDecorationLine: line, textDecorationStyle: st, textDecorationColor: c }) => ({ line, style: st, color: rgba(c) }))(getComputedStyle(under))
          : undefined,
      });
    }
    return out.sort((p, q) => p.y - q.y || p.x - q.x);
  });
}

/** WCAG contrast ratio of two sRGB colours. */
function contrast(a, b) {
  const lin = (c) => ((c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  const lum = ([r, g, b]) => 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

const blend = (fg, alpha, bg) => fg.map((v, i) => v * alpha + bg[i] * (1 - alpha));

/**
 * Waits until an element and all its ancestors are fully opaque and no CSS animation runs on them (the
 * editor fades hovers in), then asserts it.
 */
export async function waitFullyVisible(page, locator, what) {
  const handle = await locator.elementHandle();
  const probe = (el) => {
    for (let e = el; e && e !== document.documentElement; e = e.parentElement) {
      const style = getComputedStyle(e);
      if (style.visibility === 'hidden' || style.display === 'none' || Number(style.opacity) < 1) return false;
      if (e.getAnimations().some((a) => a.playState === 'running' || a.playState === 'pending')) return false;
    }
    return true;
  };
  await page.waitForFunction(probe, handle, { timeout: 10_000 });
  assert.ok(await handle.evaluate(probe), `${what} is fully visible (opacity 1, no running animation)`);
}

/** Hovers a tint (the strongest, or the leftmost) and returns the visible Promptscope hover. */
async function hoverTint(page, theme, which = 'strongest') {
  const tints = await tintBoxes(page);
  const t = which === 'strongest' ? [...tints].sort((a, b) => b.alpha - a.alpha)[0] : tints[0];
  await page.mouse.move(t.x + t.width / 2, t.y + t.height / 2);
  const hover = page.locator('.monaco-hover:not(.hidden)', { hasText: 'Promptscope' }).first();
  await hover.waitFor({ state: 'visible', timeout: 15_000 });
  await waitFullyVisible(page, hover, `[${theme}] the hover`);
  return hover;
}

/** The panel webview's document (VS Code nests it in two iframes). */
const panelFrame = (page) => page.frameLocator('iframe.webview').frameLocator('#active-frame');

/**
 * `readmeShot`: when set, also saves editor + hover + panel side by side there (the README image), with the
 * side bar closed so that the editor and the panel share the window. `explainWith`: also run Explain
 * Selection With… with two methods.
 */
export async function runEditorFlow(page, { theme, outDir, readmeShot, explainWith = false, log = console.log }) {
  const shot = (name) => path.join(outDir, `e2e-${theme}-${name}.png`);

  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  const fileItem = page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'capital.txt' });
  await fileItem.waitFor({ timeout: 60_000 });
  await fileItem.click();
  const editor = page.locator('.editor-instance .monaco-editor').first();
  const promptLine = editor.locator('.view-line', { hasText: PROMPT });
  await promptLine.waitFor();

  // Select the first line (the prompt) with the keyboard, as a user would.
  await promptLine.click();
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
  // Tints come with the first partial result; what follows reads the final one (the legend drops "partial").
  await page.locator('.statusbar-item', { hasText: '“' }).filter({ hasNotText: 'partial' }).first().waitFor({ timeout: 120_000 });
  // Move the cursor off the prompt so neither the selection nor word highlights cover the tints.
  await page.keyboard.press('ArrowDown');
  await page.waitForTimeout(300);
  const tints = await tintBoxes(page);
  log(`[${theme}] ${tints.length} tinted tokens: ${tints.map((t) => `${t.sign}:${t.alpha.toFixed(2)}`).join(' ')}`);
  // Scores below half a bucket are not tinted, so not every token of this prompt is coloured.
  assert.ok(tints.length >= 2, `at least 2 tinted tokens (got ${tints.length})`);
  // Which signs appear depends on the bundled model's answer; note it when only one does.
  if (!(tints.some((t) => t.sign === 'pos') && tints.some((t) => t.sign === 'neg'))) log(`[${theme}] note: all tints have one sign`);

  // All tints sit on the prompt's line, on whole characters of words: a tint starts and ends on a
  // character boundary and neither begins nor ends on a space.
  const line = await promptLine.boundingBox();
  const textWidth = await promptLine.evaluate((el) => {
    const r = document.createRange();
    r.selectNodeContents(el);
    return r.getBoundingClientRect().width;
  });
  const charWidth = textWidth / PROMPT.length;
  for (const t of tints) {
    assert.ok(Math.abs(t.y - line.y) < 2, 'tint on the prompt line');
    assert.ok(t.x >= line.x - 1 && t.x + t.width <= line.x + textWidth + 1, 'tint within the prompt text');
    const from = (t.x - line.x) / charWidth;
    const to = (t.x + t.width - line.x) / charWidth;
    assert.ok(Math.abs(from - Math.round(from)) < 0.1 && Math.abs(to - Math.round(to)) < 0.1, `tint on character boundaries (${from.toFixed(2)}–${to.toFixed(2)})`);
    const painted = PROMPT.slice(Math.round(from), Math.round(to));
    assert.ok(painted.length > 0 && painted.trim() === painted, `tint covers characters of a word, not the space before it: ${JSON.stringify(painted)}`);
  }

  // Text stays readable on every tint (WCAG AA: 4.5:1, measured against the blended background).
  for (const t of tints) {
    if (!t.text || !t.editorBg) continue;
    const bg = blend(t.bg, t.alpha, t.editorBg);
    const ratio = contrast(t.text.slice(0, 3), bg);
    assert.ok(ratio >= 4.5, `[${theme}] text contrast ${ratio.toFixed(2)} on a ${t.sign} tint (alpha ${t.alpha.toFixed(2)})`);
  }
  for (const t of tints) {
    // High contrast: every tinted token is underlined in its sign's colour (solid raises, dashed lowers);
    // other themes draw no visible underline.
    const drawn = !!t.underline && t.underline.line.includes('underline') && !!t.underline.color && t.underline.color[3] > 0;
    assert.equal(drawn, theme === 'hc', `[${theme}] tint underline: ${JSON.stringify(t.underline)}`);
    if (drawn) assert.equal(t.underline.style, t.sign === 'pos' ? 'solid' : 'dashed');
    assert.ok(Math.abs(t.height - line.height) < 1, `tint as tall as the line (${t.height} vs ${line.height})`);
  }

  const legend = page.locator('.statusbar-item', { hasText: '“' }).first();
  await legend.waitFor({ timeout: 10_000 });
  const legendText = (await legend.innerText()).trim();
  log(`[${theme}] legend: ${legendText}`);
  assert.match(legendText, /orange raises, blue lowers/);

  // Hover the strongest tinted token and read the tooltip once it has finished fading in.
  const hover = await hoverTint(page, theme);
  const hoverText = (await hover.innerText()).replace(/\u00a0/g, ' ');
  log(`[${theme}] hover: ${hoverText.replace(/\s+/g, ' ').slice(0, 240)}`);
  assert.match(hoverText, /score [+\-−]?\d/);
  assert.match(hoverText, /rank \d+ of \d+/);
  assert.match(hoverText, /target/);
  assert.equal(await hover.locator('a[href], script, img').count(), 0, 'no links, scripts or images in the hover');
  await page.screenshot({ path: shot('editor') });

  // The saliency panel with its heatmap.
  await page.mouse.move(5, 5);
  await runCommand(page, 'Promptscope: Show Saliency Panel');
  const webview = panelFrame(page);
  const chips = webview.locator('.heatmap .chip');
  await chips.first().waitFor({ timeout: 30_000 });
  const chipTexts = await chips.allInnerTexts();
  log(`[${theme}] heatmap chips: ${JSON.stringify(chipTexts)}`);
  assert.equal(chipTexts.join('').replace(/\s+/g, ' ').trim(), PROMPT);
  await page.waitForTimeout(500);
  await page.screenshot({ path: shot('panel') });

  if (readmeShot) {
    // Editor and panel side by side with the hover open, for the README.
    await runCommand(page, 'View: Close Primary Side Bar');
    await page.waitForTimeout(500);
    // Give the editor 60 % of the width so that the hover fits beside the panel.
    const group = await page.locator('.part.editor .editor-group-container').first().boundingBox();
    const sashX = group.x + group.width;
    await page.mouse.move(sashX, 400);
    await page.mouse.down();
    await page.mouse.move(Math.round(1280 * 0.6), 400, { steps: 10 });
    await page.mouse.up();
    await page.waitForTimeout(500);
    await hoverTint(page, theme, 'leftmost');
    await page.screenshot({ path: readmeShot });
    await page.mouse.move(5, 5);
    await page.waitForTimeout(300);
  }

  // Re-run from the panel's method dropdown with a gradient method: the first gradient run on a model
  // prepares (and caches) its gradient graph; the panel then shows integrated gradients' completeness gap.
  await webview.locator('#method').click();
  await webview.locator('#method vscode-option[value="integrated-gradients"]').click();
  const facts = webview.locator('#diagnostics-facts');
  await webview.locator('#diagnostics-section strong', { hasText: 'integrated-gradients' }).waitFor({ timeout: 120_000 });
  const factsText = await facts.innerText();
  log(`[${theme}] integrated gradients: ${factsText}`);
  assert.match(factsText, /completeness gap -?\d/);
  assert.match(factsText, /\d+ backward passes/);
  assert.equal((await chips.allInnerTexts()).join('').replace(/\s+/g, ' ').trim(), PROMPT);

  let withHover;
  if (explainWith) withHover = await explainWithTwoMethods(page, { theme, editor: promptLine, log });
  return { tints: tints.length, legendText, hoverText, chips: chipTexts.length, integratedGradients: factsText, withHover };
}

export const ALL_METHODS = ['occlusion', 'sliding-window', 'word-occlusion', 'gradient', 'gradient-x-input', 'integrated-gradients', 'smoothgrad'];

/**
 * Explain Selection With…: every method is offered; picking occlusion and integrated gradients (next token,
 * default model) gives a hover with both methods' values.
 */
async function explainWithTwoMethods(page, { theme, editor, log }) {
  await editor.click();
  await page.keyboard.press('Home');
  await page.keyboard.press('Shift+End');
  await runCommand(page, 'Promptscope: Explain Selection With…');
  await page.waitForFunction(
    (n) => document.querySelectorAll('.quick-input-list .monaco-list-row').length >= n,
    ALL_METHODS.length,
    { timeout: 30_000 },
  );
  // Each row: its label (the first label-name; the detail line has one too) and whether it is picked.
  const rows = () =>
    page.$$eval('.quick-input-list .monaco-list-row', (els) =>
      els.map((r) => ({
        label: r.querySelector('.label-name')?.textContent?.trim(),
        picked:
          r.getAttribute('aria-checked') === 'true' ||
          !!r.querySelector('input[type=checkbox]:checked, .monaco-custom-toggle.checked, [aria-checked="true"]'),
        html: r.outerHTML.slice(0, 600),
      })),
    );
  const offered = (await rows()).map((r) => r.label);
  log(`[${theme}] Explain With… offers: ${offered.join(', ')}`);
  for (const m of ALL_METHODS) assert.ok(offered.includes(m), `Explain With… offers ${m}`);
  // Clicking a row of a multi-select list toggles it; occlusion (the configured method) is picked already.
  const igIndex = offered.indexOf('integrated-gradients');
  await page.locator('.quick-input-list .monaco-list-row').nth(igIndex).click();
  const after = await rows();
  const picked = after.filter((r) => r.picked).map((r) => r.label);
  assert.deepEqual(picked.sort(), ['integrated-gradients', 'occlusion'], `picked rows; first row: ${after[0]?.html}`);
  await page.keyboard.press('Enter'); // methods
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'promptscope-tiny-lm' }).first().waitFor({ timeout: 10_000 });
  await page.keyboard.press('Enter'); // model: the default
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Next token' }).first().waitFor({ timeout: 10_000 });
  await page.keyboard.press('Enter'); // target: next token
  // Moving the cursor right away must not change what is explained: the selection was taken at the start.
  await page.keyboard.press('ArrowDown');

  // The hover shows the first method's score and every method's value once the result is in.
  const deadline = Date.now() + 120_000;
  for (;;) {
    await page.mouse.move(5, 5);
    const hover = await hoverTint(page, theme).catch(() => undefined);
    const text = hover ? (await hover.innerText()).replace(/\u00a0/g, ' ') : '';
    if (/occlusion [+\-−]?\d.*·\s*integrated-gradients [+\-−]?\d/s.test(text)) {
      log(`[${theme}] hover after Explain With…: ${text.replace(/\s+/g, ' ').slice(0, 300)}`);
      assert.match(text, /score [+\-−]?\d\S* \(occlusion\)/);
      return text;
    }
    const errors = await page.locator('.notifications-toasts .notification-toast', { hasText: 'Promptscope' }).allInnerTexts();
    const failure = errors.find((e) => /fail|could not|error|stopped/i.test(e));
    if (failure) throw new Error(`Explain With… failed: ${failure}`);
    if (Date.now() > deadline) throw new Error(`no hover with both methods' values; last: ${text}; notifications: ${JSON.stringify(errors)}`);
    await page.waitForTimeout(1000);
  }
}
