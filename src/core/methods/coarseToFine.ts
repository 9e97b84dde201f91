/**
 * Coarse-to-fine occlusion: occlude paragraphs (or sentences) first, then refine inside the spans whose
 * occlusion moves the score most — sentences, then single tokens — until a pass or time budget is spent. The refinement rule is in coarseToFinePlan.ts.
 *
 * Every number is an exact occlusion of its span at its level; an unrefined span's effect is shared evenly by
 * its tokens, as word occlusion does. With no budget limit every token is occluded alone: leave-one-out.
 * Partial results go out after every batch; the coarse level runs its cheapest batches (the prompt's end) first,
 * which changes when a span's number arrives, not the number nor which spans are refined.
 */
import { EngineError } from '../engineProtocol';
import { groupTokens } from '../aggregation';
import type { ResultToken, SpanLevel } from '../result';
import { defaultBaseline, occlusionScores, visibleTokens } from './occlusion';
import type { AttributionMethod, MethodContext, MethodOutput } from './method';
import { refineSpans, type RefineState } from './coarseToFinePlan';

export const SPAN_LEVELS: readonly SpanLevel[] = ['paragraph', 'sentence', 'word', 'token'];

export interface SpanNode {
  tokens: number[];
  /** The finest level whose unit is exactly this set of tokens. */
  level: SpanLevel;
  children: SpanNode[];
}

/**
 * Default pass budget: a fifth of leave-one-out's passes (the coarse level always completes). On the bench's
 * 1,227-token prompt this keeps leave-one-out's top 10 tokens (npm run bench long).
 */
export const DEFAULT_PASS_SHARE = 0.2;

/**
 * The span tree of the visible prompt tokens: root (the whole prompt) → paragraphs → sentences → words →
 * tokens. A span with a single child is replaced by that child's children (occluding it again would repeat
 * the same pass), so every node's children are strictly smaller than the node.
 */
export function spanTree(ctx: MethodContext): SpanNode {
  const visible = visibleTokens(ctx);
  const text = ctx.text ?? '';
  const tokens: ResultToken[] = ctx.prompt.map((t, index) => ({ index, id: t.id, start: t.start, end: t.end, special: t.special, text: text.slice(t.start, t.end) }));
  const keyOf = (groups: number[][]): Map<number, number> => {
    const m = new Map<number, number>();
    groups.forEach((g, gi) => g.forEach((t) => m.set(t, gi)));
    return m;
  };
  const sentenceGroups = groupTokens(text, tokens, 'sentence');
  const sentenceKey = keyOf(sentenceGroups.map((g) => g.tokens));
  const paragraphKey = keyOf(paragraphGroups(text, sentenceGroups));
  // Words are the unit below sentences; a word belongs to the sentence and paragraph of its first token with
  // visible text (whitespace before a word belongs to that word), so every span is a union of whole words.
  const isVisible = new Set(visible);
  const words = ctx.words.map((w) => w.filter((t) => isVisible.has(t))).filter((w) => w.length);
  const inWord = new Set(words.flat());
  for (const t of visible) if (!inWord.has(t)) words.push([t]);
  const paths = new Map<number, number[]>();
  words.forEach((w, wi) => {
    const anchor = w.find((t) => /\S/.test(tokens[t].text)) ?? w[w.length - 1];
    const sentence = sentenceKey.get(anchor) ?? -1 - anchor;
    const paragraph = paragraphKey.get(anchor) ?? -1 - anchor;
    for (const t of w) paths.set(t, [paragraph, sentence, wi, t]);
  });
  const build = (members: number[], depth: number): SpanNode => {
    if (members.length === 1) return { tokens: members, level: 'token', children: [] };
    const byKey = new Map<number, number[]>();
    for (const t of members) {
      const k = paths.get(t)![depth];
      const list = byKey.get(k);
      if (list) list.push(t);
      else byKey.set(k, [t]);
    }
    const parts = [...byKey.values()];
    if (parts.length === 1) return build(members, depth + 1);
    const level = depth === 0 ? 'paragraph' : SPAN_LEVELS[depth - 1];
    // A sentence splits straight into its tokens: a word's pieces often pull in opposite directions, so a
    // word's small score hides a piece that matters (and words then tokens cost more passes than tokens alone).
    // A prompt of one sentence keeps its words as the coarse level.
    if (depth === 2 && members.length < visible.length) return { tokens: members, level, children: members.map((t) => ({ tokens: [t], level: 'token', children: [] })) };
    return { tokens: members, level, children: parts.map((p) => build(p, depth + 1)) };
  };
  return build([...visible].sort((a, b) => a - b), 0);
}

/** Paragraphs: runs of sentences not separated by a blank line. */
function paragraphGroups(text: string, sentences: { tokens: number[]; start: number; end: number }[]): number[][] {
  const out: number[][] = [];
  let prevEnd = -1;
  for (const s of sentences) {
    // Whitespace alone (the blank line itself) stays with the paragraph it ends.
    if (out.length && text.slice(s.start, s.end).trim() === '') {
      out[out.length - 1].push(...s.tokens);
      continue;
    }
    const gap = prevEnd < 0 ? '' : text.slice(lastContent(text, prevEnd), firstContent(text, s.start, s.end));
    if (out.length === 0 || /\n[^\S\n]*\n/.test(gap)) out.push([]);
    out[out.length - 1].push(...s.tokens);
    prevEnd = s.end;
  }
  return out;
}
function lastContent(text: string, end: number): number {
  let i = end;
  while (i > 0 && /\s/.test(text[i - 1])) i--;
  return i;
}
function firstContent(text: string, start: number, end: number): number {
  let i = start;
  while (i < end && /\s/.test(text[i])) i++;
  return i;
}

