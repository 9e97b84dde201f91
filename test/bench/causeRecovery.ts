/**
 * How often each method puts the token that really causes the prediction first. The bundled models' held-out
 * sets mark, for every prompt, the character span the answer depends on (the fact's subject, the agreeing
 * noun, the sentiment cue). Only prompts the model answers correctly count: an explanation of a wrong answer
 * has no known cause. A hit = the top-scored token (by |score| for unsigned methods, by score otherwise)
 * overlaps the cause span; the chance rate is 1 / (tokens in the prompt), averaged.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { explain } from '../../src/core/explain';
import { ensureGradients, loadModel } from '../../src/runtime/loadedModel';
import { median, printTable } from './table';

const METHODS = ['occlusion', 'sliding-window', 'word-occlusion', 'gradient', 'gradient-x-input', 'integrated-gradients', 'smoothgrad', 'shapley-sampling', 'kernel-shap', 'lime', 'reagent', 'counterfactuals'];
const UNSIGNED = new Set(['gradient', 'smoothgrad']);

interface Example {
  text: string;
  expected: string;
  cause: { start: number; end: number };
}

function examples(model: string, limit: number): Example[] {
  const file = path.resolve(__dirname, '../../models', model, 'eval/heldout.jsonl');
  return fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { prompt?: string; text?: string; expected?: string; label?: string; cause?: Example['cause']; cue?: Example['cause'] })
    .map((e) => ({ text: (e.prompt ?? e.text)!, expected: (e.expected ?? e.label)!, cause: (e.cause ?? e.cue)! }))
    .slice(0, limit);
}

export async function runCauseRecoveryBench(limit = 120): Promise<void> {
  const rows: (string | number)[][] = [];
  for (const model of ['promptscope-tiny-lm', 'promptscope-tiny-sentiment']) {
    const m = await loadModel(model);
    await ensureGradients(m);
    const classifier = m.runner.info.kind === 'sequence-classifier';
    const hits = new Map(METHODS.map((x) => [x, 0]));
    const times = new Map(METHODS.map((x) => [x, [] as number[]]));
    let used = 0;
    let chance = 0;
    for (const ex of examples(model, limit)) {
      const target = classifier ? { kind: 'class' as const } : { kind: 'next-token' as const };
      const r = await explain({ text: ex.text, methods: METHODS, target }, m);
      const predicted = r.target.rows[0].text;
      if (classifier ? predicted !== ex.expected : !ex.expected.startsWith(predicted) || predicted.trim() === '') continue;
      used++;
      const visible = r.input.tokens.filter((t) => !t.special);
      chance += visible.filter((t) => t.start < ex.cause.end && t.end > ex.cause.start).length / visible.length;
      for (const run of r.runs) {
        const key = (i: number) => (UNSIGNED.has(run.method) ? Math.abs(run.scores[0][i]) : run.scores[0][i]);
        const top = visible.reduce((a, b) => (key(b.index) > key(a.index) ? b : a));
        if (top.start < ex.cause.end && top.end > ex.cause.start) hits.set(run.method, hits.get(run.method)! + 1);
        times.get(run.method)!.push(run.diagnostics.elapsedMs);
      }
    }
    for (const method of METHODS) {
      rows.push([model, method, used, used ? ((100 * hits.get(method)!) / used).toFixed(1) + '%' : '–', used ? ((100 * chance) / used).toFixed(1) + '%' : '–', median(times.get(method)!).toFixed(1)]);
    }
  }
  printTable(
    'Cause recovery on held-out prompts the model answers correctly (top-1 token overlaps the known cause)',
    ['model', 'method', 'prompts', 'top-1 hit rate', 'chance', 'median ms'],
    rows,
  );
}

if (require.main === module) void runCauseRecoveryBench();
