/**
 * Occlusion: attribution of a group of tokens = target score with the full prompt − target score with the
 * group occluded. A group's effect is shared evenly by its tokens and a token in several groups (sliding
 * windows) gets the mean of its shares, so a width-1 window is exactly leave-one-out.
 */
import { EngineError } from '../engineProtocol';
import type { OcclusionBaseline } from '../request';
import { branchItems, rowScores } from '../targets';
import { firstBatchAlongside, scoreInBatches, type BatchOrder } from './batching';
import type { ForwardItem, ScoreValue } from '../modelRunner';
import type { PartialUnit } from '../partialResult';
import type { AttributionMethod, MethodContext, MethodOutput } from './method';

interface Perturbed {
  ids: number[];
  mask?: number[];
  positions?: number[];
}

export function occlude(ctx: MethodContext, group: readonly number[], baseline: OcclusionBaseline): Perturbed {
  const ids = ctx.prompt.map((t) => t.id);
  const hidden = new Set(group);
  if (baseline === 'delete') {
    let kept = ids.filter((_, i) => !hidden.has(i));
    if (kept.length === 0) {
      // A causal LM needs at least one token of context: an empty prompt becomes the start-of-text token.
      const start = ctx.special.bos ?? ctx.special.eos ?? ctx.special.pad;
      if (start === undefined) throw new EngineError('bad-target', 'Deleting the only prompt token leaves nothing to run. Use a longer prompt or another baseline.');
      kept = [start];
    }
    return { ids: kept };
  }
  if (baseline === 'attention') {
    return { ids, mask: ids.map((_, i) => (hidden.has(i) ? 0 : 1)), positions: ids.map((_, i) => i) };
  }
  const replacement = baselineId(ctx, baseline);
  return { ids: ids.map((id, i) => (hidden.has(i) ? replacement : id)) };
}

function baselineId(ctx: MethodContext, baseline: Exclude<OcclusionBaseline, 'delete' | 'attention'>): number {
  const id = baseline === 'space' ? ctx.spaceId : ctx.special[baseline];
  if (id === undefined) {
    throw new EngineError('bad-target', `This model's tokenizer has no ${baseline} token. Choose another occlusion baseline (delete, attention${ctx.spaceId !== undefined ? ', space' : ''}).`);
  }
  return id;
}

/** Options of occlusionScores beyond the groups themselves. */
export interface OcclusionRun {
  /** Which batches run first (see BatchOrder); the numbers are the same either way. */
  order?: BatchOrder;
  /**
   * Called after every run but the last with which groups are finished (all their passes ran) and the
   * scores of those groups (a token of an unfinished group scores 0 here).
   */
  onGroups?: (finished: readonly boolean[], scores: number[][]) => void;
}

/**
 * Runs occlusion over token groups and spreads each group's effect over its tokens. With `stream` and a
 * partial sink in the context, the scores of the groups finished so far go out after every run.
 */
export async function occlusionScores(
  ctx: MethodContext,
  groups: number[][],
  baseline: OcclusionBaseline,
  stream?: { unit: PartialUnit; meaning: string },
  run: OcclusionRun = {},
): Promise<{ scores: number[][]; batches: number; passes: number }> {
  const full = ctx.plan.rows.map((r) => r.score);
  const perBranch = ctx.plan.branches.length;
  const items = occlusionItems(ctx, groups, baseline);
  const n = ctx.prompt.length;
  /** Scores from the finished groups (a token in no finished group scores 0). */
  const accumulate = (values: readonly (ScoreValue[] | undefined)[], finished: readonly boolean[]): { scores: number[][]; counts: Float64Array } => {
    const sums = ctx.plan.rows.map(() => new Float64Array(n));
    const counts = new Float64Array(n);
    groups.forEach((g, gi) => {
      if (!finished[gi]) return;
      const perturbed = rowScores(ctx.plan, values.slice(gi * perBranch, (gi + 1) * perBranch) as ScoreValue[][]);
      for (const t of g) {
        counts[t]++;
        perturbed.forEach((s, r) => (sums[r][t] += (full[r] - s) / g.length));
      }
    });
    return { scores: sums.map((row) => Array.from(row, (v, t) => (counts[t] ? v / counts[t] : 0))), counts };
  };
  const finishedOf = (values: readonly (ScoreValue[] | undefined)[]): boolean[] =>
    groups.map((_, gi) => values.slice(gi * perBranch, (gi + 1) * perBranch).every((v) => v !== undefined));
  const sink = stream && ctx.onPartial;
  const onValues = sink || run.onGroups
    ? (values: readonly (ScoreValue[] | undefined)[]) => {
        const finished = finishedOf(values);
        if (finished.every(Boolean)) return; // the final scores follow at once
        const { scores, counts } = accumulate(values, finished);
        run.onGroups?.(finished, scores);
        if (!sink) return;
        // A token of a sliding window counts as scored only once every window over it ran.
        const remaining = new Set(groups.filter((_, gi) => !finished[gi]).flat());
        const pending = [...new Set(groups.flat())].filter((t) => remaining.has(t) || !counts[t]).sort((a, b) => a - b);
        for (const t of pending) for (const row of scores) row[t] = 0;
        const done = finished.filter(Boolean).length;
        sink({ scores, unit: stream.unit, passes: done * perBranch, totalPasses: groups.length * perBranch, pending, meaning: stream.meaning });
      }
    : undefined;
  const { values, batches } = await scoreInBatches(ctx.runner, items, ctx.maxTokensPerBatch, ctx.signal, ctx.onProgress, onValues, run.order);
  return { scores: accumulate(values, groups.map(() => true)).scores, batches, passes: items.length };
}

