/** Shared by the layer methods: which stream the request names, the backend check, and batched layer-gradient calls. */
import { EngineError } from '../engineProtocol';
import { streamOfLayer, type LayerGradientBackend, type LayerGradientItem, type LayerGradientValue } from '../layerGradients';
import { throwIfAborted } from '../modelRunner';
import type { MethodParams } from '../request';
import { DEFAULT_GRADIENT_TOKENS_PER_BATCH, GRADIENT_TOKENS_PER_CALL, type GradientMethodOptions } from './gradientSaliency';
import type { MethodContext } from './method';

export function layerBackend(ctx: MethodContext): LayerGradientBackend {
  const b = ctx.runner.layerGradients;
  if (!b) {
    throw new EngineError('gradients-unsupported', `Layer methods need gradients inside ${ctx.runner.info.id} and its block count (config.json); neither is available. Use gradient-x-input or integrated-gradients.`);
  }
  return b;
}

/** The stream index the params name (--layer index | middle | last, --layer-input), with a clear error when out of range. */
export function requestedStream(params: MethodParams, layers: number): number {
  try {
    return streamOfLayer(params.layer ?? params.layerPick, layers, params.layerInput);
  } catch (err) {
    throw new EngineError('unsupported-model', `${(err as Error).message} Pick one with --layer (promptscope.layer).`);
  }
}

/** The params a layer method reports: the block and side it read. */
export function layerParams(params: MethodParams, layers: number): MethodParams {
  const s = requestedStream(params, layers);
  return { layer: params.layerInput ? s : s - 1, ...(params.layerInput ? { layerInput: true } : {}) };
}

/** Runs items in batches of about GRADIENT_TOKENS_PER_CALL tokens, in order, with cancellation and progress. */
export async function layerGradientsInBatches(
  backend: LayerGradientBackend,
  items: LayerGradientItem[],
  streams: number[],
  opts: GradientMethodOptions,
  progress?: { start: number; total: number },
): Promise<LayerGradientValue[]> {
  const seq = Math.max(1, items[0]?.inputIds.length ?? 1);
  const tokens = Math.min(opts.maxTokensPerBatch ?? DEFAULT_GRADIENT_TOKENS_PER_BATCH, GRADIENT_TOKENS_PER_CALL);
  const maxPerCall = Math.max(1, Math.floor(tokens / seq));
  const perCall = Math.ceil(items.length / Math.max(1, Math.ceil(items.length / maxPerCall)));
  const out: LayerGradientValue[] = [];
  const start = progress?.start ?? 0, total = progress?.total ?? items.length;
  for (let i = 0; i < items.length; i += perCall) {
    throwIfAborted(opts.signal);
    out.push(...(await backend.scoreAndLayerGradients(items.slice(i, i + perCall), streams, opts.signal)));
    opts.onProgress?.(start + out.length, total);
  }
  return out;
}
