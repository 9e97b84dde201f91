/**
 * The long-context bundled model on a held-out prompt of about 1,500 tokens whose answer depends on a word
 * stated ~1,000 tokens earlier: coarse-to-fine occlusion against plain leave-one-out in one run — passes,
 * time to the first streamed tints and to the full result, whether the top-scored token lies in the known cause span (and the cause's best rank), and how many of
 * leave-one-out's 10 largest |scores| coarse-to-fine also puts in its top 10.
 */
import { explain } from '../../src/core/explain';
import type { MethodParams } from '../../src/core/request';
import type { AttributionResult } from '../../src/core/result';
import { loadModel } from '../../src/runtime/loadedModel';
import { LONG_MODEL, longExamples, outcomes } from '../eval/longContext';
import { printTable } from './table';

function ranked(r: AttributionResult): number[] {
  const s = r.runs[0].scores[0];
  return r.input.tokens.filter((t) => !t.special).map((t) => t.index).sort((a, b) => Math.abs(s[b]) - Math.abs(s[a]) || a - b);
}

export async function runLongModelBench(targetTokens = 1500): Promise<void> {
  const m = await loadModel(LONG_MODEL);
  const examples = longExamples();
  // The answered held-out prompt whose length is closest to targetTokens: only there is the cause known to drive the answer.
  const lengths = examples.map((e) => m.tokenizer.encodePrompt(e.prompt).length);
  const order = examples.map((_, i) => i).sort((a, b) => Math.abs(lengths[a] - targetTokens) - Math.abs(lengths[b] - targetTokens));
  let pick = -1;
  for (const i of order) {
    const [o] = await outcomes(m, examples, [i]);
    if (o.firstToken) { pick = i; break; }
  }
  if (pick < 0) { console.log(`\n${LONG_MODEL}: no held-out prompt answered correctly; nothing to attribute.`); return; }
  const ex = examples[pick];
  const rows: (string | number)[][] = [];
  let looTop: Set<number> | undefined;
  let looPasses = 0;
  const runs: [string, string, MethodParams][] = [
    ['occlusion (leave-one-out)', 'occlusion', {}],
    ['coarse-to-fine, default budget', 'coarse-to-fine', {}],
    ['coarse-to-fine, 5 % passes', 'coarse-to-fine', { passBudget: Math.ceil(lengths[pick] / 20) }],
  ];
  for (const [label, method, params] of runs) {
    const t0 = performance.now();
    let firstTints = NaN;
    const r = await explain({ text: ex.prompt, methods: [method], params, target: { kind: 'next-token' }, trust: false }, m, {
      onPartial: () => (firstTints = Number.isNaN(firstTints) ? performance.now() - t0 : firstTints),
    });
    const d = r.runs[0].diagnostics;
    const order10 = ranked(r);
    const inCause = (i: number) => r.input.tokens[i].start < ex.cause.end && r.input.tokens[i].end > ex.cause.start;
    const causeRank = order10.findIndex(inCause) + 1;
    if (!looTop) { looTop = new Set(order10.slice(0, 10)); looPasses = d.forwardPasses; }
    const overlap = order10.slice(0, 10).filter((t) => looTop!.has(t)).length;
    rows.push([label, d.occlusions ?? order10.length, d.forwardPasses, (d.forwardPasses / looPasses).toFixed(2), Number.isNaN(firstTints) ? '–' : firstTints.toFixed(0), d.elapsedMs.toFixed(0),
      inCause(order10[0]) ? 'yes' : 'no', causeRank || '–', `${overlap}/10`]);
  }
  printTable(
    `${LONG_MODEL}, held-out prompt ${pick} (${lengths[pick]} tokens, ${ex.task}; cause "${ex.prompt.slice(ex.cause.start, ex.cause.end)}" ${m.tokenizer.encodePrompt(ex.prompt.slice(ex.cause.end)).length} tokens before the end; answer "${ex.expected}")`,
    ['method', 'occlusions', 'forward passes', 'passes / LOO', 'first tints ms', 'ms', 'top-1 in cause', 'best rank of a cause token', 'top-10 overlap with LOO'],
    rows,
  );
}
