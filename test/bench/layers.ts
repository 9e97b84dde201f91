/**
 * Layer methods benchmark: per bundled model (and the real-world decoder exports when present) and prompt length
 * (16/64/256 tokens), medians of
 *   - one forward pass of the original model
 *   - one gradient w.r.t. the embeddings (the existing gradient graph), for comparison
 *   - layer gradient × activation: one pass of the layer-cut graph fetching every depth (what the method runs;
 *     goal ≤ 3× the forward pass)
 *   - layer integrated gradients at the middle block with 16 steps (19 items, batched as the method batches)
 * and each ÷ the forward pass, timed in turn round after round, in wall time and in CPU time of the process (all its
 * threads). The forward pass is the exported graph as it is (full logits; fp16 for the genai Llama, slow on CPUs),
 * in the session options of the product's forward runner (sessionOptions.ts: idle threads sleep); the gradient
 * graphs compute the target's row only in fp32.
 *
 * On a shared machine the wall-time ratios of sub-millisecond passes swing with the load: a run is preempted with a
 * probability that grows with its length, and each preemption adds another process's time slice (milliseconds), so
 * the longer gradient pass loses more than the forward pass and its median jumps once preemptions reach half the
 * runs. CPU time leaves out the time spent waiting for a core; the table gives both, the share of calls that
 * waited, and the load average per row (tiny classifier, 64 tokens, 1 thread, load average 9: 5–12 % of the
 * forward passes and 11–25 % of the layer passes waited over 0.25 ms; wall and CPU ratios 2.32–2.54 and 2.30–2.51).
 * Run: PROMPTSCOPE_THREADS=1 node --import tsx test/bench/layers.ts
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { MethodContext } from '../../src/core/methods/method';
import { layerIntegratedGradientsAt } from '../../src/core/methods/layerIntegratedGradients';
import { streamOfLayer } from '../../src/core/layerGradients';
import type { ModelKind } from '../../src/core/modelRunner';
import { Graph } from '../../src/onnx/graph';
import { loadModel } from '../../src/onnx/modelFile';
import { DataType } from '../../src/onnx/tensorData';
import { createGradientBackend } from '../../src/runtime/gradientBackend';
import { createLayerGradientBackend } from '../../src/runtime/layerGradientBackend';
import { sessionOptions } from '../../src/runtime/sessionOptions';
import { median, printTable } from './table';

const REPO = path.resolve(__dirname, '../..');
const REAL_EXPORTS = process.env.PROMPTSCOPE_REAL_EXPORTS ?? path.resolve(REPO, '../shared/fixtures/real-exports');
const MODELS: { name: string; kind: ModelKind; onnx: string; layers: number; context: number }[] = [
  { name: 'promptscope-tiny-lm', kind: 'causal-lm', onnx: path.join(REPO, 'models/promptscope-tiny-lm/onnx/model.onnx'), layers: 4, context: 256 },
  { name: 'promptscope-tiny-sentiment', kind: 'sequence-classifier', onnx: path.join(REPO, 'models/promptscope-tiny-sentiment/onnx/model.onnx'), layers: 2, context: 128 },
  { name: 'genai-gpt2-fused', kind: 'causal-lm', onnx: path.join(REAL_EXPORTS, 'genai-tiny-random-gpt2-fused/past.onnx'), layers: 5, context: 512 },
  { name: 'genai-llama-fp16', kind: 'causal-lm', onnx: path.join(REAL_EXPORTS, 'genai-tiny-random-llama-fp16/model.onnx'), layers: 2, context: 2048 },
];
const THREADS = Number(process.env.PROMPTSCOPE_THREADS) || 0;

interface Cost {
  wall: number;
  cpu: number;
  /** Share of the calls that waited for a core: wall time above CPU time by more than WAITED_MS (medians only). */
  waited?: number;
}
const WAITED_MS = 0.25;

/** Wall and CPU milliseconds (all threads of the process) of one call. */
async function cost(f: () => Promise<unknown>): Promise<Cost> {
  const c = process.cpuUsage();
  const s = process.hrtime.bigint();
  await f();
  const wall = Number(process.hrtime.bigint() - s) / 1e6;
  const d = process.cpuUsage(c);
  return { wall, cpu: (d.user + d.system) / 1e3 };
}

const medians = (xs: Cost[]): Cost => ({ wall: median(xs.map((x) => x.wall)), cpu: median(xs.map((x) => x.cpu)), waited: xs.filter((x) => x.wall - x.cpu > WAITED_MS).length / xs.length });

async function timed(n: number, f: () => Promise<unknown>): Promise<Cost> {
  await f(); // warm-up (and the lazy graph build)
  const t: Cost[] = [];
  for (let i = 0; i < n; i++) t.push(await cost(f));
  return medians(t);
}

/**
 * Medians of several functions timed in turn, round after round, so that load from elsewhere hits them alike. At
 * least `n` rounds, and more (up to 400) until every function has run for half a second in all: medians of 9
 * sub-millisecond passes on a loaded machine varied by a factor of 5 between runs.
 */
