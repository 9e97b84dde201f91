/**
 * Batched occlusion equals an independent recomputation: one plain onnxruntime run per occluded input, no
 * batching, no padding, log-softmax in float64.
 */
import * as assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { explain } from '../../src/core/explain';
import type { OcclusionBaseline, TargetSpec } from '../../src/core/request';
import type { AttributionResult } from '../../src/core/result';
import { loadModel, type LoadedModel } from '../../src/runtime/loadedModel';

const TOL = 1e-4;

describe('occlusion equals an unbatched recomputation', function () {
  let lm: LoadedModel;
  let session: ort.InferenceSession;
  before(async function () {
    lm = await loadModel('promptscope-tiny-lm');
    session = await ort.InferenceSession.create(lm.folder.onnxPath);
  });

  /** log p(next | ids) for every position, from one plain run. */
  async function logProbs(ids: number[], mask?: number[], positions?: number[]): Promise<(tok: number, pos: number) => number> {
    const n = ids.length;
    const t = (a: number[]) => new ort.Tensor('int64', BigInt64Array.from(a.map(BigInt)), [1, n]);
    const feeds: Record<string, ort.Tensor> = {
      input_ids: t(ids),
      attention_mask: t(mask ?? ids.map(() => 1)),
      position_ids: t(positions ?? ids.map((_, i) => i)),
    };
    const cfg = lm.folder.config as { n_layer: number; n_head: number; n_embd: number };
    for (let l = 0; l < cfg.n_layer; l++) {
      for (const kv of ['key', 'value']) feeds[`past_key_values.${l}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [1, cfg.n_head, 0, cfg.n_embd / cfg.n_head]);
    }
    const out = await session.run(feeds);
    const logits = out.logits.data as Float32Array;
    const V = out.logits.dims[2];
    return (tok, pos) => {
      let max = -Infinity;
      for (let v = 0; v < V; v++) max = Math.max(max, logits[pos * V + v]);
      let s = 0;
      for (let v = 0; v < V; v++) s += Math.exp(logits[pos * V + v] - max);
      return logits[pos * V + tok] - max - Math.log(s);
    };
  }

  /** Σ log p of the target sequence after a prompt, independently. */
  async function seqScore(prompt: number[], cont: number[], mask?: number[]): Promise<number> {
    const ids = [...prompt, ...cont.slice(0, -1)];
    const m = mask ? [...mask, ...cont.slice(0, -1).map(() => 1)] : undefined;
    const lp = await logProbs(ids, m);
    return cont.reduce((s, tok, j) => s + lp(tok, prompt.length - 1 + j), 0);
  }

  async function check(result: AttributionResult, baseline: OcclusionBaseline, rowTokens: number[][]): Promise<void> {
    const ids = result.input.tokens.map((t) => t.id);
    const run = result.runs[0];
    for (const [r, cont] of rowTokens.entries()) {
      const prefix = cont.slice(0, r);
      const target = cont.slice(r, r + 1);
      const full = await seqScore(ids, [...prefix, ...target].slice(0, r + 1));
      const fullRow = full - (r > 0 ? await seqScore(ids, prefix) : 0);
      for (const tok of result.input.tokens) {
        if (tok.special) continue;
        let occluded: number;
        if (baseline === 'delete') {
          const kept = ids.filter((_, i) => i !== tok.index);
          occluded = (await seqScore(kept, [...prefix, ...target])) - (r > 0 ? await seqScore(kept, prefix) : 0);
        } else if (baseline === 'attention') {
          const mask = ids.map((_, i) => (i === tok.index ? 0 : 1));
          occluded = (await seqScore(ids, [...prefix, ...target], mask)) - (r > 0 ? await seqScore(ids, prefix, mask) : 0);
        } else {
          const rep = baseline === 'space' ? lm.spaceId! : lm.special[baseline]!;
          const swapped = ids.map((id, i) => (i === tok.index ? rep : id));
          occluded = (await seqScore(swapped, [...prefix, ...target])) - (r > 0 ? await seqScore(swapped, prefix) : 0);
        }
        const expected = fullRow - occluded;
        assert.ok(Math.abs(run.scores[r][tok.index] - expected) < TOL, `row ${r} token ${tok.index} (${JSON.stringify(tok.text)}): ${run.scores[r][tok.index]} vs ${expected}`);
      }
    }
  }

  const prompt = 'Alice met Bob in Paris. Later, Alice said hello to';
  for (const baseline of ['delete', 'attention', 'pad', 'space'] as OcclusionBaseline[]) {
    it(`leave-one-out, baseline ${baseline}, next token`, async function () {
      if (baseline === 'pad' && lm.special.pad === undefined) this.skip();
      const result = await explain({ text: prompt, methods: ['occlusion'], params: { baseline }, target: { kind: 'next-token' }, maxTokensPerBatch: 64 }, lm);
      assert.ok(result.runs[0].diagnostics.batches > 1, 'a small cap must split the work into several runs');
      await check(result, baseline, [[result.target.rows[0].tokenId]]);
    });
  }

  it('generated continuation: one row per output token, each equal to the recomputation', async function () {
    const target: TargetSpec = { kind: 'generate', tokens: 3 };
    const result = await explain({ text: 'The capital of France is', methods: ['occlusion'], target }, lm);
    const cont = result.target.rows.map((r) => r.tokenId);
    assert.equal(result.runs[0].scores.length, cont.length);
    await check(result, 'delete', cont.map(() => cont));
  });

  it('contrastive target scores log p(A) − log p(B) under each occlusion', async function () {
    const result = await explain({ text: 'The capital of France is', methods: ['occlusion'], params: { baseline: 'attention' }, target: { kind: 'contrastive', text: ' Paris', foil: ' London' } }, lm);
    const a = lm.tokenizer.encodeContinuation(' Paris');
    const b = lm.tokenizer.encodeContinuation(' London');
    const ids = result.input.tokens.map((t) => t.id);
    for (const tok of result.input.tokens) {
      const mask = ids.map((_, i) => (i === tok.index ? 0 : 1));
      const full = (await seqScore(ids, a)) - (await seqScore(ids, b));
      const occ = (await seqScore(ids, a, mask)) - (await seqScore(ids, b, mask));
      assert.ok(Math.abs(result.runs[0].scores[0][tok.index] - (full - occ)) < TOL);
    }
  });

  it('sliding window of width 1 is leave-one-out; width 3 shares each window over its tokens', async function () {
    const base = await explain({ text: prompt, methods: ['occlusion', 'sliding-window'], params: { window: 1, stride: 1 }, target: { kind: 'next-token' } }, lm);
    base.runs[0].scores[0].forEach((s, i) => assert.ok(Math.abs(s - base.runs[1].scores[0][i]) < 1e-9));
    const w3 = await explain({ text: prompt, methods: ['sliding-window'], params: { window: 3, stride: 3 }, target: { kind: 'next-token' } }, lm);
    const ids = w3.input.tokens.map((t) => t.id);
    const tgt = [w3.target.rows[0].tokenId];
    const full = await seqScore(ids, tgt);
    const occ = await seqScore(ids.slice(3), tgt);
    for (const i of [0, 1, 2]) assert.ok(Math.abs(w3.runs[0].scores[0][i] - (full - occ) / 3) < TOL);
  });
});
