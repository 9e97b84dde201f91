/** The promptscope.layer setting (and the Explain With… layer pick) as method params, for the layer methods only. */
import type { MethodParams } from '../core/request';

export const LAYER_METHODS: ReadonlySet<string> = new Set(['layer-gradient-x-activation', 'layer-integrated-gradients']);

/** 'middle' | 'last' | a block index → params; nothing when no layer method runs (attention reads `layer` too). */
export function layerParamsFor(methods: readonly string[], setting: string): MethodParams {
  if (!methods.some((m) => LAYER_METHODS.has(m))) return {};
  const v = setting.trim();
  if (v === 'last') return { layerPick: 'last' };
  if (/^\d+$/.test(v)) return { layer: Number(v) };
  return { layerPick: 'middle' };
}
