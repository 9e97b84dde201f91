/**
 * Trust figures for a result, the same for every method that ran: faithfulness (comprehensiveness,
 * sufficiency, deletion curve) against a seeded random ranking, Soft-NC / Soft-NS where embeddings can be
 * fed, and agreement between the methods.
 */
import type { MethodContext } from '../methods/method';
import { visibleTokens } from '../methods/occlusion';
import { mulberry32 } from '../methods/smoothGrad';
import type { OcclusionBaseline } from '../request';
import type { MethodRun } from '../result';
import { spearman, topKOverlap } from './agreement';
import { AOPC_FRACTIONS, faithfulness } from './faithfulness';
import { SoftMasker, unitImportance } from './softMasking';
import { TRUST_VERSION, type MethodAgreement, type MethodTrust, type SoftFigures, type TrustReport } from './trustReport';

export interface TrustOptions {
  baseline: OcclusionBaseline;
  seed?: number;
  randomOrders?: number;
  /** Bernoulli masks per Soft-NC / Soft-NS figure (default 8). */
  softSamples?: number;
}

const ratio = (a: number, b: number): number | null => (Math.abs(b) > 1e-9 ? a / b : null);
const mean = (xs: readonly number[]): number => xs.reduce((s, v) => s + v, 0) / Math.max(1, xs.length);

const REMOVAL: Record<OcclusionBaseline, string> = {
  delete: 'deleted',
  attention: 'hidden from attention',
  pad: 'replaced by the pad token',
  unk: 'replaced by the unknown token',
  mask: 'replaced by the mask token',
  space: 'replaced by a space',
};

export function agreementOf(runs: readonly Pick<MethodRun, 'method' | 'scores'>[], visible: readonly number[]): MethodAgreement[] {
  const k = Math.min(3, visible.length);
  const out: MethodAgreement[] = [];
  for (let i = 0; i < runs.length; i++) {
    for (let j = i + 1; j < runs.length; j++) {
      const rhos: number[] = [];
      const overlaps: number[] = [];
      runs[i].scores.forEach((row, r) => {
        const a = visible.map((t) => row[t]);
        const b = visible.map((t) => runs[j].scores[r][t]);
        const rho = spearman(a, b);
        if (rho !== undefined) rhos.push(rho);
        overlaps.push(topKOverlap(a, b, k));
      });
      out.push({ a: runs[i].method, b: runs[j].method, spearman: rhos.length ? mean(rhos) : null, topKOverlap: mean(overlaps), k });
    }
  }
  return out;
}

export async function computeTrust(ctx: MethodContext, runs: readonly MethodRun[], opts: TrustOptions): Promise<TrustReport> {
  const t0 = performance.now();
  const f0 = ctx.runner.forwardCount;
  const seed = opts.seed ?? 0;
  const visible = visibleTokens(ctx);
  const faith = await faithfulness(ctx, runs.map((r) => ({ name: r.method, scores: r.scores })), { baseline: opts.baseline, seed, randomOrders: opts.randomOrders });

  const methods: MethodTrust[] = faith.methods.map((m) => ({
    method: m.name,
    rows: m.rows,
    vsRandom: m.rows.map((row, r) => ({
      comprehensiveness: ratio(row.aopcComprehensiveness, faith.random[r].aopcComprehensiveness),
      sufficiency: ratio(row.aopcSufficiency, faith.random[r].aopcSufficiency),
    })),
  }));

  // Soft masking reads the distribution after the prompt: the first target row's position.
  let soft: TrustReport['soft'];
  let softRandom: SoftFigures | undefined;
  let softPasses = 0;
  const backend = ctx.runner.gradients;
  if (!backend?.logProbsFromEmbeds) {
    soft = { available: false, reason: 'Soft-NC / Soft-NS feed masked embeddings to the model; the embedding-input graph could not be built for this model.' };
  } else {
    const samples = Math.max(1, opts.softSamples ?? 8);
    const masker = new SoftMasker({ backend, inputIds: ctx.prompt.map((t) => t.id), visible, position: ctx.prompt.length - 1, samples, seed, signal: ctx.signal });
    const s0 = await masker.emptySufficiency();
    if (1 - s0 < 1e-9) {
      soft = { available: false, reason: 'Masking every token leaves the output distribution unchanged, so Soft-NC / Soft-NS are undefined for this input.' };
    } else {
      const rand = mulberry32(seed + 101);
      const draws: SoftFigures[] = [];
      for (let i = 0; i < faith.randomOrders; i++) {
        const f = await masker.figures(visible.map(() => rand()), seed + 1000 + i);
        if (f) draws.push(f);
      }
      softRandom = { softNC: mean(draws.map((d) => d.softNC)), softNS: mean(draws.map((d) => d.softNS)) };
      for (const [i, run] of runs.entries()) {
        const f = await masker.figures(unitImportance(run.scores[0], visible), seed + 2000 + i);
        if (f) methods[i].soft = { ...f, vsRandom: { softNC: ratio(f.softNC, softRandom.softNC), softNS: ratio(f.softNS, softRandom.softNS) } };
      }
      soft = {
        available: true,
        samples,
        measure: `Hellinger distance between the output distributions of the full prompt and of the prompt with each embedding element of a token kept with probability equal to its importance (scaled to [0, 1]; Soft-NS) or one minus it (Soft-NC), mean over ${samples} masks, normalised by the all-masked sufficiency (${s0.toFixed(3)}); first target row`,
      };
    }
    softPasses = masker.passes;
  }

  const pct = (f: number): string => `${Math.round(f * 100)} %`;
  return {
    version: TRUST_VERSION,
    measure: `drop in the explained score (log-probability) when the top k of the ${faith.tokens} visible tokens are ${REMOVAL[opts.baseline]}, k = ${pct(faith.fractions[0])} … ${pct(faith.fractions[faith.fractions.length - 1])} (rounded up); comprehensiveness removes the top k, sufficiency keeps only them; AOPC = mean over k (ferret); random = mean of ${faith.randomOrders} seeded random orders`,
    baseline: opts.baseline,
    fractions: faith.fractions ?? AOPC_FRACTIONS,
    tokens: faith.tokens,
    seed,
    random: { orders: faith.randomOrders, rows: faith.random, ...(softRandom ? { soft: softRandom } : {}) },
    methods,
    agreement: agreementOf(runs, visible),
    soft,
    forwardPasses: ctx.runner.forwardCount - f0 + softPasses,
    elapsedMs: Math.round((performance.now() - t0) * 10) / 10,
  };
}
