/**
 * Perturbation methods benchmark: per method and prompt size, forward passes, wall time, and the ratio to the
 * same forward passes run as raw batched onnxruntime calls on the exported model (the batches the engine ran,
 * recorded and replayed with tensors prepared outside the timing; single-sequence calls such as ReAGent's
 * stop rule and the counterfactual candidates are replayed as single runs). Default parameters, seed 0, no
 * gradients (counterfactuals then draw candidates from the model's own predictions only).
 */
import * as ort from 'onnxruntime-node';
import { explain } from '../../src/core/explain';
import type { ForwardItem } from '../../src/core/modelRunner';
import type { Granularity } from '../../src/core/request';
import { loadModel } from '../../src/runtime/loadedModel';
import { rawFeeds } from './occlusion';
import { median, printTable } from './table';

const SENTENCES = [
  'Alice met Bob in Paris last spring.',
  'They talked about the river, the old bridge and the market.',
  'Later that day the weather turned cold and grey.',
  'Bob said that the capital of France is Paris.',
  'Alice laughed and wrote it down in her small red notebook.',
];

function promptOf(tokens: number, encode: (t: string) => number): string {
  let text = '';
  for (let i = 0; ; i++) {
    const next = (text ? text + ' ' : '') + SENTENCES[i % SENTENCES.length];
    if (encode(next) > tokens) break;
    text = next;
  }
  // Pad with words to the exact size.
  const words = 'and then they walked home'.split(' ');
  for (let i = 0; encode(text) < tokens; i++) text += ' ' + words[i % words.length];
  return text;
}

export async function runPerturbationBench(): Promise<void> {
  // Timed repetitions per case (medians); the 250-token cases take minutes each on a busy machine.
  const repeats = (tokens: number) => Number(process.env.PROMPTSCOPE_BENCH_RUNS) || (tokens > 100 ? 1 : 3);
  const lm = await loadModel('promptscope-tiny-lm');
  const session = await ort.InferenceSession.create(lm.folder.onnxPath, { graphOptimizationLevel: 'all' });
  const cfg = lm.folder.config as { n_layer: number; n_head: number; n_embd: number };
  const encode = (t: string) => lm.tokenizer.encodePrompt(t).length;
  const rows: (string | number)[][] = [];
  const cases: { tokens: number; features: Granularity }[] = [
    { tokens: 16, features: 'token' },
    { tokens: 64, features: 'token' },
    { tokens: 250, features: 'token' },
    { tokens: 250, features: 'sentence' },
  ];
  for (const { tokens, features } of cases) {
    const text = promptOf(tokens, encode);
    const only = process.env.PROMPTSCOPE_BENCH_METHODS?.split(',');
    for (const method of ['shapley-sampling', 'kernel-shap', 'lime', 'reagent', 'counterfactuals'].filter((m) => !only || only.includes(m))) {
      if (method === 'counterfactuals' && features !== 'token') continue;
      const runs = repeats(tokens);
      const req = { text, methods: [method], target: { kind: 'next-token' as const }, params: { features }, trust: false };
      // Record every run the method makes, to replay it raw.
      const recorded: ForwardItem[][] = [];
      const score = lm.runner.score.bind(lm.runner);
      const top = lm.runner.topTokens.bind(lm.runner);
      let recording = true;
      lm.runner.score = (items, signal) => (recording && recorded.push(items), score(items, signal));
      lm.runner.topTokens = (ids, k, signal) => (recording && recorded.push([{ inputIds: ids, queries: [{ position: ids.length - 1, tokenId: 0 }] }]), top(ids, k, signal));
      const first = await explain(req, lm); // warm-up and recording
      recording = false;
      // The first two calls resolve the target (top-5 list, target score) before the method starts.
      recorded.splice(0, 2);
      const passes = first.runs[0].diagnostics.forwardPasses;
      const batches = first.runs[0].diagnostics.batches;
      const engineTimes: number[] = [];
      for (let i = 0; i < runs; i++) engineTimes.push((await explain(req, lm)).runs[0].diagnostics.elapsedMs);
      lm.runner.score = score;
      lm.runner.topTokens = top;
      const feeds = recorded.map((b) => rawFeeds(b, cfg, lm.runner.info.contextLength));
      const rawTimes: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        for (const f of feeds) await session.run(f, ['logits']);
        rawTimes.push(performance.now() - t0);
      }
      const e = median(engineTimes);
      const raw = median(rawTimes);
      const sequences = recorded.reduce((s, b) => s + b.length, 0);
      rows.push([tokens, features, method, passes, sequences, recorded.length, batches, runs, e.toFixed(0), raw.toFixed(0), (e / raw).toFixed(2)]);
      console.error(`perturbation bench: ${rows[rows.length - 1].join(' | ')}`);
    }
  }
  printTable(
    'Perturbation methods on promptscope-tiny-lm (next-token target, default samples, seed 0; goal: engine / raw ≤ 1.0)',
    ['tokens', 'features', 'method', 'forward passes', 'sequences replayed', 'runs replayed', 'batches', 'timed runs', 'engine ms (median)', 'raw ORT ms (median)', 'engine / raw'],
    rows,
  );
}

if (require.main === module) void runPerturbationBench();
