// Right-to-left and joining scripts in the real editor: tinting a prompt must not move a single glyph.
// Each character's box on the rendered line is measured before and after Explain Selection (a tint
// boundary inside an Arabic word would break its joining and reorder its letters, moving the boxes), and
// the line's text must still read as the logical text. Then a window reload: the panel takes its result
// back with the tints; after an edit it is marked stale and Explain again works.
import assert from 'node:assert/strict';
import path from 'node:path';
import { runCommand } from './editorFlow.mjs';

export const RTL_LINES = ['عاصمة فرنسا هي', 'הבירה של צרפת היא', 'फ्रांस की राजधानी'];

/** Per character of a rendered line (logical order): its box's left edge and width. */
async function glyphBoxes(line) {
  return line.evaluate((el) => {
    const out = [];
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      for (let i = 0; i < n.data.length; i++) {
        const r = document.createRange();
        r.setStart(n, i);
        r.setEnd(n, i + 1);
        const b = r.getBoundingClientRect();
        out.push({ ch: n.data[i], x: b.x, w: b.width });
      }
    }
    return out;
  });
}

const tintCount = (page) => page.evaluate(() => document.querySelectorAll('.monaco-editor .view-overlays div[class*="ced-"]').length);

/** The command palette entry, retried while the extension under development is still being loaded. */
async function command(page, label) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await runCommand(page, label);
    } catch (err) {
      if (attempt >= 4) throw err;
      await page.keyboard.press('Escape');
      await page.waitForTimeout(3000);
    }
  }
}

/** Shows a workspace file: its tab when it has one, else through Quick Open (the side bar may be closed). */
export async function openFile(page, name) {
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  const tab = page.locator('.tab', { hasText: name }).first();
  if (await tab.count()) {
    await tab.click();
    await page.locator('.tab.active', { hasText: name }).waitFor({ timeout: 30_000 });
    return;
  }
  const input = page.locator('.quick-input-widget input');
  // A file written during the run reaches Quick Open's file search a little later: ask again until it does.
  for (let search = 1; ; search++) {
    for (let attempt = 1; ; attempt++) {
      await page.locator('.part.editor').click({ position: { x: 200, y: 300 } }); // focus the workbench
      await page.keyboard.press('Control+P');
      try {
        await input.waitFor({ state: 'visible', timeout: 5000 });
        break;
      } catch (err) {
        if (attempt >= 6) throw err;
        await page.waitForTimeout(2000);
      }
    }
    await input.fill(name);
    try {
      await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor({ timeout: 10_000 });
      break;
    } catch (err) {
      if (search >= 4) throw err;
      await page.keyboard.press('Escape');
      await page.waitForTimeout(3000);
    }
  }
  await page.keyboard.press('Enter');
  await page.locator('.tab.active', { hasText: name }).waitFor({ timeout: 30_000 });
}

