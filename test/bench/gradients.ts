/**
 * Gradient benchmark: per bundled model and prompt length (16/64/256 tokens)
 *   - one gradient (forward+backward of the augmented graph) ÷ one forward pass of the original model (goal ≤ 3)
 *   - integrated gradients with 32 steps (batched as the app batches) ÷ the same 34 items one call each (goal ≤ 1.2)
 *   - the same gradient in PyTorch (test/bench/torchGradients.py, same weights, same thread count) and
 *     grad ÷ torch (goal < 1); skipped with a note when Debian's python3-torch / python3-onnx are missing
 *   - peak RSS of this process so far (getrusage maxrss: a running maximum, so it includes earlier rows).
 * Models: the bundled ones, plus the real-world contrib-op exports beside the project when present.
 * Run: PROMPTSCOPE_THREADS=1 node --import tsx test/bench/gradients.ts   (sets both sessions' and torch's threads)
 */
import * as ort from 'onnxruntime-node';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadModel } from '../../src/onnx/modelFile';
import { Graph } from '../../src/onnx/graph';
import { DataType } from '../../src/onnx/tensorData';
import { createGradientBackend } from '../../src/runtime/gradientBackend';
import { integratedGradients } from '../../src/core/methods/integratedGradients';
import type { ModelKind } from '../../src/core/modelRunner';

const REPO = path.resolve(__dirname, '../..');
const REAL_EXPORTS = process.env.PROMPTSCOPE_REAL_EXPORTS ?? path.resolve(REPO, '../shared/fixtures/real-exports');
/** Bundled models, then real-world exports with contrib ops (skipped when the fixtures folder is absent). */
const MODELS: { name: string; kind: ModelKind; onnx: string; context?: number; bundled?: boolean }[] = [
  { name: 'promptscope-tiny-lm', kind: 'causal-lm', onnx: path.join(REPO, 'models/promptscope-tiny-lm/onnx/model.onnx'), bundled: true },
  { name: 'promptscope-tiny-sentiment', kind: 'sequence-classifier', onnx: path.join(REPO, 'models/promptscope-tiny-sentiment/onnx/model.onnx'), bundled: true },
  { name: 'genai-gpt2-fused', kind: 'causal-lm', onnx: path.join(REAL_EXPORTS, 'genai-tiny-random-gpt2-fused/past.onnx'), context: 512 },
  { name: 'genai-llama-fp16', kind: 'causal-lm', onnx: path.join(REAL_EXPORTS, 'genai-tiny-random-llama-fp16/model.onnx'), context: 2048 },
];
const THREADS = Number(process.env.PROMPTSCOPE_THREADS) || 0;
const PYTHON = '/usr/bin/python3';

interface TorchTiming { ms: number; score: number }

/** Times the bundled model's gradient in PyTorch; a reason string when PyTorch is not available. */
function torchTimings(modelDir: string, kind: ModelKind, lengths: number[]): Map<number, TorchTiming> | string {
  const probe = spawnSync(PYTHON, ['-c', 'import torch, onnx'], { encoding: 'utf8' });
  if (probe.status !== 0) return 'PyTorch column skipped: /usr/bin/python3 with torch and onnx not found (apt-get install python3-torch python3-onnx libopenblas0-pthread).';
  const threads = THREADS || os.cpus().length; // onnxruntime's default is one thread per core
  const r = spawnSync(PYTHON, [path.join(__dirname, 'torchGradients.py'), '--model-dir', modelDir, '--kind', kind, '--lengths', lengths.join(','), '--threads', String(threads)], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) return `PyTorch timing failed for ${modelDir}: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`;
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { results: ({ length: number } & TorchTiming)[] };
  return new Map(out.results.map((x) => [x.length, { ms: x.ms, score: x.score }]));
}

async function median(n: number, f: () => Promise<unknown>): Promise<number> {
  await f(); // warm-up
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = process.hrtime.bigint();
    await f();
    t.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)];
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
      // KV-cache inputs: empty past (batch 1, past length 0).
      const dims = (inp.dims ?? []).map((d, i) => (typeof d === 'number' ? d : i === 0 || /batch/.test(String(d)) ? 1 : 0));
      feeds[inp.name] = inp.elemType === DataType.FLOAT16 ? new ort.Tensor('float16', new Uint16Array(0), dims) : new ort.Tensor('float32', new Float32Array(0), dims);
    }
  }
  return feeds;
}

