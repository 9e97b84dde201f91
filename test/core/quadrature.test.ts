/** Quadrature rules for integrated gradients, checked against exact integrals of polynomials and smooth functions. */
import * as assert from 'node:assert';
import { gaussLegendre, midpointRule } from '../../src/core/methods/quadrature';

const integrate = (q: { nodes: number[]; weights: number[] }, f: (x: number) => number): number => q.nodes.reduce((s, x, i) => s + q.weights[i] * f(x), 0);

describe('quadrature on [0, 1]', () => {
  it('Gauss–Legendre with m nodes integrates every monomial of degree ≤ 2m − 1 exactly, and not degree 2m', () => {
    for (const m of [1, 2, 3, 5, 8, 16, 32]) {
      const q = gaussLegendre(m);
      assert.strictEqual(q.nodes.length, m);
      for (let d = 0; d <= 2 * m - 1; d++) {
        const err = Math.abs(integrate(q, (x) => x ** d) - 1 / (d + 1));
        assert.ok(err < 1e-13, `m=${m} degree ${d}: error ${err}`);
      }
      assert.ok(Math.abs(integrate(q, (x) => x ** (2 * m)) - 1 / (2 * m + 1)) > 1e-17, `m=${m}: degree ${2 * m} should not be exact`);
      assert.ok(q.nodes.every((x) => x > 0 && x < 1) && q.weights.every((w) => w > 0));
    }
  });

  it('nodes are symmetric about ½ and increasing', () => {
    const q = gaussLegendre(9);
    for (let i = 0; i < 9; i++) assert.ok(Math.abs(q.nodes[i] + q.nodes[8 - i] - 1) < 1e-14 && Math.abs(q.weights[i] - q.weights[8 - i]) < 1e-14);
    for (let i = 1; i < 9; i++) assert.ok(q.nodes[i] > q.nodes[i - 1]);
  });

  it('beats the midpoint rule with the same nodes on a smooth integrand', () => {
    // A gentle sigmoid ramp, like a unit saturating along the path: ∫₀¹ 1/(1+e^(−5(x−0.3))) dx in closed form.
    const f = (x: number) => 1 / (1 + Math.exp(-5 * (x - 0.3)));
    const F = (x: number) => Math.log(1 + Math.exp(5 * (x - 0.3))) / 5;
    const exact = F(1) - F(0);
    const gl = Math.abs(integrate(gaussLegendre(8), f) - exact);
    const mid = Math.abs(integrate(midpointRule(8), f) - exact);
    assert.ok(gl < mid / 100, `Gauss–Legendre error ${gl}, midpoint ${mid}`);
  });

  it('rejects a node count that is not a positive whole number', () => {
    assert.throws(() => gaussLegendre(0), /whole number/);
    assert.throws(() => gaussLegendre(2.5), /whole number/);
  });
});
