/** Signal / noise / SNR on synthetic attributions with known signal and noise, and the sign-stability flags. */
import * as assert from 'node:assert/strict';
import { signalNoise } from '../../src/core/trust/signalNoise';
import { gaussian, mulberry32 } from '../../src/core/methods/smoothGrad';

describe('signal, noise and SNR across variants', () => {
  it('recovers the known signal and noise of synthetic attributions', () => {
    // a[s][w] = μ_w + ε, ε ~ N(0, σ²): noise → σ², signal → Var_w(μ) + σ²/S (the variant means keep σ²/S).
    const W = 400, S = 50, sigma = 0.5;
    const g = gaussian(mulberry32(11));
    const mu = Array.from({ length: W }, (_, w) => Math.sin(w) * 2);
    const a = Array.from({ length: S }, () => mu.map((m) => m + sigma * g()));
    const r = signalNoise(a);
    const mm = mu.reduce((s, v) => s + v, 0) / W;
    const varMu = mu.reduce((s, v) => s + (v - mm) ** 2, 0) / W;
    const expectSignal = varMu + sigma ** 2 / S;
    assert.ok(Math.abs(r.noise - sigma ** 2) / sigma ** 2 < 0.05, `noise ${r.noise} vs ${sigma ** 2}`);
    assert.ok(Math.abs(r.signal - expectSignal) / expectSignal < 0.03, `signal ${r.signal} vs ${expectSignal}`);
    assert.ok(Math.abs(r.snr! - expectSignal / sigma ** 2) / (expectSignal / sigma ** 2) < 0.08);
    // Per-token standard deviations scatter around σ.
    const meanSd = r.sd.reduce((s, v) => s + v, 0) / W;
    assert.ok(Math.abs(meanSd - sigma) < 0.03, `mean sd ${meanSd}`);
  });

  it('pure noise has SNR near 1/S; identical variants have zero noise and no SNR', () => {
    const g = gaussian(mulberry32(5));
    const S = 8;
    const a = Array.from({ length: S }, () => Array.from({ length: 2000 }, () => g()));
    const r = signalNoise(a);
    assert.ok(Math.abs(r.snr! - 1 / S) < 0.02, `snr ${r.snr}`);
    const same = signalNoise([[1, 2, 3], [1, 2, 3]]);
    assert.equal(same.noise, 0);
    assert.equal(same.snr, null);
    assert.ok(same.signal > 0);
  });

  it('flags tokens whose sign is not the same in every variant', () => {
    const a = [
      [1.0, -0.5, 0.2, 0, 3],
      [0.8, -0.7, -0.1, 0, 2],
      [1.2, -0.6, 0.3, 0, -1],
      [0.9, -0.4, 0.1, 0, 4],
    ];
    const r = signalNoise(a);
    assert.deepEqual(r.stableSign, [true, true, false, false, false]);
    assert.deepEqual(r.signAgreement, [1, 1, 0.75, 0, 0.75]);
    assert.ok(Math.abs(r.mean[4] - 2) < 1e-12);
    assert.ok(Math.abs(r.sd[0] - Math.sqrt(((0.025 ** 2) + (0.175 ** 2) + (0.225 ** 2) + (0.075 ** 2)) / 3)) < 1e-12);
  });

  it('restricts the statistics to the given tokens', () => {
    const r = signalNoise([[100, 1, 2], [-100, 1.5, 2.5]], [1, 2]);
    assert.equal(r.mean[0], 0);
    assert.equal(r.stableSign[0], false);
    assert.ok(Math.abs(r.noise - 0.125) < 1e-12);
  });
});
