/**
 * SmoothGrad (Smilkov et al. 2017): average the gradient over N noisy copies of the input embeddings,
 * noise ~ N(0, σ²) with σ = noiseLevel × (max − min of the prompt's embedding values). Gaussian noise comes
 * from a seeded PRNG (mulberry32 + Box–Muller) so the same seed reproduces the same scores; the seed is reported.
 */
import type { GradientBackend } from '../modelRunner';
import {
  checkRequest, gradientItem, gradientsInBatches, rowDots, rowNorms, type GradientMethodOptions, type GradientMethodRequest,
  type GradientMethodResult,
} from './gradientSaliency';

export interface SmoothGradParams {
  /** Noisy samples (default 16). */
  samples?: number;
  /** σ relative to the spread of the prompt's embedding values (default 0.1). */
  noiseLevel?: number;
  /** PRNG seed (default 0). */
  seed?: number;
  /** Per-token reduction of the averaged gradient: L2 norm (default) or gradient × input. */
  reduce?: 'l2' | 'grad-x-input';
}

export interface SmoothGradDiagnostics {
  samples: number;
  noiseLevel: number;
  sigma: number;
  seed: number;
  reduce: 'l2' | 'grad-x-input';
  backwardPasses: number;
  calls: number;
}

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function gaussian(rand: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) { const s = spare; spare = undefined; return s; }
    const u = 1 - rand(), v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

export async function smoothGrad(
  backend: GradientBackend,
  req: GradientMethodRequest & SmoothGradParams,
  opts: GradientMethodOptions = {},
): Promise<GradientMethodResult<SmoothGradDiagnostics>> {
  checkRequest(backend, req);
  const samples = Math.floor(req.samples ?? 16);
  if (!(samples >= 1 && samples <= 1024)) throw new Error(`SmoothGrad samples must be between 1 and 1024 (got ${req.samples}).`);
  const noiseLevel = req.noiseLevel ?? 0.1;
  if (!(noiseLevel >= 0)) throw new Error(`SmoothGrad noise level must be ≥ 0 (got ${req.noiseLevel}).`);
  const seed = (req.seed ?? 0) >>> 0;
  const reduce = req.reduce ?? 'l2';
  const x = backend.embed(req.inputIds);
  let lo = Infinity, hi = -Infinity;
  for (const v of x) { if (v < lo) lo = v; if (v > hi) hi = v; }
  const sigma = noiseLevel * (hi - lo);
  const noise = gaussian(mulberry32(seed));
  const items = [gradientItem(req, x)];
  for (let s = 0; s < samples; s++) items.push(gradientItem(req, Float32Array.from(x, (v) => v + sigma * noise())));
  const { values, calls } = await gradientsInBatches(backend, items, opts);
  const avg = new Float64Array(x.length);
  for (let k = 1; k < values.length; k++) for (let j = 0; j < avg.length; j++) avg[j] += values[k].grad[j];
  const mean = Float32Array.from(avg, (v) => v / samples);
  const h = backend.hiddenSize;
  const scores = reduce === 'l2' ? rowNorms(mean, h) : rowDots(mean, x, h);
  return {
    scores,
    score: values[0].score,
    diagnostics: { samples, noiseLevel, sigma, seed, reduce, backwardPasses: items.length, calls },
  };
}
