/**
 * Adaptive path integral for integrated gradients: Simpson panels in t with α = t², split where they disagree.
 *
 * A fixed rule spends its nodes evenly (or by a fixed pattern), but a deep model's path integrand is rough in a few
 * places only: a Llama whose baseline embedding is almost zero swings within α < 0.01 (every RMSNorm sees an input of
 * almost no length there) and is flat beyond α = 0.3; a ReLU/GELU network can kink in the middle of the path. Here
 * [0, 1] ∋ t is cut into panels of five equally spaced points; each panel compares Simpson's rule on its three
 * coarse points with composite Simpson on all five (their difference estimates the panel's error, and Richardson
 * extrapolation of the two is Boole's rule, which the panel contributes). While the relative completeness gap is
 * above the target, the panels with the largest error estimates are halved: each half reuses three of its parent's
 * points and adds two, so every node is evaluated once. α = t² packs the first panel's nodes near the baseline
 * (t = 1/16 is α = 0.004), and t = 0 has weight 0 (dα/dt = 2t).
 */
import type { PathEndpoints, PathIntegrand, PathRefinement } from './pathRefinement';

interface Panel { a: number; b: number; est: number }

/** Path points the adaptive rule may evaluate (its budget) for steps … maxSteps: maxSteps − 1 (t = 0 and 1 are the endpoints). */
export function adaptiveBudget(steps: number, maxSteps: number): number {
  return Math.max(initialIntervals(steps), Math.floor(maxSteps / 4) * 4) - 1;
}

/** Intervals of the first round: steps rounded up to a multiple of 4 (whole panels). */
export function initialIntervals(steps: number): number {
  return Math.max(4, Math.ceil(steps / 4) * 4);
}

export async function adaptivePath(o: PathIntegrand & { steps: number; maxSteps: number }): Promise<PathRefinement> {
  const first = initialIntervals(o.steps);
  const budget = adaptiveBudget(o.steps, o.maxSteps);
  // h(t) = dα/dt · c(α) at each t evaluated (t are dyadic fractions: exact keys).
  const h = new Map<number, Float64Array>();
  let ends: PathEndpoints | undefined;
  let points = 0;
  const fetch = async (ts: number[]): Promise<void> => {
    const missing = [...new Set(ts)].filter((t) => t !== 0 && t !== 1 && !h.has(t));
    if (missing.length === 0 && ends) return;
    const values = await o.evaluate(missing.map((t) => t * t), points);
    missing.forEach((t, k) => h.set(t, values[k].map((v) => 2 * t * v)));
    points += missing.length;
    if (!ends) {
      ends = o.endpoints();
      h.set(0, new Float64Array(ends.atInput.length)).set(1, ends.atInput.map((v) => 2 * v));
    }
  };
  const pointsOf = (p: Panel) => [0, 1, 2, 3, 4].map((k) => p.a + ((p.b - p.a) * k) / 4);
  let panels: Panel[] = Array.from({ length: first / 4 }, (_, k) => ({ a: (4 * k) / first, b: (4 * (k + 1)) / first, est: 0 }));
  await fetch(panels.flatMap(pointsOf));
  const n = ends!.atInput.length;
  const rounds: number[] = [];
  let scores: number[] = [], gap = 0, rel = 0;
  for (;;) {
    const acc = new Float64Array(n);
    for (const p of panels) {
      const [f0, f1, f2, f3, f4] = pointsOf(p).map((t) => h.get(t)!);
      const w = p.b - p.a;
      let est = 0;
      for (let i = 0; i < n; i++) {
        const s1 = (w / 6) * (f0[i] + 4 * f2[i] + f4[i]);
        const s2 = (w / 12) * (f0[i] + 4 * f1[i] + 2 * f2[i] + 4 * f3[i] + f4[i]);
        acc[i] += s2 + (s2 - s1) / 15;
        est += Math.abs(s2 - s1) / 15;
      }
      p.est = est;
    }
    scores = Array.from(acc);
    gap = Math.abs(scores.reduce((s, v) => s + v, 0) - ends!.span);
    rel = gap === 0 ? 0 : gap / Math.max(Math.abs(ends!.span), 1e-12);
    rounds.push(4 * panels.length);
    // Halve the panels whose error estimate is at least the mean (at least the worst one), within the budget.
    const room = Math.floor((budget - points) / 4);
    if (rel <= o.target || room < 1) break;
    const mean = panels.reduce((s, p) => s + p.est, 0) / panels.length;
    const split = new Set([...panels].sort((x, y) => y.est - x.est).filter((p, k) => k === 0 || p.est >= mean).slice(0, room));
    panels = panels.flatMap((p) => (split.has(p) ? [{ a: p.a, b: (p.a + p.b) / 2, est: 0 }, { a: (p.a + p.b) / 2, b: p.b, est: 0 }] : [p]));
    await fetch(panels.flatMap(pointsOf));
  }
  return { scores, gap, relativeGap: rel, steps: rounds[rounds.length - 1], rounds, points };
}