export async function runRtlFlow(page, { theme, outDir, reload = false, log = console.log }) {
  await openFile(page, 'rtl.txt');
  const editor = page.locator('.editor-instance .monaco-editor').first();
  for (const [i, text] of RTL_LINES.entries()) {
    const line = editor.locator('.view-line', { hasText: text });
    await line.waitFor();
    await page.waitForTimeout(1000); // fonts and layout settle after the file opens
    const before = await glyphBoxes(line);
    await line.click();
    await page.keyboard.press('Home');
    await page.keyboard.press('Shift+End');
    const lineY = (await line.boundingBox()).y;
    await page.keyboard.press('Control+Alt+E'); // Explain Selection's key binding
    // Tints of this line's result (the previous line's tints go when the new result arrives).
    await page.waitForFunction(
      (y) => [...document.querySelectorAll('.monaco-editor .view-overlays div[class*="ced-"]')].some((el) => Math.abs(el.getBoundingClientRect().y - y) < 3),
      lineY,
      { timeout: 120_000 },
    );
    await page.keyboard.press(i === 0 ? 'ArrowDown' : 'ArrowUp'); // off the line, so that no selection covers it
    await page.waitForTimeout(400);
    const rendered = (await line.textContent()).replace(/\u00a0/g, ' ');
    assert.equal(rendered, text, `[${theme}] the tinted line's text is the logical text`);
    const after = await glyphBoxes(line);
    assert.equal(after.map((g) => g.ch).join(''), before.map((g) => g.ch).join(''));
    const moved = after.filter((g, k) => Math.abs(g.x - before[k].x) > 0.5 || Math.abs(g.w - before[k].w) > 0.5);
    log(`[${theme}] ${JSON.stringify(text)}: ${await tintCount(page)} tint boxes, ${moved.length} of ${after.length} glyph boxes moved`);
    if (moved.length) log(`  before ${JSON.stringify(before.map((g) => [g.x.toFixed(1), g.w.toFixed(1)]))}\n  after  ${JSON.stringify(after.map((g) => [g.x.toFixed(1), g.w.toFixed(1)]))}`);
    await page.screenshot({ path: path.join(outDir, `e2e-${theme}-rtl-${i}.png`) });
    assert.equal(moved.length, 0, `[${theme}] tints move no glyph of ${JSON.stringify(text)}: ${JSON.stringify(moved.slice(0, 5))}`);
    // Every tint box on the line covers whole words: a word's glyphs are all inside a box or all outside.
    const box = await line.boundingBox();
    const tints = await page.evaluate((y) =>
      [...document.querySelectorAll('.monaco-editor .view-overlays div[class*="ced-"]')]
        .map((el) => el.getBoundingClientRect())
        .filter((r) => Math.abs(r.y - y) < 3 && r.width > 0)
        .map((r) => [r.x, r.x + r.width]), box.y);
    const words = [...text.matchAll(/\S+/g)].map((m) => after.slice(m.index, m.index + m[0].length));
    for (const [from, to] of tints) {
      for (const w of words) {
        const inside = w.map((g) => g.x + g.w / 2 > from && g.x + g.w / 2 < to);
        assert.ok(inside.every(Boolean) || !inside.some(Boolean), `[${theme}] a tint box (${from.toFixed(0)}–${to.toFixed(0)}) covers part of the word ${JSON.stringify(w.map((g) => g.ch).join(''))}`);
      }
    }
    assert.ok(tints.length > 0, `[${theme}] the line has tints`);
    await page.screenshot({ path: path.join(outDir, `e2e-${theme}-rtl-${i}.png`) });
  }
  if (reload) await reloadFlow(page, { theme, outDir, editor, log });
}

/** Developer: Reload Window, as a user would (the workbench saves its editors and webview states first). */
export async function reloadWindow(page) {
  await page.waitForTimeout(1500);
  const navigated = page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame(), timeout: 60_000 });
  await command(page, 'Developer: Reload Window');
  await navigated;
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
}

/** The panel after a window reload: live when the text is unchanged, stale with Explain again otherwise. */
async function reloadFlow(page, { theme, outDir, log }) {
  const panel = () => page.frameLocator('iframe.webview').frameLocator('#active-frame');
  await command(page, 'Promptscope: Show Saliency Panel');
  await panel().locator('.heatmap .chip').first().waitFor({ timeout: 30_000 });
  await reloadWindow(page);
  await panel().locator('.heatmap .chip').first().waitFor({ timeout: 60_000 });
  await page.waitForFunction(() => document.querySelectorAll('.monaco-editor .view-overlays div[class*="ced-"]').length > 0, undefined, { timeout: 60_000 });
  assert.equal(await panel().locator('#explain-again').count(), 0, 'a live restored panel is not stale');
  assert.match(await panel().locator('#document-name').innerText(), /rtl\.txt/);
  log(`[${theme}] after reload: tints back (${await tintCount(page)} boxes), panel live`);
  await page.screenshot({ path: path.join(outDir, `e2e-${theme}-reloaded.png`) });

  // Change the explained text, reload: the panel is stale and offers Explain again.
  const line = page.locator('.editor-instance .monaco-editor .view-line', { hasText: RTL_LINES.at(-1) });
  await line.click();
  await page.keyboard.press('End');
  await page.keyboard.press('Backspace'); // the explained text loses its last letter
  await page.keyboard.press('Control+S');
  await page.waitForTimeout(800);
  await reloadWindow(page);
  const again = panel().locator('#explain-again');
  await again.waitFor({ timeout: 60_000 });
  log(`[${theme}] after an edit and a reload: ${(await panel().locator('#status').innerText()).replace(/\s+/g, ' ')}`);
  await page.screenshot({ path: path.join(outDir, `e2e-${theme}-stale.png`) });
  await again.click();
  await page.waitForFunction(() => document.querySelectorAll('.monaco-editor .view-overlays div[class*="ced-"]').length > 0, undefined, { timeout: 120_000 });
  await again.waitFor({ state: 'detached', timeout: 30_000 });
  log(`[${theme}] Explain again: tints back, panel live`);
}
