/**
 * Attention benchmarks on promptscope-tiny-lm:
 *  - AtMan wall time against the same passes (identical sequences and batches) run as raw batched onnxruntime
 *    calls on the exported model with the engine's session options, tensors prepared outside the timing. The engine may beat that floor: it
 *    computes the prefix before the first suppressed token once and the LM head only at the rows it reads.
 *  - Attention extraction: one pass on the attention graph reading every layer's probabilities, against one
 *    plain forward pass of the exported model on the same sequence.
 *  - Graph rewrite time (build from the .onnx, and opening the cached graph).
 *  - Cause recovery of the attention methods on the held-out prompts (as `bench causes` for the others).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { explain } from '../../src/core/explain';
import type { ForwardItem, SuppressedItem } from '../../src/core/modelRunner';
import { buildAttentionGraph } from '../../src/onnx/attention/attentionModel';
import { loadModel as loadOnnx } from '../../src/onnx/modelFile';
import { openAttentionSession } from '../../src/runtime/attentionBackend';
import { ensureAttention, loadModel } from '../../src/runtime/loadedModel';
import { median, printTable } from './table';

const WORDS = 'The quick brown fox jumps over the lazy dog while Alice tells Bob that the capital of France is Paris and'.split(' ');

function promptOf(tokens: number, encode: (t: string) => number): string {
  let text = '';
  for (let i = 0; encode(text) < tokens; i++) text += (i ? ' ' : '') + WORDS[i % WORDS.length];
  return text;
}

type Cfg = { n_layer: number; n_head: number; n_embd: number };

function rawFeeds(items: ForwardItem[], cfg: Cfg): Record<string, ort.Tensor> {
  const B = items.length;
  const W = Math.max(...items.map((i) => i.inputIds.length));
  const ids = new BigInt64Array(B * W), mask = new BigInt64Array(B * W), pos = new BigInt64Array(B * W);
  items.forEach((it, b) => {
    for (let t = 0; t < W; t++) {
      ids[b * W + t] = BigInt(it.inputIds[t] ?? 0);
      mask[b * W + t] = BigInt(t < it.inputIds.length ? 1 : 0);
      pos[b * W + t] = BigInt(t);
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

async function timeRaw(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>[], runs: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    for (const f of feeds) await session.run(f, ['logits']);
    times.push(performance.now() - t0);
  }
  return median(times);
}

export async function runAttentionBench(runs = 5): Promise<void> {
  const lm = await loadModel('promptscope-tiny-lm');
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'ps-attn-bench-'));
  await ensureAttention(lm, cache);
  const backend = lm.runner.attention!;
  // Raw passes use the engine's own session options (idle threads sleep), so the ratios compare the work only.
  const session = await ort.InferenceSession.create(lm.folder.onnxPath, { graphOptimizationLevel: 'all', executionMode: 'sequential', extra: { session: { intra_op: { allow_spinning: '0' } } } });
  const plainSession = session;
  const cfg = lm.folder.config as Cfg;
  const encode = (t: string) => lm.tokenizer.encodePrompt(t).length;

  const atmanRows: (string | number)[][] = [];
  const extractRows: (string | number)[][] = [];
  for (const length of [16, 64, 250]) {
    const text = promptOf(length, encode);
    const recorded: SuppressedItem[][] = [];
    const scoreSuppressed = backend.scoreSuppressed.bind(backend);
    backend.scoreSuppressed = (items, signal) => (recorded.push(items), scoreSuppressed(items, signal));
    const req = { text, methods: ['atman'], target: { kind: 'next-token' as const }, trust: false };
    await explain(req, lm); // warm-up and recording
    backend.scoreSuppressed = scoreSuppressed;
    const engine: number[] = [];
    let passes = 0;
    for (let i = 0; i < runs; i++) {
      const r = await explain(req, lm);
      engine.push(r.runs[0].diagnostics.elapsedMs);
      passes = r.runs[0].diagnostics.forwardPasses;
    }
    const raw = await timeRaw(session, recorded.map((b) => rawFeeds(b, cfg)), runs);
    const e = median(engine);
    atmanRows.push([length, passes, recorded.length, e.toFixed(1), raw.toFixed(1), (e / raw).toFixed(2)]);

    // Extraction: the attention pass vs one plain pass, same sequence.
    const ids = lm.tokenizer.encodePrompt(text).map((t) => t.id);
    const plain = rawFeeds([{ inputIds: ids, queries: [] }], cfg);
    await backend.attention({ inputIds: ids });
    await plainSession.run(plain, ['logits']);
    const reps = length >= 250 ? 10 : 30;
    const tAttn: number[] = [], tPlain: number[] = [];
    for (let i = 0; i < reps; i++) {
      let t0 = performance.now();
      await backend.attention({ inputIds: ids });
      tAttn.push(performance.now() - t0);
      t0 = performance.now();
      await plainSession.run(plain, ['logits']);
      tPlain.push(performance.now() - t0);
    }
    const best = (xs: number[]) => Math.min(...xs);
    extractRows.push([ids.length, median(tAttn).toFixed(2), median(tPlain).toFixed(2), (median(tAttn) / median(tPlain)).toFixed(2), (best(tAttn) / best(tPlain)).toFixed(2)]);
  }
  printTable('AtMan on promptscope-tiny-lm (next-token target, f = 0.9; goal: engine / raw ≤ 1.0)', ['tokens', 'forward passes', 'batches', 'engine ms (median)', 'raw ORT ms (median)', 'engine / raw'], atmanRows);
  printTable('Attention extraction: every layer\'s probabilities vs one plain forward pass (goal ≤ 1.3×)', ['tokens', 'attention pass ms (median)', 'plain pass ms (median)', 'ratio of medians', 'ratio of fastest runs'], extractRows);

  const rewriteRows = [await rewriteRow('promptscope-tiny-lm', lm.folder.onnxPath, 3)];
  const large = largeModel();
  if (large) rewriteRows.push(await rewriteRow(`GPT-2-shaped, random weights (${(large.parameters / 1e6).toFixed(0)}M parameters)`, large.onnx, 1));
  else console.log('\n(the 135M-parameter rewrite row needs /usr/bin/python3 with torch to write the model; skipped)');
  printTable('Attention graph rewrite (build = read .onnx, rewrite, write the cache entry, open the session)', ['model', 'layers found', 'rewrite ms', 'build + open ms', 'open cached ms', 'plain ORT open ms', 'cached graph bytes', 'weight bytes referenced, not copied'], rewriteRows);

  // Cause recovery, as bench/causeRecovery.ts counts it (signed: the highest score).
  const methods = ['attention', 'attention-rollout', 'atman'];
  const file = path.resolve(__dirname, '../../models/promptscope-tiny-lm/eval/heldout.jsonl');
  const examples = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { prompt: string; expected: string; cause: { start: number; end: number } }).slice(0, 120);
  const hits = new Map(methods.map((m) => [m, 0]));
  let used = 0, chance = 0;
  for (const ex of examples) {
    const r = await explain({ text: ex.prompt, methods, target: { kind: 'next-token' }, trust: false }, lm);
    const predicted = r.target.rows[0].text;
    if (!ex.expected.startsWith(predicted) || predicted.trim() === '') continue;
    used++;
    const visible = r.input.tokens.filter((t) => !t.special);
    chance += visible.filter((t) => t.start < ex.cause.end && t.end > ex.cause.start).length / visible.length;
    for (const run of r.runs) {
      const top = visible.reduce((a, b) => (run.scores[0][b.index] > run.scores[0][a.index] ? b : a));
      if (top.start < ex.cause.end && top.end > ex.cause.start) hits.set(run.method, hits.get(run.method)! + 1);
    }
  }
  printTable('Cause recovery of the attention methods on held-out prompts the tiny LM answers correctly', ['method', 'prompts', 'top-1 hit rate', 'chance'], methods.map((m) => [m, used, `${((100 * hits.get(m)!) / used).toFixed(1)}%`, `${((100 * chance) / used).toFixed(1)}%`]));
  fs.rmSync(cache, { recursive: true, force: true });
}

/** Rewrite, build-and-open, open-cached and plain-open times of one model (medians over `runs`). */
async function rewriteRow(title: string, onnxPath: string, runs: number): Promise<(string | number)[]> {
  const rewrite: number[] = [], build: number[] = [], open: number[] = [], plain: number[] = [];
  let layers = 0, referenced = 0, cachedBytes = 0;
  for (let i = 0; i < runs; i++) {
    const model = loadOnnx(onnxPath);
    let t0 = performance.now();
    const a = buildAttentionGraph(model);
    rewrite.push(performance.now() - t0);
    layers = a.layers;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ps-rewrite-'));
    t0 = performance.now();
    const built = await openAttentionSession(onnxPath, dir);
    build.push(performance.now() - t0);
    await built.session.release();
    t0 = performance.now();
    const cached = await openAttentionSession(onnxPath, dir);
    open.push(performance.now() - t0);
    referenced = cached.meta.referencedBytes;
    await cached.session.release();
    for (const d of fs.readdirSync(dir)) cachedBytes = fs.statSync(path.join(dir, d, 'model.onnx')).size;
    fs.rmSync(dir, { recursive: true, force: true });
    t0 = performance.now();
    const s = await ort.InferenceSession.create(onnxPath, { graphOptimizationLevel: 'all' });
    plain.push(performance.now() - t0);
    await s.release();
  }
  return [title, layers, median(rewrite).toFixed(0), median(build).toFixed(0), median(open).toFixed(0), median(plain).toFixed(0), cachedBytes, referenced];
}

/** The 135M-parameter bench model, written once into the cache by test/bench/largeModel.py. */
function largeModel(): { onnx: string; parameters: number } | undefined {
  const dir = path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'promptscope', 'bench-models', 'gpt2-135m');
  const onnx = path.join(dir, 'onnx', 'model.onnx');
  if (!fs.existsSync(path.join(dir, 'params.json'))) {
    const r = spawnSync('/usr/bin/python3', [path.join(__dirname, 'largeModel.py'), dir], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    if (r.status !== 0 || !fs.existsSync(onnx)) return undefined;
  }
  return { onnx, parameters: (JSON.parse(fs.readFileSync(path.join(dir, 'params.json'), 'utf8')) as { parameters: number }).parameters };
}

if (require.main === module) void runAttentionBench();
