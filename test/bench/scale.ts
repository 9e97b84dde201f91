/**
 * `npm run bench scale`: Promptscope at real model sizes, against a bare onnxruntime session and PyTorch eager.
 *
 * Models: built on demand by models/build/scale_models.py (seeded random weights in the shapes of SmolLM2-135M and
 * GPT-2 small, cached outside the repository). Per model × method × prompt length (32, 128 tokens), each row in its
 * own child process (test/bench/scaleChild.ts) so that its peak RSS is its own:
 *   compute   the method's own time (result diagnostics; median of the child's repetitions)
 *   call      wall time of the whole explain call (the target's passes included; a gradient method's first pass
 *             may happen there, in the prediction's run), and torch ÷ call
 *   whole     wall time of the child process: node start, model load, method (what one CLI call costs)
 *   load      model load (+ gradient graph from the cache for gradient methods), and ÷ a bare InferenceSession.create
 *   torch     PyTorch eager on the same weights (test/bench/torchScale.py: batched, no_grad where it applies,
 *             threads = cores, OMP_WAIT_POLICY=PASSIVE), run right after the row it compares with, and torch ÷ compute
 *             (goal ≥ 2)
 *   CPU       CPU seconds of every thread: Promptscope's whole explain call (the target's passes included) and
 *             PyTorch's method, and their ratio — what to read when other jobs share the cores and wall times swing
 *   peak RSS  of the child, and ÷ the weight bytes (goals ≤ 1.5 forward-only, ≤ 2.5 gradients); loaded RSS: resident
 *             memory once loaded, before the method's activations (node, tokenizer and sessions), ÷ the weight bytes
 *   Δ torch   largest |ours − PyTorch| over the tokens ÷ largest |PyTorch|: the independent recomputation
 * Plus, per model: the first load with an empty cache (builds the gradient graph) and the cache size.
 * Env: SCALE_MODELS=llama-135m-shape,gpt2-124m-shape  SCALE_LENGTHS=32,128  SCALE_METHODS=occlusion,…  SCALE_REPS=3
 * (repetitions per row; default 3 at ≤ 32 tokens, else 2)  SCALE_TORCH_REPEATS=3 (PyTorch repetitions)
 * SCALE_TRUST=1: rows with trust figures on (the product default; method "+trust" in the table, no PyTorch column).
 * The child is bundled by esbuild as the CLI is (scripts/build.mjs: the same packages external) and run by plain
 * node, so that its memory and start time are the shipped code's (a TypeScript loader adds about 100-180 MB).
 */
import { spawnSync } from 'node:child_process';
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { printTable } from './table';

const REPO = path.resolve(__dirname, '../..');
const PYTHON = '/usr/bin/python3';
const CHILD = path.join(__dirname, 'scaleChild.ts');
const list = (env: string | undefined, dflt: string[]): string[] => (env ? env.split(',').map((s) => s.trim()).filter(Boolean) : dflt);

interface ChildOut {
  loadMs: number; loadedMb?: number; methodPeakMb?: number; forwardLoadMs?: number; computeMs?: number; callMs?: number; cpuMs?: number; peakMb: number; wallMs: number;
  inputIds?: number[]; special?: boolean[]; target?: number; scores?: number[]; params?: Record<string, unknown>;
  diagnostics?: { relativeCompletenessGap?: number[]; quadratureSteps?: number[]; backwardPasses: number; forwardPasses: number };
}

function modelsDir(): string {
  return path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'promptscope', 'scale-models');
}

/** The child bundled as scripts/build.mjs bundles the CLI (same externals), into dist/. */
function bundledChild(): string {
  const out = path.join(REPO, 'dist', 'bench', 'scaleChild.cjs');
  esbuild.buildSync({ entryPoints: [CHILD], outfile: out, bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'warning', external: ['vscode', 'onnxruntime-node', 'onnxruntime-web', 'sharp', '@huggingface/transformers'] });
  return out;
}
let childScript: string | undefined;

function child(args: string[], cacheHome: string): ChildOut {
  childScript ??= bundledChild();
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [childScript, ...args], {
    cwd: REPO, encoding: 'utf8', maxBuffer: 1 << 26, timeout: 1_800_000,
    // The editor's inference process environment (engineClient.ts): a fixed glibc mmap threshold.
    env: { MALLOC_MMAP_THRESHOLD_: '131072', ...process.env, XDG_CACHE_HOME: cacheHome },
  });
  const wallMs = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`scale child ${args.join(' ')} failed: ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-3).join(' | ')}`);
  return { ...(JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildOut), wallMs };
}

function dirBytes(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  return fs.readdirSync(dir, { withFileTypes: true }).reduce((s, e) => s + (e.isDirectory() ? dirBytes(path.join(dir, e.name)) : fs.statSync(path.join(dir, e.name)).size), 0);
}

