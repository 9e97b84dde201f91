/**
 * Coarse-to-fine at a real model size: the Llama-135M-shaped scale model (models/build/scale_models.py, seeded
 * random weights, built on demand into the cache as `npm run bench scale` does) on a prompt of about 2,000 tokens
 * (lines of the long-context model's held-out prompts). Measured: one pass over the prompt (what the prediction
 * alone costs), the time to the first streamed tints (from the start of explain: the prediction's pass included)
 * and the passes they took; the run is then cancelled (the coarse level alone takes minutes here). Plain leave-one-out is not run: 2,000 passes of up to 2,000 tokens on this
 * model take hours here, and its weights are random, so where the tints go means nothing, only how soon they come.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { groupTokens } from '../../src/core/aggregation';
import { explain } from '../../src/core/explain';
import { spanTree } from '../../src/core/methods/coarseToFine';
import { loadModel } from '../../src/runtime/loadedModel';
import { longExamples } from '../eval/longContext';
import { printTable } from './table';

const REPO = path.resolve(__dirname, '../..');
const NAME = 'llama-135m-shape';

export async function runLongScaleBench(targetTokens = 2000): Promise<void> {
  const out = path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'promptscope', 'scale-models');
  const dir = path.join(out, NAME);
  if (!fs.existsSync(path.join(dir, 'onnx', 'model.onnx'))) {
    const build = spawnSync('/usr/bin/python3', [path.join(REPO, 'models/build/scale_models.py'), '--out', out, '--only', NAME], { encoding: 'utf8' });
    if (build.status !== 0) {
      console.log(`\n${NAME}: not built (${(build.stderr || build.error?.message || '').trim().split('\n').pop()}); needs /usr/bin/python3 with torch and onnx.`);
      return;
    }
  }
  const m = await loadModel(dir);
  const count = (t: string) => m.tokenizer.encodePrompt(t).length;
  // Lines of the held-out prompts, in order, as long as the prompt stays within targetTokens.
  let text = '';
  for (const line of longExamples().flatMap((ex) => ex.prompt.split('\n'))) {
    const next = text ? `${text}\n${line}` : line;
    if (count(next) > targetTokens) break;
    text = next;
  }
  const tokens = count(text);
  // The coarse level's spans, from the same span tree the method builds.
  const enc = m.tokenizer.encodePrompt(text);
  const resultTokens = enc.map((t, index) => ({ index, id: t.id, start: t.start, end: t.end, special: t.special, text: text.slice(t.start, t.end) }));
  const words = groupTokens(text, resultTokens, 'word').map((g) => g.tokens);
  const coarse = spanTree({ prompt: enc, text, words } as unknown as Parameters<typeof spanTree>[0]).children.length;
  // One pass over the prompt alone (the prediction explain starts with), after a warm-up.
  const ids = enc.map((t) => t.id);
  await m.runner.topTokens(ids, 5);
  const p0 = performance.now();
  await m.runner.topTokens(ids, 5);
  const onePass = performance.now() - p0;
  const abort = new AbortController();
  const t0 = performance.now();
  let firstMs = NaN;
  let firstPasses = 0;
  let firstShown = 0;
  let planned = 0;
  const f0 = m.runner.forwardCount;
  await explain({ text, methods: ['coarse-to-fine'], params: {}, target: { kind: 'next-token' }, trust: false }, m, {
    signal: abort.signal,
    onPartial: (r) => {
      const p = r.partial!;
      firstMs = performance.now() - t0;
      firstPasses = p.passes;
      firstShown = r.input.tokens.filter((t) => !t.special).length - (p.pending?.length ?? 0);
      planned = p.totalPasses;
      abort.abort();
    },
  }).catch((e: unknown) => {
    if (!abort.signal.aborted) throw e;
  });
  const rows = [['coarse-to-fine, default budget', tokens, onePass.toFixed(0), firstMs.toFixed(0), firstPasses, firstShown, coarse, planned, m.runner.forwardCount - f0]];
  printTable(
    `${NAME} (random weights; ${tokens} tokens; coarse-to-fine cancelled at its first tints; leave-one-out not run)`,
    ['method', 'tokens', 'one pass over the prompt ms', 'first tints ms', 'passes at first tints', 'tokens tinted first', 'coarse spans', 'planned passes', 'forward passes to first tints'],
    rows,
  );
}

if (require.main === module) runLongScaleBench().catch((e) => { console.error(e); process.exit(1); });