export async function runGradientBench(): Promise<void> {
  const rows: string[][] = [['model', 'tokens', 'fwd ms', 'grad ms', 'grad/fwd (≤3)', 'IG32 ms', '34×grad ms', 'IG/sep (≤1.2)', 'torch ms', 'grad/torch (<1)', 'peak RSS MB']];
  const blank = (m: string, t: string, why: string): string[] => [m, t, why, ...Array(rows[0].length - 3).fill('')];
  const notes: string[] = [];
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ps-gradbench-'));
  const peakMb = (): string => (process.resourceUsage().maxRSS / 1024).toFixed(0); // maxRSS is in KiB
  try {
    for (const m of MODELS) {
      const onnx = m.onnx;
      if (!fs.existsSync(onnx)) { rows.push(blank(m.name, '-', 'missing')); continue; }
      const g = Graph.fromModelProto(loadModel(onnx));
      // Same thread count for both sessions (PROMPTSCOPE_THREADS, as the runtime uses): a fair ratio.
      const fwd = await ort.InferenceSession.create(onnx, { intraOpNumThreads: THREADS });
      const backend = await createGradientBackend(path.dirname(onnx), onnx, { kind: m.kind, cacheDir });
      const modelDir = path.dirname(path.dirname(onnx));
      const cfgFile = path.join(modelDir, 'config.json');
      const cfg = fs.existsSync(cfgFile) ? (JSON.parse(fs.readFileSync(cfgFile, 'utf8')) as Record<string, number>) : {};
      const context = m.context ?? cfg.n_positions ?? cfg.max_position_embeddings ?? 256;
      const lengths = [16, 64, 256].filter((l) => l <= context);
      // PyTorch only rebuilds the bundled architectures (models/build), run before the ORT timings so the two never overlap.
      let torch: Map<number, TorchTiming> | undefined;
      if (m.bundled) {
        const t = torchTimings(modelDir, m.kind, lengths);
        if (typeof t === 'string') { if (!notes.includes(t)) notes.push(t); } else torch = t;
      }
      for (const len of [16, 64, 256]) {
        if (len > context) { rows.push(blank(m.name, String(len), `> context ${context}`)); continue; }
        const ids = Array.from({ length: len }, (_, i) => (i * 37 + 11) % Math.min(backend.vocabSize, 1000));
        const target = m.kind === 'causal-lm' ? { tokenIds: [ids[len - 1]], positions: [len - 1], weights: [1] } : { tokenIds: [1], positions: [0], weights: [1] };
        const item = { inputsEmbeds: backend.embed(ids), inputIds: ids, target };
        const tf = await median(7, () => fwd.run(forwardFeeds(g, ids)));
        const tg = await median(7, () => backend.scoreAndGradient([item]));
        const tig = await median(3, () => integratedGradients(backend, { inputIds: ids, target, steps: 32 }));
        const tsep = await median(3, async () => { for (let k = 0; k < 34; k++) await backend.scoreAndGradient([item]); });
        const tt = torch?.get(len);
        if (tt) {
          const ours = (await backend.scoreAndGradient([item]))[0].score;
          if (Math.abs(ours - tt.score) > 1e-3 * Math.max(1, Math.abs(tt.score))) notes.push(`${m.name} ${len}: PyTorch score ${tt.score} differs from ours ${ours}; its timing is not comparable.`);
        }
        rows.push([m.name, String(len), tf.toFixed(1), tg.toFixed(1), (tg / tf).toFixed(2), tig.toFixed(0), tsep.toFixed(0), (tig / tsep).toFixed(2),
          tt ? tt.ms.toFixed(1) : '', tt ? (tg / tt.ms).toFixed(2) : '', peakMb()]);
      }
    }
  } finally {
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
  const w = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) console.log(r.map((v, c) => v.padStart(w[c])).join('  '));
  console.log('IG32 includes the f(x) and f(baseline) items (34 gradient items); "34×grad" runs the same 34 items one call each.');
  console.log(`Threads: ${THREADS || 'onnxruntime default'} (PROMPTSCOPE_THREADS); PyTorch uses ${THREADS || os.cpus().length}.`);
  for (const n of notes) console.log(n);
}

if (require.main === module) runGradientBench().catch((e) => { console.error(e); process.exit(1); });
