/**
 * Layer gradient × activation (Grad-CAM-style; Captum's LayerGradientXActivation): at the residual stream of a
 * chosen block, Σ_h ∂f/∂a_{i,h} · a_{i,h} per token — a signed first-order estimate of how much the token's state
 * at that depth contributes. One backward pass gives the gradient at every depth, so the result also carries the
 * same score at every layer (the layer × token sweep) at no extra cost.
 */
import { streamName } from '../layerGradients';
import { gradientMethod } from './gradientMethods';
import { rowDots } from './gradientSaliency';
import { layerBackend, layerGradientsInBatches, layerParams, requestedStream } from './layerGradientSupport';

export const layerGradientXActivation = gradientMethod(
  'layer-gradient-x-activation',
  'Layer gradient × activation',
  'Gradient × activation at the residual stream of one block (--layer: index, middle, last), summed over the hidden size: what each token’s state at that depth contributes. One backward pass, which also gives every other layer (the layer sweep).',
  true,
  (ctx) => {
    const b = layerBackend(ctx);
    return `gradient of the target log-probability × activation at ${streamName(requestedStream(ctx.params, b.layers))}, summed over the hidden size (signed, first-order)`;
  },
  (ctx) => layerParams(ctx.params, layerBackend(ctx).layers),
  async (ctx, req, progress) => {
    const b = layerBackend(ctx);
    const at = requestedStream(ctx.params, b.layers);
    const streams = Array.from({ length: b.layers + 1 }, (_, s) => s);
    const embeds = ctx.runner.gradients!.embed(req.inputIds);
    const [v] = await layerGradientsInBatches(b, [{ inputsEmbeds: embeds, inputIds: req.inputIds, attentionMask: req.attentionMask, positionIds: req.positionIds, target: req.target }], streams, { signal: ctx.signal, onProgress: progress, maxTokensPerBatch: ctx.maxTokensPerBatch });
    const hidden = v.grads[0].length / req.inputIds.length;
    const n = ctx.prompt.length;
    const perStream = streams.map((s) => rowDots(v.grads[s], v.activations[s], hidden).slice(0, n));
    return { scores: perStream[at], sweep: { streams, scores: perStream } };
  },
);
