/**
 * Re-explaining after an edit at the end of a long prompt (what promptscope.autoExplain does): on the bundled
 * LM, the second run with the shared-prefix cache warm from the first, against the same run on a runner whose
 * cache is off, side by side in one run (alternating). Also the time to the first streamed partial result
 * against the time to the final one. Medians of `runs` repetitions.
 */
import { explain } from '../../src/core/explain';
import { loadModel, type LoadedModel } from '../../src/runtime/loadedModel';
import type { OnnxRunner } from '../../src/runtime/onnxRunner';
import { median, printTable } from './table';

const PARAGRAPH = 'The keeper climbed the stairs of the old lighthouse every evening. He lit the lamp before the sun went down. Ships in the bay saw the light and turned away from the rocks.';

function prompt(lm: LoadedModel, reserve: number): string {
  let text = PARAGRAPH;
  while (lm.tokenizer.encodePrompt(`${text}\n\n${PARAGRAPH}`).length < lm.runner.info.contextLength - reserve) text += `\n\n${PARAGRAPH}`;
  return text + ' The light belongs to the';
}

async function timed(lm: LoadedModel, text: string, method: string): Promise<{ ms: number; firstPartialMs: number; passes: number; tokens: number; hits: number; batches: number }> {
  const cache = (lm.runner as OnnxRunner).prefixCache;
  const hits0 = cache.hits;
  const t0 = performance.now();
  let firstPartialMs = NaN;
  const r = await explain({ text, methods: [method], target: { kind: 'next-token' }, trust: false }, lm, { onPartial: () => (firstPartialMs = Number.isNaN(firstPartialMs) ? performance.now() - t0 : firstPartialMs) });
  return { ms: performance.now() - t0, firstPartialMs, passes: r.runs[0].diagnostics.forwardPasses, tokens: r.input.tokens.length, hits: cache.hits - hits0, batches: r.runs[0].diagnostics.batches };
}

export async function runReexplainBench(runs = 3): Promise<void> {
  const warm = await loadModel('promptscope-tiny-lm');
  const before = process.env.PROMPTSCOPE_PREFIX_CACHE_MB;
  process.env.PROMPTSCOPE_PREFIX_CACHE_MB = '0';
  const off = await loadModel('promptscope-tiny-lm');
  if (before === undefined) delete process.env.PROMPTSCOPE_PREFIX_CACHE_MB;
  else process.env.PROMPTSCOPE_PREFIX_CACHE_MB = before;
  const text = prompt(warm, 12);
  const rows: (string | number)[][] = [];
  for (const method of ['occlusion', 'coarse-to-fine']) {
    const withCache: Awaited<ReturnType<typeof timed>>[] = [];
    const without: Awaited<ReturnType<typeof timed>>[] = [];
    for (let i = 0; i < runs; i++) {
      const edited = `${text}${' town'.repeat(i + 1)}`;
      await timed(warm, text, method); // the run before the edit fills the cache
      const order = i % 2 ? [false, true] : [true, false];
      for (const cached of order) (cached ? withCache : without).push(await timed(cached ? warm : off, edited, method));
    }
    for (const [label, list] of [['cache on (warm)', withCache], ['cache off', without]] as const) {
      rows.push([method, label, list[0].tokens, `${median(list.map((x) => x.hits))} of ${median(list.map((x) => x.batches))}`, median(list.map((x) => x.passes)), median(list.map((x) => x.firstPartialMs)).toFixed(0), median(list.map((x) => x.ms)).toFixed(0)]);
    }
    rows.push([method, 'ratio on ÷ off', '', '', (median(withCache.map((x) => x.passes)) / median(without.map((x) => x.passes))).toFixed(3), '', (median(withCache.map((x) => x.ms)) / median(without.map((x) => x.ms))).toFixed(3)]);
  }
  printTable('Re-explain after an edit at the end of the prompt (bundled LM, next token, medians)', ['method', 'shared-prefix cache', 'tokens', 'prefix hits of batches', 'forward passes', 'first partial ms', 'full result ms'], rows);
}

if (require.main === module) {
  runReexplainBench().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
