/**
 * Soft-NC / Soft-NS (Zhao & Aletras 2023, as used by ReAGent): each embedding element of token i is kept
 * with probability sᵢ (sufficiency) or 1 − sᵢ (comprehensiveness), sᵢ the importance scaled to [0, 1], and
 * the rest zeroed; the figure is the Hellinger distance between the full and the masked output
 * distribution, normalised by the sufficiency of an all-masked prompt. Needs a forward pass from embeddings.
 */
import type { GradientBackend } from '../modelRunner';
import { mulberry32 } from '../methods/smoothGrad';
import type { SoftFigures } from './trustReport';

export interface SoftContext {
  backend: GradientBackend;
  inputIds: number[];
  /** Indices of the tokens that may be masked (special tokens stay). */
  visible: number[];
  /** Causal LM: the position whose next-token distribution is compared (the prompt's last). */
  position: number;
  samples: number;
  seed: number;
  /** Items per forward call. */
  batch?: number;
  signal?: AbortSignal;
}

/** Hellinger distance ‖√p − √q‖₂ / √2 ∈ [0, 1] between two distributions given as log-probabilities. */
export function hellinger(lp: Float32Array, lq: Float32Array): number {
  return hellingerFromRoot(rootProbabilities(lp), lq);
}

/** √p of a distribution given as log-probabilities, computed once for the full prompt's many comparisons. */
function rootProbabilities(lp: Float32Array): Float64Array {
  const r = new Float64Array(lp.length);
  for (let i = 0; i < lp.length; i++) r[i] = Math.exp(lp[i] / 2);
  return r;
}

/** hellinger() with √p given: the same operations in the same order, so the same value to the last bit. */
function hellingerFromRoot(rootP: Float64Array, lq: Float32Array): number {
  let s = 0;
  for (let i = 0; i < rootP.length; i++) {
    const d = rootP[i] - Math.exp(lq[i] / 2);
    s += d * d;
  }
  return Math.min(1, Math.sqrt(s / 2));
}

/** Importance scaled to [0, 1] over the visible tokens (min → 0, max → 1; all equal → all 1). */
export function unitImportance(scores: readonly number[], visible: readonly number[]): number[] {
  const vals = visible.map((i) => scores[i]);
  const lo = Math.min(...vals), hi = Math.max(...vals);
  return vals.map((v) => (hi > lo ? (v - lo) / (hi - lo) : 1));
}

export class SoftMasker {
  private full?: Float32Array;
  private rootFull?: Float64Array;
  private s0?: number;
  private readonly embeds: Float32Array;
  private calls = 0;
  constructor(private readonly c: SoftContext) {
    this.embeds = c.backend.embed(c.inputIds);
  }

  get passes(): number { return this.calls; }

  private async run(masks: Float32Array[]): Promise<Float32Array[]> {
    const fwd = this.c.backend.logProbsFromEmbeds!.bind(this.c.backend);
    const out: Float32Array[] = [];
    const step = this.c.batch ?? 16;
    for (let i = 0; i < masks.length; i += step) {
      const items = masks.slice(i, i + step).map((e) => ({ inputsEmbeds: e, inputIds: this.c.inputIds, position: this.c.position }));
      out.push(...(await fwd(items, this.c.signal)));
      this.calls += items.length;
    }
    return out;
  }

  /** Embeddings with each element of visible token v kept with probability keep[v]. */
  private masked(keep: readonly number[], rand: () => number): Float32Array {
    const h = this.c.backend.hiddenSize;
    const e = Float32Array.from(this.embeds);
    this.c.visible.forEach((tok, v) => {
      for (let k = 0; k < h; k++) if (rand() >= keep[v]) e[tok * h + k] = 0;
    });
    return e;
  }

  private async baseline(): Promise<{ full: Float32Array; s0: number }> {
    if (!this.full) {
      const none = this.masked(this.c.visible.map(() => 0), () => 0.5);
      const [full, empty] = await this.run([this.embeds, none]);
      this.full = full;
      this.s0 = 1 - hellinger(full, empty);
    }
    return { full: this.full, s0: this.s0! };
  }

  /** Soft-NC and Soft-NS of one importance vector (already in [0, 1], one value per visible token). */
  async figures(importance: readonly number[], seed: number): Promise<SoftFigures | undefined> {
    const { full, s0 } = await this.baseline();
    if (1 - s0 < 1e-9) return undefined;
    const rand = mulberry32(seed);
    const suff: Float32Array[] = [], comp: Float32Array[] = [];
    for (let k = 0; k < this.c.samples; k++) {
      suff.push(this.masked(importance, rand));
      comp.push(this.masked(importance.map((s) => 1 - s), rand));
    }
    const outs = await this.run([...suff, ...comp]);
    this.rootFull ??= rootProbabilities(full);
    const rootFull = this.rootFull;
    const d = outs.map((q) => hellingerFromRoot(rootFull, q));
    const n = this.c.samples;
    const softS = 1 - d.slice(0, n).reduce((a, b) => a + b, 0) / n;
    const softC = d.slice(n).reduce((a, b) => a + b, 0) / n;
    return { softNC: softC / (1 - s0), softNS: Math.max(0, softS - s0) / (1 - s0) };
  }

  /** The all-masked sufficiency S₀ the figures are normalised by. */
  async emptySufficiency(): Promise<number> {
    return (await this.baseline()).s0;
  }
}
