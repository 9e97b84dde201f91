/**
 * Signal, noise and signal-to-noise ratio of explanations across variants (Bogaert & Standaert 2024): with
 * a[s][w] the attribution of token w under variant s (a training seed, a method seed, a baseline),
 * signal = Var_w(E_s a) — how much tokens differ on average — and noise = E_w(Var_s a) — how much a token's
 * attribution moves between variants; SNR = signal / noise. Var_w is over the tokens as a population
 * (1/W); Var_s is the sample variance over variants (1/(S − 1)), so noise estimates the variants' spread
 * without bias.
 */

export interface TokenVariation {
  mean: number[];
  /** Sample standard deviation over variants. */
  sd: number[];
  /** Share of variants whose sign agrees with the sign of the mean (1 = every variant agrees). */
  signAgreement: number[];
  /** Every variant gives the token the same (non-zero) sign. */
  stableSign: boolean[];
}

export interface SignalNoise extends TokenVariation {
  signal: number;
  noise: number;
  /** signal / noise; null when noise is zero (every variant identical). */
  snr: number | null;
}

/** a[variant][token]; `tokens` restricts the statistics to some token indices (the others get zeros). */
export function signalNoise(a: readonly (readonly number[])[], tokens?: readonly number[]): SignalNoise {
  const S = a.length;
  if (S < 2) throw new Error('Signal and noise need at least two variants.');
  const W = a[0].length;
  const idx = tokens ?? Array.from({ length: W }, (_, i) => i);
  const mean = new Array<number>(W).fill(0), sd = new Array<number>(W).fill(0);
  const signAgreement = new Array<number>(W).fill(0), stableSign = new Array<boolean>(W).fill(false);
  let noise = 0;
  for (const w of idx) {
    let m = 0;
    for (let s = 0; s < S; s++) m += a[s][w];
    m /= S;
    let v = 0, pos = 0, neg = 0;
    for (let s = 0; s < S; s++) {
      v += (a[s][w] - m) ** 2;
      if (a[s][w] > 0) pos++;
      else if (a[s][w] < 0) neg++;
    }
    v /= S - 1;
    mean[w] = m;
    sd[w] = Math.sqrt(v);
    signAgreement[w] = (m >= 0 ? pos : neg) / S;
    stableSign[w] = pos === S || neg === S;
    noise += v;
  }
  noise /= Math.max(1, idx.length);
  const mm = idx.reduce((s, w) => s + mean[w], 0) / Math.max(1, idx.length);
  const signal = idx.reduce((s, w) => s + (mean[w] - mm) ** 2, 0) / Math.max(1, idx.length);
  return { mean, sd, signAgreement, stableSign, signal, noise, snr: noise > 0 ? signal / noise : null };
}