interface TorchOut { ms: number; cpuMs?: number; scores: number[]; gap?: number | null; steps?: number }

function torchReference(modelDir: string, cases: object[]): TorchOut[] | string {
  if (spawnSync(PYTHON, ['-c', 'import torch, numpy'], { encoding: 'utf8' }).status !== 0) return 'PyTorch columns skipped: /usr/bin/python3 with torch not found (apt-get install python3-torch python3-numpy libopenblas0-pthread).';
  const file = path.join(os.tmpdir(), `ps-scale-cases-${process.pid}.json`);
  fs.writeFileSync(file, JSON.stringify(cases));
  try {
    const r = spawnSync(PYTHON, [path.join(__dirname, 'torchScale.py'), '--model-dir', modelDir, '--cases', file, '--threads', String(os.cpus().length), '--repeats', process.env.SCALE_TORCH_REPEATS ?? '3'], {
      encoding: 'utf8', maxBuffer: 1 << 26, timeout: 3_600_000, env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' },
    });
    if (r.status !== 0) return `PyTorch reference failed for ${modelDir}: ${(r.stderr || '').trim().split('\n').pop()}`;
    return (JSON.parse(r.stdout.trim().split('\n').pop()!) as { results: TorchOut[] }).results;
  } finally {
    fs.rmSync(file, { force: true });
  }
}

const s1 = (ms: number | undefined): string => (ms === undefined ? '' : (ms / 1000).toFixed(2));
const x2 = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : '');

