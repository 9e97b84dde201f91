/**
 * Counterfactual edits: single-token and single-word replacements and deletions that most lower the target's
 * score or change the top prediction. Candidates per position come from the model's own top-k next tokens
 * there and, when the model has gradients, from the first-order estimate (e_v − e_i)·∂f/∂e_i over the whole
 * vocabulary (HotFlip); whole words are deleted or replaced by one token. Every candidate is scored by a real
 * forward pass; the best ones are run once more for the new top prediction. Nothing is reported unverified.
 * A token's score is the largest drop in the target score that one verified edit of that token causes.
 */
import { EngineError } from '../engineProtocol';
import { throwIfAborted } from '../modelRunner';
import { COUNTERFACTUALS_VERSION, type CounterfactualEdit, type CounterfactualEdits } from '../result';
import { branchItems, rowScores } from '../targets';
import { scoreInBatches } from './batching';
import { wholeNumber } from './features';
import type { AttributionMethod, MethodContext, MethodOutput } from './method';
import { visibleTokens } from './occlusion';
import { rowContext } from './reagent';

interface Candidate {
  unit: 'token' | 'word';
  tokens: number[];
  /** Replacement id, or undefined for a deletion. */
  id?: number;
  source: CounterfactualEdit['source'];
}

/** Vocabulary rows scored per gradient chunk, to bound memory on large vocabularies. */
const VOCAB_CHUNK = 8192;

export function applyEdit(ids: readonly number[], tokens: readonly number[], id?: number): number[] {
  const first = tokens[0];
  const drop = new Set(tokens);
  const out: number[] = [];
  ids.forEach((v, i) => {
    if (i === first && id !== undefined) out.push(id);
    else if (!drop.has(i)) out.push(v);
  });
  return out;
}

