/**
 * Layer integrated gradients (Captum's LayerIntegratedGradients) at the residual stream a_s of a chosen block:
 *   attr_i = Σ_h (a − a')_{i,h} · ∫₀¹ ∂f/∂a_{i,h}(a' + α (a − a')) dα
 * with a' the stream the baseline input (zero, mean or pad embeddings, as for integrated gradients) produces at the
 * same depth. The path runs inside the model: the prompt is fed as it is and the stream at depth s is moved to
 * a' + α(a − a') (the layer delta), so f(baseline) is the score with a' at that depth and the attributions add up to
 * f(x) − f(a'). The rule and its refinement are integrated gradients' (graded Clenshaw–Curtis, doubled while the
 * completeness gap is above 1 %; pathRefinement.ts).
 */
import { streamName, type LayerGradientBackend, type LayerGradientItem } from '../layerGradients';
import type { GradientMethodRequest } from './gradientSaliency';
import { gradientMethod } from './gradientMethods';
import { baselineEmbeddings, IG_DEFAULT_MAX_STEPS, IG_DEFAULT_RULE, IG_DEFAULT_STEPS, IG_GAP_TARGET, type IntegratedGradientsBaseline } from './integratedGradients';
import { layerBackend, layerGradientsInBatches, layerParams, requestedStream } from './layerGradientSupport';
import type { MethodContext } from './method';
import { integratePath, plannedPathPoints } from './pathIntegral';
import { contributions } from './pathRefinement';

export interface LayerIgOutcome { scores: number[]; fx: number; fb: number; gap: number; relativeGap: number; steps: number }

/** Layer IG of one request at one stream; `progress` counts the passes of every round planned. */
export async function layerIntegratedGradientsAt(
  ctx: MethodContext, b: LayerGradientBackend, req: GradientMethodRequest, stream: number, progress: (done: number, total: number) => void,
): Promise<LayerIgOutcome> {
  const steps = Math.floor(ctx.params.steps ?? IG_DEFAULT_STEPS);
  if (!(steps >= 1 && steps <= 4096)) throw new Error(`Integrated gradients steps must be between 1 and 4096 (got ${ctx.params.steps}).`);
  const maxSteps = Math.min(4096, Math.max(steps, Math.floor(ctx.params.maxSteps ?? IG_DEFAULT_MAX_STEPS)));
  const g = ctx.runner.gradients!;
  const x = g.embed(req.inputIds);
  const x0 = baselineEmbeddings(g, req.inputIds, (ctx.params.igBaseline ?? 'mean') as IntegratedGradientsBaseline, ctx.special.pad);
  const item = (inputsEmbeds: Float32Array, delta?: Float32Array): LayerGradientItem => ({
    inputsEmbeds, inputIds: req.inputIds, attentionMask: req.attentionMask, positionIds: req.positionIds, target: req.target,
    ...(delta ? { delta: { stream, values: delta } } : {}),
  });
  const rule = ctx.params.igRule ?? IG_DEFAULT_RULE;
  const total = 3 + plannedPathPoints(rule, steps, maxSteps);
  const opts = { signal: ctx.signal, onProgress: progress, maxTokensPerBatch: ctx.maxTokensPerBatch };
  // The stream a at the input and a' at the baseline, then f(a') with the prompt fed and a' put at the depth.
  const [atX, atB] = await layerGradientsInBatches(b, [item(x), item(x0)], [stream], opts, { start: 0, total });
  const a = atX.activations[0], a0 = atB.activations[0];
  const delta = Float32Array.from(a, (v, k) => v - a0[k]);
  const [base] = await layerGradientsInBatches(b, [item(x, Float32Array.from(delta, (d) => -d))], [stream], opts, { start: 2, total });
  const fx = atX.score, fb = base.score;
  const n = req.inputIds.length;
  const r = await integratePath(rule, steps, maxSteps, {
    target: IG_GAP_TARGET,
    // Stream a' + α(a − a') = a + (α − 1)(a − a').
    evaluate: async (alphas, done) => {
      const items = alphas.map((al) => item(x, Float32Array.from(delta, (d) => (al - 1) * d)));
      const vals = await layerGradientsInBatches(b, items, [stream], opts, { start: 3 + done, total });
      return vals.map((v) => contributions(delta, v.grads[0], n));
    },
    endpoints: () => ({ span: fx - fb, atBaseline: contributions(delta, base.grads[0], n), atInput: contributions(delta, atX.grads[0], n) }),
  });
  progress(total, total);
  return { scores: r.scores, fx, fb, gap: r.gap, relativeGap: r.relativeGap, steps: r.steps };
}

export const layerIntegratedGradients = gradientMethod(
  'layer-integrated-gradients',
  'Layer integrated gradients',
  'Integrated gradients at the residual stream of one block (--layer), from the stream the baseline input gives there: attributions add up to f(input) − f(baseline at that layer), and the gap is reported. 15 backward passes (adaptive, refined up to 63 while the gap is above 1 %) plus 3; --sweep-layers repeats it at every depth.',
  true,
  (ctx) => {
    const b = layerBackend(ctx);
    return `integrated gradients of the target log-probability at ${streamName(requestedStream(ctx.params, b.layers))}, from the stream a ${ctx.params.igBaseline ?? 'mean'}-embedding baseline gives there (sums to f(x) − f(baseline at that layer))`;
  },
  (ctx) => ({ ...layerParams(ctx.params, layerBackend(ctx).layers), steps: ctx.params.steps ?? IG_DEFAULT_STEPS, maxSteps: ctx.params.maxSteps ?? IG_DEFAULT_MAX_STEPS, igBaseline: ctx.params.igBaseline ?? 'mean', rule: ctx.params.igRule ?? IG_DEFAULT_RULE, ...(ctx.params.sweepLayers ? { sweepLayers: true } : {}) }),
  async (ctx, req, progress) => {
    const b = layerBackend(ctx);
    const at = requestedStream(ctx.params, b.layers);
    const streams = ctx.params.sweepLayers ? Array.from({ length: b.layers + 1 }, (_, s) => s) : [at];
    const n = ctx.prompt.length;
    const results = new Map<number, LayerIgOutcome>();
    for (const [k, s] of streams.entries()) {
      results.set(s, await layerIntegratedGradientsAt(ctx, b, req, s, (d, t) => progress(k * t + d, streams.length * t)));
    }
    const r = results.get(at)!;
    return {
      scores: r.scores.slice(0, n), gap: r.gap, span: Math.abs(r.fx - r.fb), steps: r.steps,
      ...(ctx.params.sweepLayers ? { sweep: { streams, scores: streams.map((s) => results.get(s)!.scores.slice(0, n)) } } : {}),
    };
  },
);
