/**
 * Weighted linear fits in float64 for KernelSHAP and LIME: normal equations solved by Cholesky, and a
 * heteroscedasticity-robust (sandwich) standard error of the coefficients from the residuals of sampled rows.
 */

/** Solves A x = b for a symmetric positive (semi)definite A (row-major n×n); a tiny ridge rescues singular A. */
export function solveSymmetric(a: Float64Array, b: Float64Array, n: number): Float64Array {
  return solveFactored(cholesky(a, n), b, n);
}

function solveFactored(l: Float64Array, b: Float64Array, n: number): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[i * n + k] * y[k];
    y[i] = s / l[i * n + i];
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < n; k++) s -= l[k * n + i] * x[k];
    x[i] = s / l[i * n + i];
  }
  return x;
}

/** The inverse of a symmetric positive definite matrix (for covariances). */
export function invertSymmetric(a: Float64Array, n: number): Float64Array {
  const inv = new Float64Array(n * n);
  const e = new Float64Array(n);
  const l = cholesky(a, n);
  for (let j = 0; j < n; j++) {
    e.fill(0);
    e[j] = 1;
    const col = solveFactored(l, e, n);
    for (let i = 0; i < n; i++) inv[i * n + j] = col[i];
  }
  return inv;
}

function cholesky(a: Float64Array, n: number): Float64Array {
  let trace = 0;
  for (let i = 0; i < n; i++) trace += a[i * n + i];
  for (let jitter = 0; ; jitter = jitter ? jitter * 100 : 1e-12 * (trace / Math.max(1, n) || 1)) {
    const l = new Float64Array(n * n);
    let ok = true;
    for (let i = 0; i < n && ok; i++) {
      for (let j = 0; j <= i; j++) {
        let s = a[i * n + j] + (i === j ? jitter : 0);
        for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
        if (i === j) {
          if (!(s > 0)) {
            ok = false;
            break;
          }
          l[i * n + i] = Math.sqrt(s);
        } else l[i * n + j] = s / l[j * n + j];
      }
    }
    if (ok) return l;
    if (jitter > trace) throw new Error('Linear fit: the sampled design is degenerate.');
  }
}

export interface WeightedDesign {
  /** Rows of the design matrix (each of length p). */
  x: Float64Array[];
  y: Float64Array;
  w: Float64Array;
}

/** Xᵀ W X + ridge·I and Xᵀ W y. */
export function normalEquations(d: WeightedDesign, p: number, ridge = 0): { a: Float64Array; b: Float64Array } {
  const a = new Float64Array(p * p);
  const b = new Float64Array(p);
  d.x.forEach((row, k) => {
    const w = d.w[k];
    if (w === 0) return;
    for (let i = 0; i < p; i++) {
      const wi = w * row[i];
      if (wi === 0) continue;
      b[i] += wi * d.y[k];
      for (let j = 0; j <= i; j++) a[i * p + j] += wi * row[j];
    }
  });
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < i; j++) a[j * p + i] = a[i * p + j];
    a[i * p + i] += ridge;
  }
  return { a, b };
}

/**
 * Sandwich covariance A⁻¹ (Σ_k w_k² r_k² x_k x_kᵀ) A⁻¹ of the fitted coefficients, over the rows marked
 * random (rows enumerated exhaustively carry no sampling error).
 */
export function sandwichCovariance(d: WeightedDesign, p: number, a: Float64Array, coef: Float64Array, random: (k: number) => boolean): Float64Array {
  const meat = new Float64Array(p * p);
  d.x.forEach((row, k) => {
    if (!random(k)) return;
    let fit = 0;
    for (let i = 0; i < p; i++) fit += row[i] * coef[i];
    const s = d.w[k] * (d.y[k] - fit);
    const s2 = s * s;
    if (s2 === 0) return;
    for (let i = 0; i < p; i++) {
      if (row[i] === 0) continue;
      for (let j = 0; j < p; j++) meat[i * p + j] += s2 * row[i] * row[j];
    }
  });
  const inv = invertSymmetric(a, p);
  return multiply(multiply(inv, meat, p), inv, p);
}

function multiply(x: Float64Array, y: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const v = x[i * n + k];
      if (v === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j] += v * y[k * n + j];
    }
  }
  return out;
}

/**
 * Weighted ridge regression with an unpenalised intercept, as scikit-learn's Ridge with sample weights:
 * centre X and y by their weighted means, solve (Xcᵀ W Xc + α I) β = Xcᵀ W yc. Returns the coefficients, the
 * intercept, the weighted R² of the fit and the sandwich standard errors over the random rows.
 */
export function weightedRidge(d: WeightedDesign, p: number, alpha: number, random: (k: number) => boolean): { coef: Float64Array; intercept: number; r2: number; stderr: Float64Array } {
  let wSum = 0;
  const xMean = new Float64Array(p);
  let yMean = 0;
  d.x.forEach((row, k) => {
    wSum += d.w[k];
    yMean += d.w[k] * d.y[k];
    for (let i = 0; i < p; i++) xMean[i] += d.w[k] * row[i];
  });
  yMean /= wSum;
  for (let i = 0; i < p; i++) xMean[i] /= wSum;
  const centred: WeightedDesign = { x: d.x.map((row) => Float64Array.from(row, (v, i) => v - xMean[i])), y: Float64Array.from(d.y, (v) => v - yMean), w: d.w };
  const { a, b } = normalEquations(centred, p, alpha);
  const coef = solveSymmetric(a, b, p);
  let intercept = yMean;
  for (let i = 0; i < p; i++) intercept -= coef[i] * xMean[i];
  let ssRes = 0;
  let ssTot = 0;
  d.x.forEach((row, k) => {
    let fit = intercept;
    for (let i = 0; i < p; i++) fit += coef[i] * row[i];
    ssRes += d.w[k] * (d.y[k] - fit) ** 2;
    ssTot += d.w[k] * (d.y[k] - yMean) ** 2;
  });
  const r2 = ssTot > 0 ? 1 - ssRes / ssTot : 1;
  const cov = sandwichCovariance(centred, p, a, coef, random);
  return { coef, intercept, r2, stderr: Float64Array.from({ length: p }, (_, i) => Math.sqrt(Math.max(0, cov[i * p + i]))) };
}