export const counterfactuals: AttributionMethod = {
  name: 'counterfactuals',
  label: 'Counterfactual edits',
  description: 'Tries replacing or deleting each token and word (candidates from the model\u2019s own predictions and, where available, gradients), verifies every edit with a forward pass, and lists the edits that most change the answer.',
  needsGradients: false,
  usesGradients: true,
  async run(ctx: MethodContext): Promise<MethodOutput> {
    const classifier = ctx.runner.info.kind === 'sequence-classifier';
    const ids = ctx.prompt.map((t) => t.id);
    const positions = visibleTokens(ctx);
    if (positions.length === 0) throw new EngineError('empty-input', 'Counterfactual edits need at least one prompt token. Select some prompt text first.');
    const perPosition = wholeNumber(ctx.params.samples, 8, 1, 64, 'Counterfactual candidates per position (samples)');
    const special = new Set(Object.values(ctx.special).filter((v): v is number => v !== undefined));
    const decode = ctx.decode ?? ((v: readonly number[]) => v.map((x) => `#${x}`).join(''));
    const label = (id: number) => (classifier ? (ctx.runner.info.labels?.[id] ?? String(id)) : decode([id]));

    // Candidates: the model's own predictions at each position (causal LMs), gradient estimates, deletions.
    const cands: Candidate[] = [];
    const seen = new Set<string>();
    const add = (c: Candidate) => {
      const key = `${c.tokens.join(',')}:${c.id ?? 'del'}`;
      if (seen.has(key) || (c.id !== undefined && (special.has(c.id) || (c.tokens.length === 1 && c.id === ids[c.tokens[0]])))) return;
      seen.add(key);
      cands.push(c);
    };
    const words = ctx.words.filter((w) => w.length > 1);
    const starts = new Set([...positions, ...words.map((w) => w[0])]);
    const own = new Map<number, number[]>();
    if (!classifier) {
      const start = ctx.special.bos ?? ctx.special.eos;
      for (const i of starts) {
        throwIfAborted(ctx.signal);
        const prefix = i > 0 ? ids.slice(0, i) : start !== undefined ? [start] : undefined;
        if (!prefix) continue;
        own.set(i, (await ctx.runner.topTokens(prefix, perPosition + 1, ctx.signal)).map((t) => t.tokenId));
      }
    }
    const flips = await gradientCandidates(ctx, ids, starts, perPosition, special);
    for (const i of positions) {
      for (const id of (own.get(i) ?? []).slice(0, perPosition)) add({ unit: 'token', tokens: [i], id, source: 'model' });
      for (const id of flips.get(i) ?? []) add({ unit: 'token', tokens: [i], id, source: 'gradient' });
      if (positions.length > 1 || classifier) add({ unit: 'token', tokens: [i], source: 'delete' });
    }
    for (const w of words) {
      if (w.length === positions.length && !classifier) continue;
      add({ unit: 'word', tokens: w, source: 'delete' });
      for (const id of (own.get(w[0]) ?? []).slice(0, perPosition)) add({ unit: 'word', tokens: w, id, source: 'model' });
      for (const id of flips.get(w[0]) ?? []) add({ unit: 'word', tokens: w, id, source: 'gradient' });
    }

    // Verify every candidate with a forward pass (all target rows at once).
    const perBranch = ctx.plan.branches.length;
    const items = cands.flatMap((c) => branchItems(ctx.plan, applyEdit(ids, c.tokens, c.id), undefined, undefined, classifier));
    const { values, batches } = await scoreInBatches(ctx.runner, items, ctx.maxTokensPerBatch, ctx.signal, ctx.onProgress);
    const after = cands.map((_, k) => rowScores(ctx.plan, values.slice(k * perBranch, (k + 1) * perBranch)));
    const before = ctx.plan.rows.map((r) => r.score);
    const n = ctx.prompt.length;
    const scores = ctx.plan.rows.map(() => new Array<number>(n).fill(-Infinity));
    cands.forEach((c, k) => {
      if (c.unit === 'token') ctx.plan.rows.forEach((_, r) => (scores[r][c.tokens[0]] = Math.max(scores[r][c.tokens[0]], before[r] - after[k][r])));
    });
    for (const row of scores) row.forEach((v, t) => (row[t] = Number.isFinite(v) ? v : 0));

    // The best edits of row 0 get a second pass for the model's new top prediction.
    const order = cands.map((_, k) => k).sort((a, b) => after[a][0] - after[b][0]);
    const chosen = new Set<number>();
    const bestPerToken = new Map<number, number>();
    for (const k of order) if (cands[k].unit === 'token' && !bestPerToken.has(cands[k].tokens[0])) bestPerToken.set(cands[k].tokens[0], k);
    [...bestPerToken.values()].slice(0, 48).forEach((k) => chosen.add(k));
    // The overall best, at most three per position, so one token's edits do not crowd out the rest.
    const perStart = new Map<number, number>();
    for (const k of order) {
      if (chosen.size >= Math.min(bestPerToken.size, 48) + 16) break;
      const at = cands[k].tokens[0];
      if ((perStart.get(at) ?? 0) >= 3) continue;
      perStart.set(at, (perStart.get(at) ?? 0) + 1);
      chosen.add(k);
    }
    order.filter((k) => cands[k].unit === 'word').slice(0, 8).forEach((k) => chosen.add(k));
    const topBefore = await ctx.runner.topTokens(rowContext(ctx, 0, ids).context, 1, ctx.signal);
    const edits: CounterfactualEdit[] = [];
    for (const k of [...chosen].sort((a, b) => after[a][0] - after[b][0])) {
      throwIfAborted(ctx.signal);
      const c = cands[k];
      const edited = applyEdit(ids, c.tokens, c.id);
      const { context, tokenId } = rowContext(ctx, 0, edited);
      const top = (await ctx.runner.topTokens(context, 1, ctx.signal))[0];
      const first = ctx.prompt[c.tokens[0]];
      const last = ctx.prompt[c.tokens[c.tokens.length - 1]];
      const original = ctx.text !== undefined ? ctx.text.slice(first.start, last.end) : decode(c.tokens.map((t) => ids[t]));
      edits.push({
        kind: c.id === undefined ? 'delete' : 'replace',
        unit: c.unit,
        tokens: c.tokens,
        start: first.start,
        end: last.end,
        original,
        replacement: c.id === undefined ? '' : decode([c.id]),
        ...(c.id !== undefined ? { replacementId: c.id } : {}),
        source: c.source,
        scoreBefore: before[0],
        scoreAfter: after[k][0],
        delta: after[k][0] - before[0],
        targetProbability: ctx.plan.rows[0].foilTokenId !== undefined ? 1 / (1 + Math.exp(-after[k][0])) : Math.exp(after[k][0]),
        newTop: { text: label(top.tokenId), tokenId: top.tokenId, probability: Math.exp(top.logProb) },
        flipsTop: top.tokenId !== topBefore[0].tokenId || top.tokenId !== tokenId,
      });
    }
    const result: CounterfactualEdits = {
      version: COUNTERFACTUALS_VERSION,
      row: 0,
      top: { text: label(topBefore[0].tokenId), tokenId: topBefore[0].tokenId, probability: Math.exp(topBefore[0].logProb) },
      edits,
      verified: cands.length,
    };
    return {
      scores,
      params: { samples: perPosition },
      meaning: `largest drop in the target log-probability that one verified edit of the token (replacement by one of ${perPosition} candidates, or deletion) causes`,
      batches,
      samples: cands.length,
      counterfactuals: result,
    };
  },
};

