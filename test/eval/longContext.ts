/**
 * Held-out accuracy of the long-context bundled model (models/promptscope-tiny-long) measured by the engine
 * itself: the real tokenizer, the real onnxruntime session and greedy decoding through the ModelRunner, on
 * every prompt of eval/heldout.jsonl (a fact or an instruction stated ~1,000 tokens before the question).
 * `node --import tsx test/eval/longContext.ts` writes the figures into the model's eval/metrics.json (key
 * `engine`, with the indices answered correctly, which the model test re-checks on a subset).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadModel, type LoadedModel } from '../../src/runtime/loadedModel';

export const LONG_MODEL = 'promptscope-tiny-long';
export const LONG_DIR = path.resolve(__dirname, '../../models', LONG_MODEL);

export interface LongExample { prompt: string; expected: string; task: string; cause: { start: number; end: number } }
export interface Outcome { index: number; task: string; promptTokens: number; firstToken: boolean; full: boolean }

export function longExamples(): LongExample[] {
  return fs.readFileSync(path.join(LONG_DIR, 'eval/heldout.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as LongExample);
}

/** Greedy continuation of each example, as long as its expected answer, through the engine's runner. */
export async function outcomes(m: LoadedModel, examples: LongExample[], indices: number[]): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for (const index of indices) {
    const ex = examples[index];
    const ids = m.tokenizer.encodePrompt(ex.prompt).map((t) => t.id);
    const expected = m.tokenizer.encodeContinuation(ex.expected);
    const got: number[] = [];
    const seq = [...ids];
    for (let i = 0; i < expected.length; i++) {
      const [best] = await m.runner.topTokens(seq, 1);
      got.push(best.tokenId);
      if (best.tokenId !== expected[i]) break; // the rest cannot make the continuation right
      seq.push(best.tokenId);
    }
    out.push({ index, task: ex.task, promptTokens: ids.length, firstToken: got[0] === expected[0], full: got.length === expected.length && got.every((t, i) => t === expected[i]) });
  }
  return out;
}

export interface EngineMetrics {
  measured_by: string;
  heldout_examples: number;
  first_token_accuracy: number;
  full_continuation_accuracy: number;
  per_task: Record<string, { first_token_accuracy: number; full_continuation_accuracy: number; n: number }>;
  correct_first_token: number[];
  correct_full: number[];
}

export function summarise(os: Outcome[]): EngineMetrics {
  const perTask: EngineMetrics['per_task'] = {};
  for (const o of os) {
    const t = (perTask[o.task] ??= { first_token_accuracy: 0, full_continuation_accuracy: 0, n: 0 });
    t.first_token_accuracy += Number(o.firstToken);
    t.full_continuation_accuracy += Number(o.full);
    t.n++;
  }
  for (const t of Object.values(perTask)) {
    t.first_token_accuracy /= t.n;
    t.full_continuation_accuracy /= t.n;
  }
  return {
    measured_by: 'node --import tsx test/eval/longContext.ts (onnxruntime through the engine, greedy)',
    heldout_examples: os.length,
    first_token_accuracy: os.filter((o) => o.firstToken).length / os.length,
    full_continuation_accuracy: os.filter((o) => o.full).length / os.length,
    per_task: perTask,
    correct_first_token: os.filter((o) => o.firstToken).map((o) => o.index),
    correct_full: os.filter((o) => o.full).map((o) => o.index),
  };
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const m = await loadModel(LONG_MODEL);
  const examples = longExamples();
  const s = summarise(await outcomes(m, examples, examples.map((_, i) => i)));
  const file = path.join(LONG_DIR, 'eval/metrics.json');
  const metrics = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  metrics.engine = s;
  fs.writeFileSync(file, JSON.stringify(metrics, null, 2) + '\n');
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  console.log(`${LONG_MODEL}: ${s.heldout_examples} held-out prompts, first token ${pct(s.first_token_accuracy)}, full answer ${pct(s.full_continuation_accuracy)} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  for (const [task, t] of Object.entries(s.per_task)) console.log(`  ${task}: ${pct(t.first_token_accuracy)} / ${pct(t.full_continuation_accuracy)} of ${t.n}`);
}

if (require.main === module) {
  main().catch((err) => { console.error(err); process.exit(1); });
}
