/**
 * Quadrature rules on [0, 1] for path integrals. Gauss–Legendre with m nodes is exact for polynomials of degree
 * ≤ 2m − 1 and converges exponentially for smooth integrands, where the midpoint rule's error falls only as 1/m²:
 * integrated gradients on deep models reach a small completeness gap with far fewer passes.
 */
export type QuadratureRule = 'gauss-legendre' | 'riemann-midpoint';

export interface Quadrature { nodes: number[]; weights: number[] }

/** Midpoint rule: α_k = (k + ½)/m, equal weights 1/m. */
export function midpointRule(m: number): Quadrature {
  return { nodes: Array.from({ length: m }, (_, k) => (k + 0.5) / m), weights: new Array<number>(m).fill(1 / m) };
}

/** Gauss–Legendre nodes and weights mapped from [−1, 1] to [0, 1] (Newton iteration on P_m, float64). */
export function gaussLegendre(m: number): Quadrature {
  if (!(Number.isInteger(m) && m >= 1)) throw new Error(`Gauss–Legendre needs a whole number of nodes ≥ 1 (got ${m}).`);
  const nodes = new Array<number>(m);
  const weights = new Array<number>(m);
  for (let i = 0; i < Math.ceil(m / 2); i++) {
    // Chebyshev-like first guess of the i-th largest root, then Newton on the three-term recurrence.
    let x = Math.cos((Math.PI * (i + 0.75)) / (m + 0.5));
    let dp = 0;
    for (let iter = 0; iter < 100; iter++) {
      let p0 = 1, p1 = x;
      for (let k = 2; k <= m; k++) {
        const p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      if (m === 1) { p1 = x; p0 = 1; }
      dp = (m * (x * p1 - p0)) / (x * x - 1);
      const dx = p1 / dp;
      x -= dx;
      if (Math.abs(dx) < 1e-15) break;
    }
    const w = 2 / ((1 - x * x) * dp * dp);
    // Map t ∈ [−1, 1] → α = (1 + t)/2 ∈ [0, 1]; weights halve.
    nodes[i] = (1 - x) / 2;
    nodes[m - 1 - i] = (1 + x) / 2;
    weights[i] = weights[m - 1 - i] = w / 2;
  }
  if (m === 1) { nodes[0] = 0.5; weights[0] = 1; }
  return { nodes, weights };
}

export function quadrature(rule: QuadratureRule, m: number): Quadrature {
  return rule === 'gauss-legendre' ? gaussLegendre(m) : midpointRule(m);
}