/**
 * HotFlip candidates: for each position, the tokens v whose swap-in most lowers row 0's score to first
 * order, (e_v − e_i)·g_i. Empty when the model has no gradients or row 0 spans several inputs.
 */
async function gradientCandidates(ctx: MethodContext, ids: number[], starts: Set<number>, k: number, special: Set<number>): Promise<Map<number, number[]>> {
  const out = new Map<number, number[]>();
  const backend = ctx.runner.gradients;
  if (!backend) return out;
  const classifier = ctx.runner.info.kind === 'sequence-classifier';
  const parts = ctx.plan.branches.map((br) => ({ br, terms: br.terms.filter((t) => t.row === 0) })).filter((p) => p.terms.length);
  if (parts.length !== 1 && !parts.every((p) => p.br.continuation.length === 0)) return out;
  const continuation = classifier ? [] : parts[0].br.continuation;
  const input = [...ids, ...continuation];
  const terms = parts.flatMap((p) => p.terms);
  const [g] = await backend.scoreAndGradient(
    [{ inputsEmbeds: backend.embed(input), inputIds: input, target: { tokenIds: terms.map((t) => t.tokenId), positions: terms.map((t) => (classifier ? 0 : ids.length - 1 + t.offset)), weights: terms.map((t) => t.weight), classScore: 'log-prob' } }],
    ctx.signal,
  );
  const h = backend.hiddenSize;
  const vocab = ctx.runner.info.vocabSize;
  const best = new Map<number, { id: number; est: number }[]>();
  const positions = [...starts];
  for (let v0 = 0; v0 < vocab; v0 += VOCAB_CHUNK) {
    throwIfAborted(ctx.signal);
    const chunk = Array.from({ length: Math.min(VOCAB_CHUNK, vocab - v0) }, (_, j) => v0 + j);
    const e = backend.embed(chunk);
    for (const i of positions) {
      const gi = g.grad.subarray(i * h, (i + 1) * h);
      let self = 0;
      const ei = backend.embed([ids[i]]);
      for (let d = 0; d < h; d++) self += ei[d] * gi[d];
      const list = best.get(i) ?? [];
      chunk.forEach((id, j) => {
        if (special.has(id) || id === ids[i]) return;
        let dot = 0;
        for (let d = 0; d < h; d++) dot += e[j * h + d] * gi[d];
        const est = dot - self;
        if (list.length < k || est < list[list.length - 1].est) {
          list.push({ id, est });
          list.sort((a, b) => a.est - b.est);
          if (list.length > k) list.pop();
        }
      });
      best.set(i, list);
    }
  }
  for (const [i, list] of best) out.set(i, list.map((c) => c.id));
  return out;
}
