/**
 * Attention weights as attribution: for each target row, the attention the position predicting that token
 * pays to each prompt token — in one layer and head, or the mean over heads and/or layers. One forward pass.
 * A description of where the model looks, not of what changes its answer.
 */
import { EngineError } from '../engineProtocol';
import type { AttentionMaps } from '../modelRunner';
import { at, attentionDetail, readAttention } from './attentionReading';
import type { AttributionMethod, MethodOutput } from './method';

function checkIndex(v: number | undefined, count: number, what: string): void {
  if (v !== undefined && !(Number.isInteger(v) && v >= 0 && v < count)) {
    throw new EngineError('bad-target', `This model has ${count} ${what}s (0–${count - 1}); ${what} ${v} does not exist. Omit it for the mean over all ${what}s.`);
  }
}

/** Mean over the chosen layers and heads of A[query][key]. */
export function aggregateAttention(m: AttentionMaps, query: number, key: number, layer?: number, head?: number): number {
  const ls = layer === undefined ? [...Array(m.layers).keys()] : [layer];
  const hs = head === undefined ? [...Array(m.heads).keys()] : [head];
  let sum = 0;
  for (const l of ls) for (const h of hs) sum += at(m, l, h, query, key);
  return sum / (ls.length * hs.length);
}

export const attentionWeights: AttributionMethod = {
  name: 'attention',
  label: 'Attention weights',
  description: 'The attention the predicting position pays to each prompt token (one layer/head, or the mean). One forward pass; shows where the model looks, not what changes its answer.',
  needsGradients: false,
  needsAttention: true,
  async run(ctx): Promise<MethodOutput> {
    const { head } = ctx.params;
    const backend = ctx.runner.attention!;
    // --layer middle | last name a block as the layer methods do (⌊(L − 1)/2⌋, L − 1).
    const pick = ctx.params.layerPick;
    const layer = ctx.params.layer ?? (pick === 'last' ? backend.layers - 1 : pick === 'middle' ? Math.floor((backend.layers - 1) / 2) : undefined);
    checkIndex(layer, backend.layers, 'layer');
    checkIndex(head, backend.heads, 'head');
    const { maps, rows } = await readAttention(ctx);
    const n = ctx.prompt.length;
    const scores = rows.map((r) => Array.from({ length: n }, (_, j) => aggregateAttention(maps.get(r.branch)!, r.position, j, layer, head)));
    const where = `${layer === undefined ? 'mean over layers' : `layer ${layer}`}, ${head === undefined ? 'mean over heads' : `head ${head}`}`;
    return {
      scores,
      batches: maps.size,
      params: { ...(layer !== undefined ? { layer } : {}), ...(head !== undefined ? { head } : {}) },
      meaning: `attention weight from the position predicting the target to the token (${where}); sums to at most 1 over the prompt`,
      attention: attentionDetail(ctx, maps, rows),
    };
  },
};
