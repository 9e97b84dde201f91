/**
 * Long prompts: coarse-to-fine occlusion against plain leave-one-out on the longest prompt the bundled LM
 * takes, in one run: occlusions, forward passes, wall time (median) and how many of leave-one-out's 10
 * largest |scores| coarse-to-fine also puts in its top 10.
 */
import { explain } from '../../src/core/explain';
import type { MethodParams } from '../../src/core/request';
import type { AttributionResult } from '../../src/core/result';
import { loadModel } from '../../src/runtime/loadedModel';
import { runLongModelBench } from './longContextModel';
import { runLongScaleBench } from './longScaleModel';
import { median, printTable } from './table';

const PARAGRAPHS = [
  'Alice keeps the keys of the old house. She lives in Paris with her brother Bob. Every morning she walks to the market.',
  'The market opens at seven. Farmers sell apples, bread and cheese there. Bob prefers the bakery near the river.',
  'In the evening the two of them read books. Alice likes stories about the sea. Bob likes maps of distant cities.',
  'One day a letter came from London. It asked Alice to visit her aunt. She packed a small bag and left at noon.',
];
const QUESTION = 'Question: in which city does Alice live? Answer: she lives in';

/** Paragraphs repeated until the prompt is as long as the model allows, then the question. */
function longPrompt(maxTokens: number, count: (t: string) => number): string {
  let body = '';
  for (let i = 0; ; i++) {
    const next = body + PARAGRAPHS[i % PARAGRAPHS.length] + '\n\n';
    if (count(next + QUESTION) > maxTokens) break;
    body = next;
  }
  return body + QUESTION;
}

function top10(r: AttributionResult): Set<number> {
  const s = r.runs[0].scores[0];
  return new Set(r.input.tokens.filter((t) => !t.special).map((t) => t.index).sort((a, b) => Math.abs(s[b]) - Math.abs(s[a]) || a - b).slice(0, 10));
}

export async function runLongPromptBench(runs = 3): Promise<void> {
  const lm = await loadModel('promptscope-tiny-lm');
  const count = (t: string) => lm.tokenizer.encodePrompt(t).length;
  const text = longPrompt(lm.runner.info.contextLength - 1, count);
  const tokens = count(text);
  const measure = async (method: string, params: MethodParams) => {
    const req = { text, methods: [method], params, target: { kind: 'next-token' as const }, trust: false };
    await explain(req, lm); // warm-up
    const times: number[] = [];
    let last!: AttributionResult;
    for (let i = 0; i < runs; i++) {
      last = await explain(req, lm);
      times.push(last.runs[0].diagnostics.elapsedMs);
    }
    return { result: last, ms: median(times) };
  };
  const loo = await measure('occlusion', {});
  const looTop = top10(loo.result);
  const looOcclusions = loo.result.input.tokens.filter((t) => !t.special).length;
  const rows: (string | number)[][] = [['occlusion (leave-one-out)', looOcclusions, loo.result.runs[0].diagnostics.forwardPasses, loo.ms.toFixed(0), '1.00', '10/10', '–']];
  const budgets: [string, MethodParams][] = [
    ['coarse-to-fine, default budget', {}],
    ['coarse-to-fine, 10 % passes', { passBudget: Math.ceil(looOcclusions / 10) }],
    ['coarse-to-fine, 20 % passes', { passBudget: Math.ceil(looOcclusions / 5) }],
    ['coarse-to-fine, 0.2 s', { timeBudget: 0.2, passBudget: 1_000_000 }],
    ['coarse-to-fine, unlimited', { passBudget: 1_000_000 }],
  ];
  for (const [label, params] of budgets) {
    const { result, ms } = await measure('coarse-to-fine', params);
    const d = result.runs[0].diagnostics;
    const overlap = [...top10(result)].filter((t) => looTop.has(t)).length;
    const atToken = d.spanLevels!.filter((l) => l === 'token').length;
    rows.push([label, d.occlusions!, d.forwardPasses, ms.toFixed(0), (ms / loo.ms).toFixed(2), `${overlap}/10`, `${atToken}/${looOcclusions}`]);
  }
  printTable(
    `Long prompt on promptscope-tiny-lm (${tokens} tokens, ${PARAGRAPHS.length}+ paragraphs; next-token target " ${lm.tokenizer.tokenText(loo.result.target.rows[0].tokenId).trim()}"; medians of ${runs})`,
    ['method', 'occlusions', 'forward passes', 'ms (median)', 'time / LOO', 'top-10 overlap with LOO', 'tokens at token level'],
    rows,
  );
  await runLongModelBench();
  await runLongScaleBench();
}
