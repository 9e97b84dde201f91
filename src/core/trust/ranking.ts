/** Orders of tokens by importance, and the seeded random orders every figure is compared with. */
import { mulberry32 } from '../methods/smoothGrad';

/** Token indices (from `candidates`) by descending score; ties keep the earlier token first. */
export function rankByScore(scores: readonly number[], candidates: readonly number[]): number[] {
  return [...candidates].sort((a, b) => scores[b] - scores[a] || a - b);
}

/** A seeded random permutation of `candidates` (Fisher–Yates on mulberry32). */
export function randomOrder(candidates: readonly number[], seed: number): number[] {
  const rand = mulberry32(seed);
  const out = [...candidates];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** How many of n tokens the top k of them are (rounded up, at least one). */
export function topCount(fraction: number, n: number): number {
  return Math.min(n, Math.max(1, Math.ceil(fraction * n - 1e-9)));
}
