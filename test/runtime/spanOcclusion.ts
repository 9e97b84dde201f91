// The independent reference of the coarse-to-fine and streaming tests: a span's occlusion score recomputed
// with two unbatched runner.score calls (the whole prompt, and the prompt without the span).
import type { ModelRunner } from '../../src/core/modelRunner';
import type { AttributionResult } from '../../src/core/result';

/** Full score − score with these tokens deleted, for the result's first target row. */
export async function spanOcclusion(runner: ModelRunner, result: AttributionResult, span: number[]): Promise<number> {
  const ids = result.input.tokens.map((t) => t.id);
  const target = result.target.rows[0].tokenId;
  const kept = ids.filter((_, i) => !span.includes(i));
  const [[full]] = await runner.score([{ inputIds: ids, queries: [{ position: ids.length - 1, tokenId: target }] }]);
  const [[occluded]] = await runner.score([{ inputIds: kept, queries: [{ position: kept.length - 1, tokenId: target }] }]);
  return full.logProb - occluded.logProb;
}
