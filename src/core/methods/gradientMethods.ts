/**
 * Gradient methods in the registry. Each target row becomes one gradient target on the prompt plus the
 * row's continuation (causal attention means later continuation tokens do not matter); contrastive rows whose
 * two continuations differ are explained as the difference of two attributions, which is exact for the
 * methods that are linear in the score (gradient × input, integrated gradients).
 */
import { EngineError } from '../engineProtocol';
import type { GradientTarget } from '../modelRunner';
import { gradientSaliency, type GradientMethodRequest } from './gradientSaliency';
import { gradientTimesInput } from './gradientTimesInput';
import { IG_DEFAULT_MAX_STEPS, IG_DEFAULT_RULE, IG_DEFAULT_STEPS, integratedGradients } from './integratedGradients';
import type { AttributionMethod, MethodContext, MethodOutput } from './method';
import type { LayerSweep } from '../result';
import { smoothGrad } from './smoothGrad';

export interface RowOutcome {
  scores: number[];
  gap?: number;
  /** |f(x) − f(baseline)| of the row's job, to report the gap relative to it. */
  span?: number;
  seed?: number;
  /** Nodes of the quadrature rule the scores come from (integrated gradients). */
  steps?: number;
  /** Standard error of each score (sampling methods). */
  error?: number[];
  samples?: number;
  /** Layer methods: scores at every depth swept ([stream][token]). */
  sweep?: { streams: number[]; scores: number[][] };
}

export type RowRunner = (ctx: MethodContext, req: GradientMethodRequest, progress: (done: number, total: number) => void) => Promise<RowOutcome>;

export function gradientMethod(name: string, label: string, description: string, linear: boolean, meaning: (ctx: MethodContext) => string, params: (ctx: MethodContext) => MethodOutput['params'], runRow: RowRunner): AttributionMethod {
  return {
    name,
    label,
    description,
    needsGradients: true,
    async run(ctx): Promise<MethodOutput> {
      const prompt = ctx.prompt.map((t) => t.id);
      const n = prompt.length;
      const classifier = ctx.runner.info.kind === 'sequence-classifier';
      const rows = ctx.plan.rows.length;
      // One request per (row, branch): the branch continuation after the prompt, the row's terms on it.
      const jobs: { row: number; weight: number; req: GradientMethodRequest }[] = [];
      for (let r = 0; r < rows; r++) {
        const parts = ctx.plan.branches
          .map((br) => ({ br, terms: br.terms.filter((t) => t.row === r) }))
          .filter((p) => p.terms.length > 0);
        const sameInput = parts.every((p) => p.br.continuation.length === 0) || parts.length === 1;
        if (!sameInput && !linear) {
          throw new EngineError('bad-target', `${label} cannot explain a contrast between multi-token texts. Use gradient × input or integrated gradients, or single-token texts.`);
        }
        const groups = sameInput ? [parts] : parts.map((p) => [p]);
        for (const group of groups) {
          const continuation = classifier ? [] : group[0].br.continuation;
          const target: GradientTarget = { tokenIds: [], positions: [], weights: [], classScore: 'log-prob' };
          for (const { terms } of group) {
            for (const t of terms) {
              target.tokenIds.push(t.tokenId);
              target.positions.push(classifier ? 0 : n - 1 + t.offset);
              target.weights.push(t.weight);
            }
          }
          jobs.push({ row: r, weight: 1, req: { inputIds: [...prompt, ...continuation], target } });
        }
      }
      const scores = ctx.plan.rows.map(() => new Array<number>(n).fill(0));
      const gaps = ctx.plan.rows.map(() => 0);
      const spans = ctx.plan.rows.map(() => 0);
      const steps = ctx.plan.rows.map(() => 0);
      let seed: number | undefined;
      let usesGap = false, samples: number | undefined;
      const errors = ctx.plan.rows.map(() => new Array<number>(n).fill(0));
      let hasErrors = false;
      let sweep: LayerSweep | undefined;
      for (const [j, job] of jobs.entries()) {
        let out: RowOutcome;
        try {
          out = await runRow(ctx, job.req, (done, total) => ctx.onProgress?.(j * total + done, jobs.length * total));
        } catch (err) {
          if (err instanceof EngineError || (err as Error)?.name === 'CancelledError') throw err;
          throw new EngineError('bad-target', (err as Error).message);
        }
        for (let i = 0; i < n; i++) scores[job.row][i] += job.weight * out.scores[i];
        if (out.gap !== undefined) { gaps[job.row] += out.gap; usesGap = true; }
        if (out.span !== undefined) spans[job.row] += out.span;
        if (out.steps !== undefined) steps[job.row] = Math.max(steps[job.row], out.steps);
        // Independent jobs of one row (the two sides of a contrast): their variances add.
        if (out.error) { hasErrors = true; for (let i = 0; i < n; i++) errors[job.row][i] = Math.hypot(errors[job.row][i], out.error[i]); }
        samples = out.samples ?? samples;
        if (out.sweep) {
          sweep ??= { streams: out.sweep.streams, scores: ctx.plan.rows.map(() => out.sweep!.streams.map(() => new Array<number>(n).fill(0))) };
          out.sweep.scores.forEach((row, k) => { for (let i = 0; i < n; i++) sweep!.scores[job.row][k][i] += job.weight * row[i]; });
        }
        seed = out.seed ?? seed;
      }
      return {
        scores, meaning: meaning(ctx), params: params(ctx), batches: jobs.length, ...(seed !== undefined ? { seed } : {}),
        ...(usesGap ? { completenessGap: gaps, relativeCompletenessGap: gaps.map((g, r) => (g === 0 ? 0 : g / Math.max(spans[r], 1e-12))) } : {}),
        ...(steps.some((m) => m > 0) ? { quadratureSteps: steps } : {}),
        ...(hasErrors ? { samplingError: errors } : {}), ...(samples !== undefined ? { samples } : {}), ...(sweep ? { layerSweep: sweep } : {}),
      };
    },
  };
}

