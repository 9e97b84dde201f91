/**
 * The refinement rule of coarse-to-fine occlusion, apart from the model: which spans of the span tree are
 * occluded, in which order, and when to stop. `occlude` measures a list of spans (one exact occlusion each);
 * everything else here is deterministic bookkeeping, so the rule can be tested on any span tree.
 *
 * Rule: score the coarse level (the root's children). Every scored span with more than one token waits in a
 * queue ordered by its mass Σ_rows |effect| (ties: earlier span first). Each round takes spans from the head
 * while their children fit into one round's passes (at least one span), skipping spans whose children no
 * longer fit into the pass budget, and occludes every child of each. It stops when nothing left fits or when
 * the time budget has run out.
 */
import type { SpanNode } from './coarseToFine';

export interface RefineOptions {
  /** Most forward passes in all; each span occlusion costs `perBranch` passes. */
  passBudget: number;
  perBranch: number;
  /** Passes one round may take (a batch's worth); a round always takes at least one span. */
  roundPasses: number;
  /** True once the time budget has run out (checked before every round after the coarse level). */
  outOfTime?: () => boolean;
}

export interface RefineState {
  /** Exact effect of every occluded span, per target row. */
  effects: Map<SpanNode, number[]>;
  passes: number;
  /** Spans whose children were occluded. */
  refined: number;
}

const mass = (effect: readonly number[]): number => effect.reduce((s, e) => s + Math.abs(e), 0);

/**
 * Runs the rule. `occlude` returns each span's effect per row; `onRound` sees the state after each round
 * (the coarse level first).
 */
export async function refineSpans(
  root: SpanNode,
  occlude: (nodes: SpanNode[]) => Promise<number[][]>,
  opts: RefineOptions,
  onRound?: (state: RefineState, nodes: SpanNode[]) => void,
): Promise<RefineState> {
  const state: RefineState = { effects: new Map(), passes: 0, refined: 0 };
  const run = async (nodes: SpanNode[]): Promise<void> => {
    const out = await occlude(nodes);
    nodes.forEach((c, i) => state.effects.set(c, out[i]));
    state.passes += nodes.length * opts.perBranch;
    onRound?.(state, nodes);
  };
  const weight = (node: SpanNode): number => mass(state.effects.get(node)!);
  const queue: SpanNode[] = [];
  const enqueue = (nodes: SpanNode[]): void => {
    for (const c of nodes) if (c.children.length) queue.push(c);
    queue.sort((a, b) => weight(b) - weight(a) || a.tokens[0] - b.tokens[0]);
  };
  const first = root.children.length ? root.children : [root];
  await run(first);
  enqueue(first);
  while (queue.length) {
    if (opts.outOfTime?.()) break;
    const take: SpanNode[] = [];
    let cost = 0;
    for (let i = 0; i < queue.length; ) {
      const c = queue[i].children.length * opts.perBranch;
      if (state.passes + cost + c > opts.passBudget) {
        i++; // too dear for what is left of the budget: a smaller span further down may still fit
        continue;
      }
      if (take.length && cost + c > opts.roundPasses) break;
      take.push(...queue.splice(i, 1));
      cost += c;
    }
    if (!take.length) break;
    const children = take.flatMap((s) => s.children);
    await run(children);
    state.refined += take.length;
    enqueue(children);
  }
  return state;
}
