/**
 * Occlusion benchmark: wall time per method against the same forward passes run as raw batched onnxruntime
 * calls on the exported model (identical sequences and batches, tensors prepared outside the timing). The
 * engine may beat that floor: it computes a shared prefix once and the LM head only at the rows it reads.
 */
import * as ort from 'onnxruntime-node';
import { explain } from '../../src/core/explain';
import type { ForwardItem } from '../../src/core/modelRunner';
import { loadModel } from '../../src/runtime/loadedModel';
import { median, printTable } from './table';

const WORDS = 'The quick brown fox jumps over the lazy dog while Alice tells Bob that the capital of France is Paris and'.split(' ');

function promptOf(tokens: number, encode: (t: string) => number): string {
  let text = '';
  for (let i = 0; encode(text) < tokens; i++) text += (i ? ' ' : '') + WORDS[i % WORDS.length];
  return text;
}

export async function runOcclusionBench(runs = 3): Promise<void> {
  const lm = await loadModel('promptscope-tiny-lm');
  const session = await ort.InferenceSession.create(lm.folder.onnxPath, { graphOptimizationLevel: 'all' });
  const cfg = lm.folder.config as { n_layer: number; n_head: number; n_embd: number };
  const encode = (t: string) => lm.tokenizer.encodePrompt(t).length;
  const rows: (string | number)[][] = [];
  for (const length of [16, 64, 250]) {
    const text = promptOf(length, encode);
    for (const method of ['occlusion', 'sliding-window', 'word-occlusion']) {
      // Record the batches the engine runs, to replay them raw.
      const recorded: ForwardItem[][] = [];
      const score = lm.runner.score.bind(lm.runner);
      lm.runner.score = (items, signal) => (recorded.push(items), score(items, signal));
      const req = { text, methods: [method], target: { kind: 'next-token' as const }, params: { window: 4, stride: 2 } };
      await explain(req, lm); // warm-up and recording
      lm.runner.score = score;
      const methodBatches = recorded.slice(1); // the first scored run resolves the target probability
      const engineTimes: number[] = [];
      let passes = 0;
      for (let i = 0; i < runs; i++) {
        const r = await explain(req, lm);
        engineTimes.push(r.runs[0].diagnostics.elapsedMs);
        passes = r.runs[0].diagnostics.forwardPasses;
      }
      const feeds = methodBatches.map((b) => rawFeeds(b, cfg, lm.runner.info.contextLength));
      const rawTimes: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        for (const f of feeds) await session.run(f, ['logits']);
        rawTimes.push(performance.now() - t0);
      }
      const e = median(engineTimes);
      const raw = median(rawTimes);
      rows.push([length, method, passes, methodBatches.length, e.toFixed(1), raw.toFixed(1), (e / raw).toFixed(2)]);
    }
  }
  printTable('Occlusion on promptscope-tiny-lm (next-token target; goal: overhead ratio ≤ 1.3)', ['tokens', 'method', 'forward passes', 'batches', 'engine ms (median)', 'raw ORT ms (median)', 'engine / raw'], rows);
}

export function rawFeeds(items: ForwardItem[], cfg: { n_layer: number; n_head: number; n_embd: number }, ctx: number): Record<string, ort.Tensor> {
  const B = items.length;
  const W = Math.max(...items.map((i) => i.inputIds.length));
  const ids = new BigInt64Array(B * W);
  const mask = new BigInt64Array(B * W);
  const pos = new BigInt64Array(B * W);
  items.forEach((it, b) => {
    for (let t = 0; t < W; t++) {
      ids[b * W + t] = BigInt(it.inputIds[t] ?? 0);
      mask[b * W + t] = BigInt(t < it.inputIds.length ? (it.attentionMask?.[t] ?? 1) : 0);
      pos[b * W + t] = BigInt(it.positionIds?.[t] ?? Math.min(t, ctx - 1));
    }
  });
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', ids, [B, W]),
    attention_mask: new ort.Tensor('int64', mask, [B, W]),
    position_ids: new ort.Tensor('int64', pos, [B, W]),
  };
  for (let l = 0; l < cfg.n_layer; l++) {
    for (const kv of ['key', 'value']) feeds[`past_key_values.${l}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [B, cfg.n_head, 0, cfg.n_embd / cfg.n_head]);
  }
  return feeds;
}

if (require.main === module) void runOcclusionBench();