const opts = (ctx: MethodContext, progress: (d: number, t: number) => void) => ({ signal: ctx.signal, onProgress: progress, maxTokensPerBatch: ctx.maxTokensPerBatch });
const backend = (ctx: MethodContext) => ctx.runner.gradients!;

export const saliency = gradientMethod(
  'gradient',
  'Gradient saliency',
  'Size (L2 norm) of the gradient of the target score at each token embedding: how sensitive the output is to each token. Unsigned; one backward pass.',
  false,
  () => 'L2 norm of the gradient of the target log-probability with respect to the token embedding (unsigned sensitivity)',
  () => ({}),
  async (ctx, req, p) => ({ scores: (await gradientSaliency(backend(ctx), req, opts(ctx, p))).scores }),
);

export const gradTimesInput = gradientMethod(
  'gradient-x-input',
  'Gradient × input',
  'Gradient dotted with the token embedding: a signed first-order estimate of each token’s contribution. One backward pass; can be noisy on saturated models.',
  true,
  () => 'gradient of the target log-probability dotted with the token embedding (signed, first-order)',
  () => ({}),
  async (ctx, req, p) => ({ scores: (await gradientTimesInput(backend(ctx), req, opts(ctx, p))).scores }),
);

export const integratedGradientsMethod = gradientMethod(
  'integrated-gradients',
  'Integrated gradients',
  'Integrates gradients on the straight path from a baseline to the input (adaptive quadrature: panels halved where the path is rough, nodes packed near the baseline); attributions add up to f(input) − f(baseline), and the gap to that sum is reported. 17 backward passes, refined up to 65 while the gap is above 1 %, batched.',
  true,
  (ctx) => `integrated gradients of the target log-probability from a ${ctx.params.igBaseline ?? 'mean'} baseline (sums to f(x) − f(baseline))`,
  (ctx) => ({ steps: ctx.params.steps ?? IG_DEFAULT_STEPS, maxSteps: ctx.params.maxSteps ?? IG_DEFAULT_MAX_STEPS, igBaseline: ctx.params.igBaseline ?? 'mean', rule: ctx.params.igRule ?? IG_DEFAULT_RULE }),
  async (ctx, req, p) => {
    const r = await integratedGradients(backend(ctx), { ...req, steps: ctx.params.steps ?? IG_DEFAULT_STEPS, maxSteps: ctx.params.maxSteps ?? IG_DEFAULT_MAX_STEPS, baseline: ctx.params.igBaseline ?? 'mean', rule: ctx.params.igRule ?? IG_DEFAULT_RULE, padTokenId: ctx.special.pad }, opts(ctx, p));
    return { scores: r.scores, gap: r.diagnostics.completenessGap, span: Math.abs(r.diagnostics.scoreAtInput - r.diagnostics.scoreAtBaseline), steps: r.diagnostics.steps };
  },
);

export const smoothGradMethod = gradientMethod(
  'smoothgrad',
  'SmoothGrad',
  'Gradient saliency averaged over noisy copies of the embeddings: less speckled than plain saliency. Seeded, so the same seed gives the same scores.',
  false,
  (ctx) => `L2 norm of the gradient averaged over ${ctx.params.samples ?? 16} noisy copies of the embeddings (noise ${ctx.params.noise ?? 0.1} of their range)`,
  (ctx) => ({ samples: ctx.params.samples ?? 16, noise: ctx.params.noise ?? 0.1, seed: ctx.params.seed ?? 0 }),
  async (ctx, req, p) => {
    const r = await smoothGrad(backend(ctx), { ...req, samples: ctx.params.samples ?? 16, noiseLevel: ctx.params.noise ?? 0.1, seed: ctx.params.seed ?? 0 }, opts(ctx, p));
    return { scores: r.scores, seed: r.diagnostics.seed };
  },
);

export const gradientMethods: readonly AttributionMethod[] = [saliency, gradTimesInput, integratedGradientsMethod, smoothGradMethod];
