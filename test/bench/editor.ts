/**
 * Editor benchmark: runs the extension-host half (test/extension/benchHost.ts) inside code-server with
 * Promptscope loaded from the working tree, and prints activation time, time to first tint (cold and
 * warm) for a ~100-token selection, and the extension host's longest main-thread stall.
 * Expects `npm run build` to have run (dist/ is what gets loaded).
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EditorBenchReport } from '../extension/benchHost';

const root = path.resolve(__dirname, '..', '..');

const GOALS = { activationMs: 50, warmFirstTintMs: 500, maxStallMs: 50 };

export async function runEditorBench(): Promise<void> {
  // Plain JavaScript helpers shared with the npm scripts.
  const { buildSuite } = await import(path.join(root, 'test', 'extension', 'buildSuite.mjs'));
  const { startCodeServer, ensureCodeServer } = await import(path.join(root, 'scripts', 'codeServer.mjs'));
  const { launchBrowser, workbenchUrl } = await import(path.join(root, 'scripts', 'codeServerBrowser.mjs'));

  ensureCodeServer();
  const hostEntry: string = await buildSuite('bench');
  const outFile = path.join(root, 'test-output', 'editor-bench.json');
  mkdirSync(path.dirname(outFile), { recursive: true });
  rmSync(outFile, { force: true });
  const workspace = mkdtempSync(path.join(os.tmpdir(), 'promptscope-bench-ws-'));
  cpSync(path.join(root, 'samples'), workspace, { recursive: true });
  const userData = mkdtempSync(path.join(os.tmpdir(), 'promptscope-bench-user-'));
  mkdirSync(path.join(userData, 'User'), { recursive: true });
  writeFileSync(path.join(userData, 'User', 'settings.json'), JSON.stringify({ 'workbench.startupEditor': 'none' }));

  const server = await startCodeServer({ userDataDir: userData, env: { PROMPTSCOPE_BENCH_RESULTS: outFile } });
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    await page.goto(
      workbenchUrl(server.url, { folder: workspace, extensionDevelopmentPath: root, extensionTestsPath: hostEntry.replace(/\.js$/, '') }),
    );
    const deadline = Date.now() + 5 * 60_000;
    while (!existsSync(outFile)) {
      if (Date.now() > deadline) throw new Error('editor bench: no results within 5 minutes');
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await browser.close().catch(() => undefined);
    await server.stop();
    rmSync(workspace, { recursive: true, force: true });
    rmSync(userData, { recursive: true, force: true });
  }
  const r = JSON.parse(readFileSync(outFile, 'utf8')) as EditorBenchReport;
  if (r.error) throw new Error(`editor bench failed: ${r.error}`);
  const warm = [...r.warmFirstTintMs].sort((a, b) => a - b)[Math.floor(r.warmFirstTintMs.length / 2)];
  const rows: [string, string, string, string][] = [
    ['activation (activate())', fmt(r.activationMs), `≤ ${GOALS.activationMs} ms`, ok(r.activationMs <= GOALS.activationMs)],
    ['activation (incl. module load)', fmt(r.activateCallMs), '', ''],
    [`first tint, cold (${r.promptTokens} tokens, incl. model load)`, fmt(r.coldFirstTintMs), '', ''],
    [`first tint, warm (median of ${r.warmFirstTintMs.length})`, fmt(warm), `≤ ${GOALS.warmFirstTintMs} ms`, ok(warm <= GOALS.warmFirstTintMs)],
    ['longest extension-host stall, warm runs', fmt(r.maxStallMs), `≤ ${GOALS.maxStallMs} ms`, ok(r.maxStallMs <= GOALS.maxStallMs)],
    ['  extension-host CPU during that stall', fmt(r.maxStallCpuMs), '', ''],
    ['longest extension-host stall, cold run', fmt(r.coldStallMs), '', ''],
    ['longest extension-host stall, idle (noise)', fmt(r.idleStallMs), '', ''],
    ...(r.live
      ? ([
          [`streamed update (${r.live.partialUpdates} partial + final, ${r.live.tokens} tokens), median host time`, fmt(r.live.hostMsMedian), `≤ ${GOALS.maxStallMs} ms`, ok(r.live.hostMsMedian <= GOALS.maxStallMs)],
          ['  slowest streamed update', fmt(r.live.hostMsMax), `≤ ${GOALS.maxStallMs} ms`, ok(r.live.hostMsMax <= GOALS.maxStallMs)],
          ['  longest extension-host stall during that run', fmt(r.live.stallMs), '', ''],
        ] as [string, string, string, string][])
      : []),
  ];
  const w = [0, 1, 2, 3].map((i) => Math.max(...rows.map((row) => row[i].length), ['editor (code-server)', 'measured', 'goal', ''][i].length));
  const line = (c: string[]) => c.map((v, i) => v.padEnd(w[i])).join('  ');
  console.log(line(['editor (code-server)', 'measured', 'goal', '']));
  console.log(w.map((n) => '-'.repeat(n)).join('  '));
  for (const row of rows) console.log(line(row));
}

function fmt(ms: number): string {
  return `${ms.toFixed(1)} ms`;
}
function ok(pass: boolean): string {
  return pass ? 'ok' : 'MISSED';
}

if (require.main === module) {
  runEditorBench().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