/** The forward items of occluding each group, every branch of the plan after each. */
function occlusionItems(ctx: MethodContext, groups: readonly (readonly number[])[], baseline: OcclusionBaseline): ForwardItem[] {
  const classifier = ctx.runner.info.kind === 'sequence-classifier';
  return groups.flatMap((g) => {
    const p = occlude(ctx, g, baseline);
    return branchItems(ctx.plan, p.ids, p.mask, p.positions, classifier);
  });
}

/** What an occlusion over `groups` may have run alongside the prediction (AttributionMethod.alongsidePrediction). */
function alongside(ctx: MethodContext, groups: readonly (readonly number[])[], baseline: OcclusionBaseline): ForwardItem[] {
  return firstBatchAlongside(ctx.runner, ctx.prompt.map((t) => t.id), occlusionItems(ctx, groups, baseline), ctx.maxTokensPerBatch);
}

/** Indices of the prompt tokens a method may occlude (special tokens stay). */
export function visibleTokens(ctx: MethodContext): number[] {
  return ctx.prompt.flatMap((t, i) => (t.special ? [] : [i]));
}

const MEANINGS: Record<OcclusionBaseline, string> = {
  delete: 'drop in the target log-probability when the token is deleted',
  attention: 'drop in the target log-probability when the token is hidden from attention (positions kept)',
  pad: 'drop in the target log-probability when the token is replaced by the pad token',
  unk: 'drop in the target log-probability when the token is replaced by the unknown token',
  mask: 'drop in the target log-probability when the token is replaced by the mask token',
  space: 'drop in the target log-probability when the token is replaced by a space',
};

/** The occlusion baseline a request asks for, else delete (LMs) or the mask token (classifiers that have one). */
export function defaultBaseline(ctx: MethodContext): OcclusionBaseline {
  return ctx.params.baseline ?? (ctx.runner.info.kind === 'sequence-classifier' && ctx.special.mask !== undefined ? 'mask' : 'delete');
}

export const leaveOneOut: AttributionMethod = {
  name: 'occlusion',
  label: 'Occlusion (leave one out)',
  description: 'Removes each token in turn and measures how much the target score drops. Faithful to the model by construction; one forward pass per token.',
  needsGradients: false,
  alongsidePrediction: (ctx) => alongside(ctx, visibleTokens(ctx).map((i) => [i]), defaultBaseline(ctx)),
  async run(ctx): Promise<MethodOutput> {
    const baseline = defaultBaseline(ctx);
    const meaning = MEANINGS[baseline];
    const { scores, batches, passes } = await occlusionScores(ctx, visibleTokens(ctx).map((i) => [i]), baseline, { unit: 'token', meaning });
    return { scores, batches, params: { baseline }, meaning, occlusions: passes };
  },
};

export const slidingWindow: AttributionMethod = {
  name: 'sliding-window',
  label: 'Occlusion (sliding window)',
  description: 'Occludes spans of w tokens every s tokens; catches effects that need several tokens at once (names, numbers). Fewer passes than leave-one-out when s > 1.',
  needsGradients: false,
  alongsidePrediction: (ctx) => alongside(ctx, slidingWindows(ctx).groups, defaultBaseline(ctx)),
  async run(ctx): Promise<MethodOutput> {
    const baseline = defaultBaseline(ctx);
    const { groups, width, stride } = slidingWindows(ctx);
    const meaning = `${MEANINGS[baseline]}, in windows of ${width} (stride ${stride}), shared by the window's tokens`;
    const { scores, batches, passes } = await occlusionScores(ctx, groups, baseline, { unit: 'window', meaning });
    return { scores, batches, params: { baseline, window: width, stride }, meaning, occlusions: passes };
  },
};

/** Spans of `window` tokens every `stride` tokens (the request's parameters; 3 and 1 by default). */
function slidingWindows(ctx: MethodContext): { groups: number[][]; width: number; stride: number } {
  const visible = visibleTokens(ctx);
  const width = ctx.params.window ?? 3;
  const stride = ctx.params.stride ?? 1;
  if (!(Number.isInteger(width) && width >= 1 && Number.isInteger(stride) && stride >= 1)) {
    throw new EngineError('bad-target', `Window width and stride must be whole numbers ≥ 1 (got width ${width}, stride ${stride}).`);
  }
  const groups: number[][] = [];
  for (let s = 0; s < visible.length; s += stride) {
    groups.push(visible.slice(s, s + width));
    if (s + width >= visible.length) break;
  }
  return { groups, width, stride };
}

export const wordOcclusion: AttributionMethod = {
  name: 'word-occlusion',
  label: 'Occlusion (whole words)',
  description: 'Occludes whole words, so a word split into several tokens is removed at once. Best for prompts where subword pieces mean little alone.',
  needsGradients: false,
  alongsidePrediction: (ctx) => alongside(ctx, ctx.words, defaultBaseline(ctx)),
  async run(ctx): Promise<MethodOutput> {
    const baseline = defaultBaseline(ctx);
    const meaning = `${MEANINGS[baseline].replace('the token is', 'its word is')}, shared by the word's tokens`;
    const { scores, batches, passes } = await occlusionScores(ctx, ctx.words, baseline, { unit: 'word', meaning });
    return { scores, batches, params: { baseline }, meaning, occlusions: passes };
  },
};
