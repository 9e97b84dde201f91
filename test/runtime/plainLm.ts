/** Independent scoring for tests: one plain onnxruntime run per sequence, no batching or reuse, log-softmax in float64. */
import * as ort from 'onnxruntime-node';
import type { LoadedModel } from '../../src/runtime/loadedModel';

export class PlainLm {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly cfg: { n_layer: number; n_head: number; n_embd: number },
  ) {}

  static async create(lm: LoadedModel): Promise<PlainLm> {
    return new PlainLm(await ort.InferenceSession.create(lm.folder.onnxPath), lm.folder.config as { n_layer: number; n_head: number; n_embd: number });
  }

  /** log p(· | ids[0..pos]) as float64 rows, for every position from `from` on (earlier rows empty). */
  async logSoftmax(ids: number[], mask?: number[], from = 0): Promise<Float64Array[]> {
    const n = ids.length;
    const t = (a: number[]) => new ort.Tensor('int64', BigInt64Array.from(a.map(BigInt)), [1, n]);
    const feeds: Record<string, ort.Tensor> = { input_ids: t(ids), attention_mask: t(mask ?? ids.map(() => 1)), position_ids: t(ids.map((_, i) => i)) };
    for (let l = 0; l < this.cfg.n_layer; l++) {
      for (const kv of ['key', 'value']) feeds[`past_key_values.${l}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [1, this.cfg.n_head, 0, this.cfg.n_embd / this.cfg.n_head]);
    }
    const out = await this.session.run(feeds);
    const logits = out.logits.data as Float32Array;
    const V = out.logits.dims[2];
    return Array.from({ length: n }, (_, pos) => {
      if (pos < from) return new Float64Array(0);
      let max = -Infinity;
      for (let v = 0; v < V; v++) max = Math.max(max, logits[pos * V + v]);
      let s = 0;
      for (let v = 0; v < V; v++) s += Math.exp(logits[pos * V + v] - max);
      const lse = max + Math.log(s);
      return Float64Array.from({ length: V }, (_, v) => logits[pos * V + v] - lse);
    });
  }

  /** log p(token | ids) of the next token. */
  async nextLogProb(ids: number[], token: number): Promise<number> {
    const rows = await this.logSoftmax(ids, undefined, ids.length - 1);
    return rows[ids.length - 1][token];
  }

  /** The k most likely next tokens with probabilities. */
  async top(ids: number[], k: number): Promise<{ tokenId: number; probability: number }[]> {
    const rows = await this.logSoftmax(ids, undefined, ids.length - 1);
    const last = rows[ids.length - 1];
    return Array.from(last, (lp, tokenId) => ({ tokenId, probability: Math.exp(lp) }))
      .sort((a, b) => b.probability - a.probability)
      .slice(0, k);
  }
}