export async function runScaleBench(): Promise<void> {
  const build = spawnSync(PYTHON, [path.join(REPO, 'models/build/scale_models.py'), '--out', modelsDir()], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (build.status !== 0) {
    console.log(`Scale models could not be built (${(build.stderr || build.error?.message || '').trim().split('\n').pop()}). Needs: apt-get install -y python3-torch python3-onnx python3-numpy libopenblas0-pthread; npm install.`);
    return;
  }
  const models = list(process.env.SCALE_MODELS, ['llama-135m-shape', 'gpt2-124m-shape']);
  const lengths = list(process.env.SCALE_LENGTHS, ['32', '128']).map(Number);
  const methods = list(process.env.SCALE_METHODS, ['occlusion', 'gradient-x-input', 'integrated-gradients']);
  const header = ['model', 'method', 'tokens', 'compute s', 'whole s', 'load s', 'load/plain (≤1.5 fwd, ≤2 grad)', 'torch s', 'torch/compute', 'call s', 'torch/call (≥2)', 'CPU s', 'torch CPU s', 'torch CPU/CPU', 'peak RSS MB', 'RSS/weights (≤1.5 fwd, ≤2.5 grad)', 'loaded RSS/weights', 'method peak/weights', 'IG gap %', 'Δ torch'];
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const name of models) {
    const dir = path.join(modelsDir(), name);
    const weights = fs.statSync(path.join(dir, 'onnx', 'model.onnx')).size;
    const cacheHome = fs.mkdtempSync(path.join(os.tmpdir(), `ps-scale-${name}-`));
    try {
      // Bare onnxruntime: median of 3 creates, each in a fresh process.
      const plain = [0, 1, 2].map(() => child(['plain', dir], cacheHome)).sort((a, b) => a.loadMs - b.loadMs)[1];
      const cold = child(['explain', dir, 'gradient-x-input', '32', '1'], cacheHome);
      const cacheMb = dirBytes(path.join(cacheHome, 'promptscope')) / 1e6;
      console.log(`  ${name}: plain create ${s1(plain.loadMs)} s ${plain.peakMb.toFixed(0)} MB; cold gradient load ${s1(cold.loadMs)} s; cache ${cacheMb.toFixed(1)} MB`);
      notes.push(`${name}: ${(weights / 1e6).toFixed(0)} MB of weights; bare InferenceSession.create ${s1(plain.loadMs)} s, ${plain.peakMb.toFixed(0)} MB; first gradient load with an empty cache ${s1(cold.loadMs)} s (forward part ${s1(cold.forwardLoadMs)} s); cache ${cacheMb.toFixed(1)} MB (${((100 * cacheMb * 1e6) / weights).toFixed(1)} % of the model).`);
      const outs: { method: string; length: number; out: ChildOut }[] = [];
      const torch: (TorchOut | undefined)[] = [];
      const trustRows = process.env.SCALE_TRUST === '1';
      for (const method of methods) {
        for (const length of lengths) {
          const out = child(['explain', dir, method, String(length), process.env.SCALE_REPS ?? (length <= 32 ? '3' : '2')], cacheHome);
          outs.push({ method, length, out });
          const row = outs.length - 1;
          if (trustRows) {
            const withTrust = child(['explain', dir, method, String(length), process.env.SCALE_REPS ?? (length <= 32 ? '3' : '2'), 'trust'], cacheHome);
            console.log(`  ${name} ${method}+trust ${length}: compute ${s1(withTrust.computeMs)} s, whole ${s1(withTrust.wallMs)} s, peak ${withTrust.peakMb.toFixed(0)} MB`);
            outs.push({ method: `${method}+trust`, length, out: withTrust });
          }
          // Each row as soon as it is measured, so a long run that is stopped keeps what it has.
          console.log(`  ${name} ${method} ${length}: compute ${s1(out.computeMs)} s, call ${s1(out.callMs)} s (CPU ${s1(out.cpuMs)} s), whole ${s1(out.wallMs)} s, load ${s1(out.loadMs)} s (plain ${s1(plain.loadMs)} s), peak ${out.peakMb.toFixed(0)} MB${out.loadedMb === undefined ? "" : `, ${out.loadedMb.toFixed(0)} MB once loaded`}`);
          // PyTorch right after the row, so that both see the same load on a shared machine.
          const c = { method, inputIds: out.inputIds, special: out.special, target: out.target, rule: out.params?.rule ?? 'gauss-legendre', steps: out.diagnostics?.quadratureSteps?.[0] ?? out.params?.steps, firstSteps: out.params?.steps, maxSteps: out.params?.maxSteps };
          const t = torchReference(dir, [c]);
          if (typeof t === 'string') {
            if (!notes.includes(t)) notes.push(t);
            continue;
          }
          torch[row] = t[0];
          console.log(`  ${name} ${method} ${length}: torch ${s1(t[0].ms)} s (CPU ${s1(t[0].cpuMs)} s)${typeof t[0].gap === 'number' ? `, torch IG gap ${(100 * t[0].gap).toPrecision(2)} % at ${c.steps} nodes` : ''}`);
          if (typeof t[0].gap === 'number') notes.push(`${name} integrated gradients ${length} tokens: ${c.steps} ${c.rule} ${c.rule === 'adaptive' ? `intervals (PyTorch's own refinement: ${t[0].steps})` : 'nodes'}, ${out.diagnostics?.backwardPasses ?? NaN} passes; relative completeness gap ${(100 * (out.diagnostics?.relativeCompletenessGap?.[0] ?? NaN)).toPrecision(2)} % (Promptscope), ${(100 * t[0].gap).toPrecision(2)} % (PyTorch, same nodes and baseline).`);
        }
      }
      if (trustRows) notes.push(`${name} +trust rows: trust figures on (faithfulness and Soft-NC / Soft-NS after the method); compute = the method and its trust figures.`);
      outs.forEach(({ method, length, out }, i) => {
        const t = torch[i];
        const diff = t && out.scores ? Math.max(...out.scores.map((v, k) => Math.abs(v - t.scores[k]))) / Math.max(1e-12, ...t.scores.map(Math.abs)) : NaN;
        const gap = out.diagnostics?.relativeCompletenessGap?.[0];
        rows.push([name, method, String(length), s1(out.computeMs), s1(out.wallMs), s1(out.loadMs), x2(out.loadMs / plain.loadMs), t ? s1(t.ms) : '', t ? x2(t.ms / out.computeMs!) : '',
          s1(out.callMs), t && out.callMs ? x2(t.ms / out.callMs) : '',
          out.cpuMs === undefined ? '' : s1(out.cpuMs), t?.cpuMs === undefined ? '' : s1(t.cpuMs), t?.cpuMs && out.cpuMs ? x2(t.cpuMs / out.cpuMs) : '',
          out.peakMb.toFixed(0), x2((out.peakMb * 1048576) / weights), out.loadedMb === undefined ? '' : x2((out.loadedMb * 1048576) / weights), out.methodPeakMb === undefined ? '' : x2((out.methodPeakMb * 1048576) / weights), gap === undefined ? '' : (100 * gap).toPrecision(2), Number.isFinite(diff) ? diff.toExponential(1) : '']);
      });
    } finally {
      fs.rmSync(cacheHome, { recursive: true, force: true });
    }
  }
  printTable('Scale models (ratios measured side by side in this run)', header, rows);
  for (const n of notes) console.log(n);
  console.log('whole = one child process: node start, load, method (trust figures off, as --no-trust, unless +trust). method peak: the peak RSS while the method ran (the load\'s own peak reset), ÷ the weight bytes. IG: PyTorch runs only the final quadrature rule of an adaptive run.');
}

if (require.main === module) runScaleBench().catch((e) => { console.error(e); process.exit(1); });
