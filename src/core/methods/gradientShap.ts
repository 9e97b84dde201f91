/**
 * GradientSHAP (Lundberg & Lee 2017; Captum's GradientShap): expected gradients over a distribution of baselines.
 * Each of N samples draws, from a seeded PRNG, a baseline b (the mean embedding, all zeros, or the embeddings of a
 * sequence of uniformly random vocabulary tokens — one of three, equally likely), Gaussian noise ε on the input
 * (σ = noise × the range of the prompt's embedding values) and α ~ U(0, 1), and takes
 *   φ_i = Σ_h (x + ε − b)_{i,h} · ∂f/∂x_{i,h}(b + α (x + ε − b)).
 * The scores are the mean over samples; their standard error (sd / √N per token) is the sampling error reported.
 * In expectation the scores add up to f(x) − E[f(b)] (up to the noise): a Monte-Carlo integrated gradients over many
 * baselines, so no single arbitrary baseline decides the picture.
 */
import type { GradientBackend } from '../modelRunner';
import { gradientItem, gradientsInBatches, type GradientMethodOptions, type GradientMethodRequest } from './gradientSaliency';
import { gradientMethod } from './gradientMethods';
import { gaussian, mulberry32 } from './smoothGrad';

export const GRADIENT_SHAP_DEFAULT_SAMPLES = 32;
export const GRADIENT_SHAP_DEFAULT_NOISE = 0.1;

export interface GradientShapParams { samples?: number; noiseLevel?: number; seed?: number; vocabSize: number }

export async function gradientShap(
  backend: GradientBackend, req: GradientMethodRequest & GradientShapParams, opts: GradientMethodOptions = {},
): Promise<{ scores: number[]; error: number[]; samples: number; seed: number }> {
  const samples = Math.floor(req.samples ?? GRADIENT_SHAP_DEFAULT_SAMPLES);
  if (!(samples >= 2 && samples <= 4096)) throw new Error(`GradientSHAP samples must be between 2 and 4096 (got ${req.samples}).`);
  const noiseLevel = req.noiseLevel ?? GRADIENT_SHAP_DEFAULT_NOISE;
  if (!(noiseLevel >= 0)) throw new Error(`GradientSHAP noise must be ≥ 0 (got ${req.noiseLevel}).`);
  const seed = (req.seed ?? 0) >>> 0;
  const rand = mulberry32(seed), noise = gaussian(mulberry32(seed ^ 0x9e3779b9));
  const n = req.inputIds.length, h = backend.hiddenSize;
  const x = backend.embed(req.inputIds);
  let lo = Infinity, hi = -Infinity;
  for (const v of x) { if (v < lo) lo = v; if (v > hi) hi = v; }
  const sigma = noiseLevel * (hi - lo);
  const mean = backend.meanEmbedding();
  const diffs: Float32Array[] = [];
  const items = [];
  for (let k = 0; k < samples; k++) {
    const pick = Math.floor(rand() * 3);
    const b = pick === 0 ? new Float32Array(n * h).map((_, j) => mean[j % h]) : pick === 1 ? new Float32Array(n * h)
      : backend.embed(req.inputIds.map(() => Math.min(req.vocabSize - 1, Math.floor(rand() * req.vocabSize))));
    const alpha = rand();
    const d = Float32Array.from(x, (v, j) => v + sigma * noise() - b[j]);
    diffs.push(d);
    items.push(gradientItem(req, Float32Array.from(d, (dv, j) => b[j] + alpha * dv)));
  }
  const { values } = await gradientsInBatches(backend, items, opts);
  const sum = new Float64Array(n), sq = new Float64Array(n);
  values.forEach((v, k) => {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = i * h; j < (i + 1) * h; j++) s += diffs[k][j] * v.grad[j];
      sum[i] += s;
      sq[i] += s * s;
    }
  });
  const scores = Array.from(sum, (s) => s / samples);
  const error = Array.from(sq, (q, i) => Math.sqrt(Math.max(0, q / samples - scores[i] ** 2) * samples / (samples - 1) / samples));
  return { scores, error, samples, seed };
}

export const gradientShapMethod = gradientMethod(
  'gradient-shap',
  'GradientSHAP',
  'Expected gradients: gradient × (input − baseline) at random points between the input (with noise) and baselines drawn from a seeded set (mean embedding, zeros, random tokens). Signed; adds up to f(x) − E[f(baseline)] on average; the standard error of every score is reported. 32 backward passes, batched.',
  true,
  (ctx) => `expected gradient × (input − baseline) of the target log-probability over ${ctx.params.samples ?? GRADIENT_SHAP_DEFAULT_SAMPLES} samples (baselines: mean embedding, zeros, random tokens; noise ${ctx.params.noise ?? GRADIENT_SHAP_DEFAULT_NOISE} of the embeddings' range)`,
  (ctx) => ({ samples: ctx.params.samples ?? GRADIENT_SHAP_DEFAULT_SAMPLES, noise: ctx.params.noise ?? GRADIENT_SHAP_DEFAULT_NOISE, seed: ctx.params.seed ?? 0 }),
  async (ctx, req, progress) => {
    const r = await gradientShap(ctx.runner.gradients!, { ...req, samples: ctx.params.samples, noiseLevel: ctx.params.noise, seed: ctx.params.seed, vocabSize: ctx.runner.info.vocabSize }, { signal: ctx.signal, onProgress: progress, maxTokensPerBatch: ctx.maxTokensPerBatch });
    const n = ctx.prompt.length;
    return { scores: r.scores.slice(0, n), error: r.error.slice(0, n), samples: r.samples, seed: r.seed };
  },
);
