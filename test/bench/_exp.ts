import * as fs from 'node:fs';
import { explain } from '../../src/core/explain';
import { loadModel } from '../../src/runtime/loadedModel';
(async () => {
  const lm = await loadModel('promptscope-tiny-lm');
  const ex = fs.readFileSync('models/promptscope-tiny-lm/eval/heldout.jsonl', 'utf8').trim().split('\n').map((l) => JSON.parse(l)).slice(0, 120);
  const variants: [string, (n: number) => Record<string, unknown>][] = [
    ['default', () => ({})],
    ['keep20%', (n) => ({ keepTop: Math.max(1, Math.ceil(0.2 * n)) })],
    ['keep1', () => ({ keepTop: 1 })],
    ['keep2', () => ({ keepTop: 2 })],
  ];
  const hits = variants.map(() => 0); const steps = variants.map(() => 0);
  let used = 0;
  for (const e of ex) {
    const n = lm.tokenizer.encodePrompt(e.prompt).length;
    const base = await explain({ text: e.prompt, methods: ['occlusion'], target: { kind: 'next-token' }, trust: false }, lm);
    const pred = base.target.rows[0].text;
    if (!e.expected.startsWith(pred) || pred.trim() === '') continue;
    used++;
    for (const [vi, [, p]] of variants.entries()) {
      const r = await explain({ text: e.prompt, methods: ['reagent'], params: p(n), target: { kind: 'next-token' }, trust: false }, lm);
      const vis = r.input.tokens.filter((t) => !t.special);
      const top = vis.reduce((a, b) => (r.runs[0].scores[0][b.index] > r.runs[0].scores[0][a.index] ? b : a));
      if (top.start < e.cause.end && top.end > e.cause.start) hits[vi]++;
      steps[vi] += r.runs[0].diagnostics.forwardPasses;
    }
  }
  variants.forEach(([name], i) => console.log(name, used, (100 * hits[i] / used).toFixed(1) + '%', 'passes/prompt', (steps[i] / used).toFixed(0)));
})();
