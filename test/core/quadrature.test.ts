/** Quadrature rules for integrated gradients, checked against exact integrals of polynomials and smooth functions. */
import * as assert from 'node:assert';
import { clenshawCurtis, gaussLegendre, gradedClenshawCurtis, midpointRule } from '../../src/core/methods/quadrature';
import { plannedNodes, refinePath } from '../../src/core/methods/pathRefinement';
import { adaptivePath } from '../../src/core/methods/adaptivePath';

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

  it('Clenshaw–Curtis with n intervals integrates every monomial of degree ≤ n exactly (n + 1 for even n), with positive weights', () => {
    for (const n of [1, 2, 3, 4, 8, 16, 32, 64]) {
      const q = clenshawCurtis(n);
      assert.strictEqual(q.nodes.length, n + 1);
      assert.ok(q.nodes[0] === 0 && q.nodes[n] === 1 && q.weights.every((w) => w > 0));
      for (let i = 1; i <= n; i++) assert.ok(q.nodes[i] > q.nodes[i - 1]);
      const exactTo = n % 2 === 0 ? n + 1 : n;
      for (let d = 0; d <= exactTo; d++) {
        const err = Math.abs(integrate(q, (x) => x ** d) - 1 / (d + 1));
        assert.ok(err < 1e-13, `n=${n} degree ${d}: error ${err}`);
      }
    }
    // Independent check against the closed forms: n = 2 is Simpson's rule, n = 1 the trapezoid.
    assert.deepStrictEqual(clenshawCurtis(1).weights, [0.5, 0.5]);
    clenshawCurtis(2).weights.forEach((w, j) => assert.ok(Math.abs(w - [1 / 6, 2 / 3, 1 / 6][j]) < 1e-15));
  });

  it('doubling a Clenshaw–Curtis rule keeps every node bit for bit (nested), graded or not', () => {
    for (const [a, b] of [[4, 8], [16, 32], [32, 64], [24, 48]]) {
      for (const rule of [clenshawCurtis, gradedClenshawCurtis]) {
        const coarse = rule(a), fine = rule(b);
        coarse.nodes.forEach((x, j) => assert.strictEqual(fine.nodes[2 * j], x, `n=${a}: node ${j}`));
      }
    }
  });

  it('graded Clenshaw–Curtis (α = t²) is exact for polynomials of α up to degree ⌊(n − 1)/2⌋, gives α = 0 weight 0 and clusters nodes near 0', () => {
    for (const n of [2, 4, 8, 16, 32]) {
      const q = gradedClenshawCurtis(n);
      assert.strictEqual(q.weights[0], 0);
      assert.ok(Math.abs(q.weights.reduce((s, w) => s + w, 0) - 1) < 1e-14);
      // α^d = t^(2d), times dα/dt = 2t: degree 2d + 1 in t.
      for (let d = 0; 2 * d + 1 <= (n % 2 === 0 ? n + 1 : n); d++) {
        const err = Math.abs(integrate(q, (x) => x ** d) - 1 / (d + 1));
        assert.ok(err < 1e-13, `n=${n} degree ${d}: error ${err}`);
      }
    }
    const g = gradedClenshawCurtis(16), gl = gaussLegendre(16);
    assert.ok(g.nodes.filter((a) => a > 0 && a < 0.01).length >= 3 * gl.nodes.filter((a) => a < 0.01).length, 'more nodes in (0, 0.01) than Gauss–Legendre');
  });

  it('graded Clenshaw–Curtis beats Gauss–Legendre with as many nodes on an integrand with a sharp feature at the baseline', () => {
    // A fast swing within α < 0.01, then flat, like d log p/dα along a path that starts at a near-zero embedding:
    // f(α) = tanh(α/ε) with ε = 0.003, so ∫₀¹ f'(α) dα = tanh(1/ε) exactly.
    const eps = 0.003;
    const fp = (a: number) => 1 / (eps * Math.cosh(a / eps) ** 2);
    const exact = Math.tanh(1 / eps);
    const cc = Math.abs(integrate(gradedClenshawCurtis(32), fp) - exact);
    const gl = Math.abs(integrate(gaussLegendre(32), fp) - exact);
    assert.ok(cc < 0.01 * exact && cc < gl / 10, `graded Clenshaw–Curtis error ${cc}, Gauss–Legendre ${gl}`);
  });

  it('path refinement doubles the rule until the gap is at most the target and evaluates each node once', async () => {
    // Per-token integrands with a known integral: c_i(α) = (i + 1)·f'(α) for the swing above, two tokens.
    const eps = 0.003;
    const fp = (a: number) => 1 / (eps * Math.cosh(a / eps) ** 2);
    const c = (a: number) => Float64Array.from([fp(a), 2 * fp(a)]);
    const span = 3 * Math.tanh(1 / eps);
    const asked: number[] = [];
    const r = await refinePath({
      rule: 'graded-clenshaw-curtis', plan: [4, 8, 16, 32, 64, 128], target: 0.01,
      evaluate: async (alphas) => { asked.push(...alphas); return alphas.map(c); },
      endpoints: () => ({ span, atBaseline: c(0), atInput: c(1) }),
    });
    assert.ok(r.relativeGap <= 0.01 && r.rounds.length >= 2, `gap ${r.relativeGap} after ${r.rounds}`);
    assert.strictEqual(r.steps, r.rounds[r.rounds.length - 1]);
    assert.strictEqual(new Set(asked).size, asked.length, 'a node was evaluated twice');
    // Nested: n intervals need n − 1 interior nodes in all (α = 0 has weight 0, α = 1 is the input).
    assert.strictEqual(r.points, r.steps - 1);
    assert.strictEqual(asked.length, r.points);
    assert.ok(!asked.includes(0) && !asked.includes(1));
    assert.ok(Math.abs(r.scores[1] - 2 * r.scores[0]) < 1e-9 * Math.abs(r.scores[1]));
    assert.strictEqual(plannedNodes('graded-clenshaw-curtis', [4, 8, 16]), 15);
    assert.strictEqual(plannedNodes('gauss-legendre', [4, 8]), 12);
  });

  describe('adaptive panels', () => {
    // Integrands with closed-form integrals, as per-token contributions c(α) = [u(α), −0.5·u(α)].
    const run = async (u: (a: number) => number, integral: number, steps = 16, maxSteps = 64) => {
      const asked: number[] = [];
      const c = (a: number) => Float64Array.from([u(a), -0.5 * u(a)]);
      const r = await adaptivePath({
        steps, maxSteps, target: 0.01,
        evaluate: async (alphas) => { asked.push(...alphas); return alphas.map(c); },
        endpoints: () => ({ span: 0.5 * integral, atBaseline: c(0), atInput: c(1) }),
      });
      return { r, asked, exact: [integral, -0.5 * integral] };
    };
    const check = ({ r, asked, exact }: Awaited<ReturnType<typeof run>>, maxSteps = 64) => {
      assert.strictEqual(new Set(asked).size, asked.length, 'a node was evaluated twice');
      assert.ok(!asked.includes(0) && !asked.includes(1), 'the endpoints come with f(x) and f(x\')');
      assert.strictEqual(r.points, asked.length);
      assert.strictEqual(r.points, r.steps - 1, 'panels of 4 intervals sharing their ends');
      assert.ok(r.steps <= maxSteps);
      r.scores.forEach((v, i) => assert.ok(Math.abs(v - exact[i]) <= 0.02 * Math.abs(exact[i]), `token ${i}: ${v} vs ${exact[i]}`));
    };

    it('stops after the first round on a smooth integrand', async () => {
      const out = await run((a) => Math.cos(a), Math.sin(1));
      check(out);
      assert.deepStrictEqual(out.r.rounds, [16]);
      assert.ok(out.r.relativeGap < 1e-6, `gap ${out.r.relativeGap}`);
    });

    it('refines near the baseline for a swing within α < 0.01, with fewer nodes than doubled Gauss–Legendre needs', async () => {
      const eps = 0.003;
      const out = await run((a) => 1 / (eps * Math.cosh(a / eps) ** 2), Math.tanh(1 / eps));
      check(out);
      assert.ok(out.r.relativeGap <= 0.01 && out.r.rounds.length >= 2, `${out.r.rounds}: gap ${out.r.relativeGap}`);
      // The new nodes of later rounds sit near the baseline, where the integrand moves.
      assert.ok(out.asked.slice(15).every((a) => a < 0.1), `later nodes ${out.asked.slice(15)}`);
      const u = (a: number) => 1 / (eps * Math.cosh(a / eps) ** 2);
      const gl = await refinePath({
        rule: 'gauss-legendre', plan: [16, 32, 64, 128, 256], target: 0.01,
        evaluate: async (alphas) => alphas.map((a) => Float64Array.from([u(a)])),
        endpoints: () => ({ span: Math.tanh(1 / eps), atBaseline: Float64Array.from([u(0)]), atInput: Float64Array.from([u(1)]) }),
      });
      assert.ok(gl.relativeGap <= 0.01 && out.r.points < gl.points / 2, `adaptive ${out.r.points} nodes, Gauss–Legendre ${gl.rounds.join('+')} = ${gl.points}`);
    });

    it('refines around a kink in the middle of the path', async () => {
      // |α − 0.42|-shaped slope change: ∫₀¹ (1 + 20·max(0, α − 0.42)) dα.
      const out = await run((a) => 1 + 20 * Math.max(0, a - 0.42) ** 0.5, 1 + (40 / 3) * 0.58 ** 1.5);
      check(out);
      assert.ok(out.r.relativeGap <= 0.01, `gap ${out.r.relativeGap}`);
    });

    it('stays within maxSteps when the gap cannot be met, and rounds steps up to whole panels', async () => {
      const out = await run((a) => Math.sin(200 * a), (1 - Math.cos(200)) / 200, 6, 24);
      assert.strictEqual(out.r.rounds[0], 8);
      assert.ok(out.r.steps <= 24 && out.r.points === out.r.steps - 1);
      assert.strictEqual(new Set(out.asked).size, out.asked.length);
    });
  });
});
