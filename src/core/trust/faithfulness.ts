/**
 * Comprehensiveness, sufficiency and deletion curves (DeYoung et al. 2020; ferret's AOPC over k = 10 %…100 %)
 * for any ranking of the prompt tokens, computed with plain forward passes through the same target plan the
 * methods explain. Identical perturbed prompts (methods often agree on their top tokens) are run once.
 */
import type { MethodContext } from '../methods/method';
import { occlude, visibleTokens } from '../methods/occlusion';
import { scoreInBatches } from '../methods/batching';
import type { OcclusionBaseline } from '../request';
import { branchItems, rowScores } from '../targets';
import { randomOrder, rankByScore, topCount } from './ranking';
import type { RowFaithfulness } from './trustReport';

export const AOPC_FRACTIONS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

export interface Ranking {
  name: string;
  /** scores[row][token], as in MethodRun.scores. */
  scores: number[][];
}

export interface FaithfulnessOptions {
  baseline: OcclusionBaseline;
  fractions?: number[];
  /** Seeded random orders averaged into the random reference (default 4). */
  randomOrders?: number;
  seed?: number;
}

export interface FaithfulnessFigures {
  fractions: number[];
  tokens: number;
  methods: { name: string; rows: RowFaithfulness[] }[];
  random: RowFaithfulness[];
  randomOrders: number;
}

const mean = (xs: readonly number[]): number => xs.reduce((s, v) => s + v, 0) / Math.max(1, xs.length);

/** Scores of every target row after removing each of a set of token groups, one forward pass per distinct group. */
export class RemovalScorer {
  private readonly wanted = new Map<string, number[]>();
  private readonly done = new Map<string, number[]>();
  constructor(private readonly ctx: MethodContext, private readonly baseline: OcclusionBaseline) {}

  private static key(removed: readonly number[]): string {
    return [...removed].sort((a, b) => a - b).join(',');
  }

  need(removed: readonly number[]): void {
    if (removed.length) this.wanted.set(RemovalScorer.key(removed), [...removed]);
  }

  async run(): Promise<void> {
    const classifier = this.ctx.runner.info.kind === 'sequence-classifier';
    const per = this.ctx.plan.branches.length;
    // Longest perturbed prompt first (stable): deleting tokens leaves prompts of every length, and a run pads its
    // items to its longest, so runs of like lengths pad little. Llama-135M shape, 32 tokens: 1,518 tokens run
    // instead of 2,407 padded ones. Each removal is scored on its own tokens alike, so the figures do not change.
    const todo = [...this.wanted.entries()].filter(([k]) => !this.done.has(k))
      .map(([k, g]) => ({ k, p: occlude(this.ctx, g, this.baseline) }))
      .map((e, i) => ({ ...e, i }))
      .sort((a, b) => b.p.ids.length - a.p.ids.length || a.i - b.i)
      .map(({ k, p }) => [k, p] as const);
    if (!todo.length) return;
    const items = todo.flatMap(([, p]) => branchItems(this.ctx.plan, p.ids, p.mask, p.positions, classifier));
    const { values } = await scoreInBatches(this.ctx.runner, items, this.ctx.maxTokensPerBatch, this.ctx.signal);
    todo.forEach(([k], i) => this.done.set(k, rowScores(this.ctx.plan, values.slice(i * per, (i + 1) * per))));
  }

  /** Row scores with `removed` taken out (the unperturbed scores for an empty set). */
  scores(removed: readonly number[]): number[] {
    if (!removed.length) return this.ctx.plan.rows.map((r) => r.score);
    const s = this.done.get(RemovalScorer.key(removed));
    if (!s) throw new Error('RemovalScorer: a removal was not scored; call need() and run() first.');
    return s;
  }
}

function rowFigures(scorer: RemovalScorer, order: readonly number[], counts: readonly number[], row: number): RowFaithfulness {
  const full = scorer.scores([])[row];
  const comprehensiveness = counts.map((c) => full - scorer.scores(order.slice(0, c))[row]);
  const sufficiency = counts.map((c) => full - scorer.scores(order.slice(c))[row]);
  return {
    row,
    removed: [...counts],
    deletion: [full, ...comprehensiveness.map((c) => full - c)],
    comprehensiveness,
    sufficiency,
    aopcComprehensiveness: mean(comprehensiveness),
    aopcSufficiency: mean(sufficiency),
  };
}

function averageRows(rows: RowFaithfulness[]): RowFaithfulness {
  const avg = (get: (r: RowFaithfulness) => number[]): number[] => get(rows[0]).map((_, i) => mean(rows.map((r) => get(r)[i])));
  return {
    row: rows[0].row,
    removed: rows[0].removed,
    deletion: avg((r) => r.deletion),
    comprehensiveness: avg((r) => r.comprehensiveness),
    sufficiency: avg((r) => r.sufficiency),
    aopcComprehensiveness: mean(rows.map((r) => r.aopcComprehensiveness)),
    aopcSufficiency: mean(rows.map((r) => r.aopcSufficiency)),
  };
}

export async function faithfulness(ctx: MethodContext, rankings: readonly Ranking[], opts: FaithfulnessOptions): Promise<FaithfulnessFigures> {
  const fractions = opts.fractions ?? AOPC_FRACTIONS;
  const visible = visibleTokens(ctx);
  const counts = fractions.map((f) => topCount(f, visible.length));
  const rows = ctx.plan.rows.map((_, r) => r);
  const scorer = new RemovalScorer(ctx, opts.baseline);
  const orders = rankings.map((rk) => rows.map((r) => rankByScore(rk.scores[r], visible)));
  const nRandom = Math.max(1, opts.randomOrders ?? 4);
  const random = Array.from({ length: nRandom }, (_, i) => randomOrder(visible, (opts.seed ?? 0) * 7919 + i + 1));
  for (const order of [...orders.flat(), ...random]) {
    for (const c of counts) {
      scorer.need(order.slice(0, c));
      scorer.need(order.slice(c));
    }
  }
  await scorer.run();
  return {
    fractions,
    tokens: visible.length,
    methods: rankings.map((rk, m) => ({ name: rk.name, rows: rows.map((r) => rowFigures(scorer, orders[m][r], counts, r)) })),
    random: rows.map((r) => averageRows(random.map((o) => rowFigures(scorer, o, counts, r)))),
    randomOrders: nRandom,
  };
}