export interface Budget {
  /** Most forward passes in all (each span occlusion costs one pass per target branch). */
  passes: number;
  /** Seconds of refinement; the coarse level always completes. */
  seconds?: number;
}

export const coarseToFine: AttributionMethod = {
  name: 'coarse-to-fine',
  label: 'Occlusion (coarse to fine)',
  description: 'Occludes paragraphs or sentences first, then tokens inside the spans that matter most, within a pass and time budget. Far fewer passes than leave-one-out on long prompts; every score is an exact occlusion of its span.',
  needsGradients: false,
  async run(ctx): Promise<MethodOutput> {
    const t0 = performance.now();
    const baseline = defaultBaseline(ctx);
    const perBranch = Math.max(1, ctx.plan.branches.length);
    const visible = visibleTokens(ctx);
    const loo = visible.length * perBranch;
    const { passBudget, timeBudget } = ctx.params;
    if (passBudget !== undefined && !(Number.isInteger(passBudget) && passBudget >= 1)) throw new EngineError('bad-target', `The pass budget must be a whole number ≥ 1 (got ${passBudget}).`);
    if (timeBudget !== undefined && !(timeBudget > 0)) throw new EngineError('bad-target', `The time budget must be a number of seconds above 0 (got ${timeBudget}).`);
    const budget: Budget = { passes: passBudget ?? Math.max(1, Math.ceil(loo * DEFAULT_PASS_SHARE)), ...(timeBudget !== undefined ? { seconds: timeBudget } : {}) };

    const root = spanTree(ctx);
    const rows = ctx.plan.rows.length;
    const n = ctx.prompt.length;
    const scores = Array.from({ length: rows }, () => new Array<number>(n).fill(0));
    const levels = new Array<SpanLevel | null>(n).fill(null);
    let batches = 0;
    let passesSoFar = 0;
    const totalPasses = (passes: number): number => Math.max(passes, Math.min(budget.passes, loo));
    const assign = (node: SpanNode, effect: readonly number[]): void => {
      for (const t of node.tokens) {
        effect.forEach((e, r) => (scores[r][t] = e / node.tokens.length));
        levels[t] = node.level;
      }
    };
    const meaning = (passes: number): string => `drop in the target log-probability when the token's span is ${baseline === 'delete' ? 'deleted' : 'occluded'}, shared by the span's tokens; refining coarse to fine (${passes} passes so far)`;
    // Every score so far is an exact occlusion of its span: a consistent picture to show while refining.
    const send = (nodes: readonly SpanNode[], passes: number, pending?: number[]): void => {
      const unit = SPAN_LEVELS[Math.max(...nodes.map((c) => SPAN_LEVELS.indexOf(c.level)))];
      ctx.onPartial?.({ scores, spanLevels: levels, unit, passes, totalPasses: totalPasses(passes), meaning: meaning(passes), ...(pending?.length ? { pending } : {}) });
      ctx.onProgress?.(passes, totalPasses(passes));
    };
    const effectOf = (node: SpanNode, rows: readonly number[][]): number[] => rows.map((row) => row[node.tokens[0]] * node.tokens.length);
    const occlude = async (nodes: SpanNode[]): Promise<number[][]> => {
      // The coarse level has no scores to show before it: it runs its cheapest batches (the prompt's end) first
      // and streams after each one, its spans not reached yet pending. A refining round streams too; its
      // spans not reached yet keep their parent's score.
      const coarse = passesSoFar === 0;
      const out = await occlusionScores({ ...ctx, onProgress: undefined }, nodes.map((c) => c.tokens), baseline, undefined, {
        ...(coarse ? { order: 'cheapest-first' as const } : {}),
        ...(ctx.onPartial || ctx.onProgress
          ? {
              onGroups: (finished, partial) => {
                nodes.forEach((c, i) => finished[i] && assign(c, effectOf(c, partial)));
                const pending = coarse ? nodes.flatMap((c, i) => (finished[i] ? [] : c.tokens)).sort((a, b) => a - b) : undefined;
                send(nodes, passesSoFar + finished.filter(Boolean).length * perBranch, pending);
              },
            }
          : {}),
      });
      batches += out.batches;
      return nodes.map((c) => effectOf(c, out.scores));
    };
    const onRound = (state: RefineState, nodes: SpanNode[]): void => {
      nodes.forEach((c) => assign(c, state.effects.get(c)!));
      passesSoFar = state.passes;
      send(nodes, state.passes);
    };
    // One round refines as many spans as one batch holds (a batch of full-length sequences), at least one.
    const roundPasses = Math.max(1, Math.floor(ctx.maxTokensPerBatch / Math.max(1, n)));
    const { passes, refined } = await refineSpans(root, occlude, {
      passBudget: budget.passes,
      perBranch,
      roundPasses,
      ...(budget.seconds !== undefined ? { outOfTime: () => (performance.now() - t0) / 1000 >= budget.seconds! } : {}),
    }, onRound);
    // Refinement can stop short of the planned passes (nothing left fits): the progress line ends at what ran.
    ctx.onProgress?.(passes, passes);

    const shown = levels.filter((l): l is SpanLevel => l !== null);
    const counts = SPAN_LEVELS.map((l) => `${shown.filter((x) => x === l).length} ${l}`).join(', ');
    return {
      scores,
      batches,
      params: { baseline, passBudget: budget.passes, ...(budget.seconds !== undefined ? { timeBudget: budget.seconds } : {}) },
      meaning: `drop in the target log-probability when the token's span is ${baseline === 'delete' ? 'deleted' : 'occluded'}, shared by the span's tokens; spans refined coarse to fine where they matter (tokens scored at: ${counts}; ${refined} spans refined, ${passes} of ${loo} leave-one-out passes)`,
      spanLevels: levels,
      occlusions: passes,
    };
  },
};