async function interleaved(n: number, fs: (() => Promise<unknown>)[]): Promise<Cost[]> {
  for (const f of fs) await f(); // warm-up (and the lazy graph builds)
  const t = fs.map(() => [] as Cost[]);
  for (let i = 0; i < 400 && (i < n || t.some((x) => x.reduce((a, b) => a + b.wall, 0) < 500)); i++) {
    for (const [k, f] of fs.entries()) t[k].push(await cost(f));
  }
  return t.map(medians);
}

function forwardFeeds(g: Graph, ids: number[]): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  const n = ids.length;
  for (const inp of g.inputs) {
    const ints = (v: number[]): ort.Tensor => (inp.elemType === DataType.INT32 ? new ort.Tensor('int32', Int32Array.from(v), [1, n]) : new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), [1, n]));
    if (inp.name === 'input_ids') feeds[inp.name] = ints(ids);
    else if (inp.name === 'attention_mask') feeds[inp.name] = ints(ids.map(() => 1));
    else if (inp.name === 'position_ids') feeds[inp.name] = ints(ids.map((_, i) => i));
    else if (inp.name === 'token_type_ids') feeds[inp.name] = ints(ids.map(() => 0));
    else {
      const dims = (inp.dims ?? []).map((d, i) => (typeof d === 'number' ? d : i === 0 || /batch/.test(String(d)) ? 1 : 0));
      feeds[inp.name] = inp.elemType === DataType.FLOAT16 ? new ort.Tensor('float16', new Uint16Array(0), dims) : new ort.Tensor('float32', new Float32Array(0), dims);
    }
  }
  return feeds;
}

export async function runLayerBench(): Promise<void> {
  const rows: string[][] = [];
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ps-layerbench-'));
  try {
    for (const m of MODELS) {
      if (!fs.existsSync(m.onnx)) { rows.push([m.name, '-', '', 'missing', '', '', '', '', '', '']); continue; }
      const g = Graph.fromModelProto(loadModel(m.onnx));
      const fwd = await ort.InferenceSession.create(m.onnx, { ...sessionOptions(), intraOpNumThreads: THREADS });
      const grads = await createGradientBackend(path.dirname(m.onnx), m.onnx, { kind: m.kind, cacheDir });
      const layers = createLayerGradientBackend(m.onnx, { kind: m.kind, layers: m.layers, intraOpNumThreads: THREADS || undefined });
      const all = Array.from({ length: m.layers + 1 }, (_, s) => s);
      const mid = streamOfLayer('middle', m.layers);
      for (const len of [16, 64, 256]) {
        if (len > m.context) continue;
        const ids = Array.from({ length: len }, (_, i) => (i * 37 + 11) % Math.min(grads.vocabSize, 1000));
        const target = m.kind === 'causal-lm' ? { tokenIds: [ids[len - 1]], positions: [len - 1], weights: [1] } : { tokenIds: [1], positions: [0], weights: [1], classScore: 'log-prob' as const };
        const item = { inputsEmbeds: grads.embed(ids), inputIds: ids, target };
        const load = os.loadavg()[0];
        const [tf, tg, tl] = await interleaved(9, [() => fwd.run(forwardFeeds(g, ids)), () => grads.scoreAndGradient([item]), () => layers.scoreAndLayerGradients([item], all)]);
        const ctx = { runner: { gradients: grads, info: { id: m.name } }, params: { steps: 16, maxSteps: 16 }, special: {}, maxTokensPerBatch: 4096, prompt: [] } as unknown as MethodContext;
        const tig = await timed(3, () => layerIntegratedGradientsAt(ctx, layers, { inputIds: ids, target }, mid, () => undefined));
        const both = (c: Cost, d = 1): string => `${c.wall.toFixed(d)} / ${c.cpu.toFixed(d)}`;
        const over = (c: Cost, d = 2): string => `${(c.wall / tf.wall).toFixed(d)} / ${(c.cpu / tf.cpu).toFixed(d)}`;
        const pct = (c: Cost): string => `${Math.round(100 * (c.waited ?? 0))}`;
        rows.push([m.name, String(len), `${load.toFixed(1)}–${os.loadavg()[0].toFixed(1)}`, both(tf, 2), over(tg), both(tl, 2), over(tl), `${pct(tf)} / ${pct(tl)}`, both(tig, 0), over(tig, 1)]);
      }
    }
  } finally {
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
  printTable('Layer methods: cost over one forward pass (medians, wall / CPU of the process; layer grad × act fetches every depth)',
    ['model', 'tokens', 'load avg', 'fwd ms', 'embeds grad ÷ fwd', 'layer grad×act ms', 'layer ÷ fwd (≤3)', 'waited % fwd / layer', 'layer IG16 ms', 'IG ÷ fwd'], rows);
  console.log(`Threads: ${THREADS || 'onnxruntime default'} (PROMPTSCOPE_THREADS). Load avg: 1-minute load average before and after the row. Waited: share of the timed calls whose wall time exceeded their CPU time by more than ${WAITED_MS} ms (preempted; with several threads CPU time can exceed wall time, so this undercounts). Layer IG16 = 19 items: f(x), the baseline stream, f(baseline stream) and 16 path points.`);
}

if (require.main === module) runLayerBench().catch((e) => { console.error(e); process.exit(1); });
