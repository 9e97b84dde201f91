/**
 * Extension-host half of the editor benchmark (loaded as extensionTestsPath): activation time, time to
 * the first tint for a ~100-token selection (cold, including starting the inference process and loading
 * the model, then warm), and the longest main-thread stall of the extension host while that runs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PromptscopeApi } from '../../src/extension/api';

export interface EditorBenchReport {
  activationMs: number;
  activateCallMs: number;
  promptTokens: number;
  coldFirstTintMs: number;
  warmFirstTintMs: number[];
  /** Longest stall while nothing of ours runs (other extensions, the workbench): the noise floor. */
  idleStallMs: number;
  coldStallMs: number;
  maxStallMs: number;
  /** CPU the extension host used during that stall: ≈ the stall when it blocked, ≈ 0 when it was starved. */
  maxStallCpuMs: number;
  /** Streaming: partial results shown during one coarse-to-fine run, the host's time per update, the stall meanwhile. */
  live?: { tokens: number; partialUpdates: number; hostMsMedian: number; hostMsMax: number; stallMs: number };
  error?: string;
}

async function measure(api: PromptscopeApi, uri: string): Promise<{ ms: number; tokens: number }> {
  const t0 = performance.now();
  const outcome = await api.explain();
  if (outcome.kind !== 'ok') throw new Error(`explain failed: ${JSON.stringify(outcome)}`);
  if (!api.appliedTints(uri).length) throw new Error('no tints painted');
  return { ms: performance.now() - t0, tokens: outcome.stored.result.input.tokens.length };
}

/** Three paragraphs, one prompt (~200 tokens): a coarse-to-fine run streams a partial result per level and chunk. */
const LIVE_PROMPT = Array.from({ length: 3 }, (_, p) =>
  `Paragraph ${p + 1} tells how the keeper climbed the stairs of the old lighthouse every evening. He lit the lamp before the sun went down. Ships in the bay saw the light and turned away from the rocks.`,
).join('\n\n') + ' The light belongs to the';

async function measureLive(api: PromptscopeApi): Promise<EditorBenchReport['live']> {
  const doc = await vscode.workspace.openTextDocument({ content: LIVE_PROMPT });
  const editor = await vscode.window.showTextDocument(doc);
  editor.selection = new vscode.Selection(doc.positionAt(0), doc.positionAt(LIVE_PROMPT.length));
  const before = api.liveUpdates().length;
  api.startStallMonitor();
  const outcome = await api.explain({ methods: ['coarse-to-fine'], params: { passBudget: 1000 } });
  const stallMs = api.stopStallMonitor();
  if (outcome.kind !== 'ok') throw new Error(`live run failed: ${JSON.stringify(outcome)}`);
  const updates = api.liveUpdates().slice(before).filter((u) => u.documentUri === doc.uri.toString());
  const ms = updates.map((u) => u.hostMs).sort((a, b) => a - b);
  return { tokens: outcome.stored.result.input.tokens.length, partialUpdates: updates.filter((u) => u.partial).length, hostMsMedian: ms[ms.length >> 1], hostMsMax: ms[ms.length - 1], stallMs };
}

export async function run(): Promise<void> {
  const out = process.env.PROMPTSCOPE_BENCH_RESULTS ?? path.resolve(__dirname, '..', '..', '..', 'test-output', 'editor-bench.json');
  const report: EditorBenchReport = { activationMs: NaN, activateCallMs: NaN, promptTokens: 0, coldFirstTintMs: NaN, warmFirstTintMs: [], idleStallMs: NaN, coldStallMs: NaN, maxStallMs: NaN, maxStallCpuMs: NaN };
  try {
    const ext = vscode.extensions.getExtension<PromptscopeApi>('promptscope.promptscope');
    if (!ext) throw new Error('Promptscope is not loaded');
    const t0 = performance.now();
    const api = await ext.activate();
    report.activateCallMs = performance.now() - t0;
    report.activationMs = api.activationMs;

    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    if (!folder) throw new Error('open the samples folder');
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder, 'story.md'));
    const editor = await vscode.window.showTextDocument(doc);
    const text = doc.getText();
    // The first four sentences of the story: about 100 tokens.
    const start = text.indexOf('Once upon');
    const end = text.indexOf(' One stormy', start);
    editor.selection = new vscode.Selection(doc.positionAt(start), doc.positionAt(end));
    const uri = doc.uri.toString();

    // Let the workbench and other extensions finish starting, then measure the noise floor.
    await new Promise((r) => setTimeout(r, 3000));
    api.startStallMonitor();
    await new Promise((r) => setTimeout(r, 1000));
    report.idleStallMs = api.stopStallMonitor();

    api.startStallMonitor();
    const cold = await measure(api, uri);
    report.coldStallMs = api.stopStallMonitor();
    report.coldFirstTintMs = cold.ms;
    report.promptTokens = cold.tokens;
    api.startStallMonitor();
    for (let i = 0; i < 5; i++) report.warmFirstTintMs.push((await measure(api, uri)).ms);
    report.maxStallMs = api.stopStallMonitor();
    report.maxStallCpuMs = api.stallCpuMs();
    report.live = await measureLive(api);
  } catch (err) {
    report.error = String((err as Error)?.stack ?? err);
  }
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(report, null, 2));
}
