/**
 * Features for the perturbation methods (Shapley sampling, KernelSHAP, LIME, ReAGent): groups of prompt tokens
 * at a unit the aggregation knows (token, word, line, sentence), and the target score of a coalition — the
 * prompt with every feature outside the coalition occluded by an occlusion baseline.
 */
import { groupTokens } from '../aggregation';
import { EngineError } from '../engineProtocol';
import type { Granularity, OcclusionBaseline } from '../request';
import type { ResultToken } from '../result';
import { branchItems, rowScores } from '../targets';
import { scoreInBatches } from './batching';
import type { MethodContext } from './method';
import { occlude, visibleTokens } from './occlusion';

const UNITS: readonly Granularity[] = ['token', 'word', 'line', 'sentence'];

export function featureUnit(ctx: MethodContext): Granularity {
  const unit = ctx.params.features ?? 'token';
  if (!UNITS.includes(unit)) throw new EngineError('bad-target', `Unknown feature unit "${String(unit)}". Use token, word, line or sentence.`);
  return unit;
}

/** Token indices of each feature, in prompt order; special tokens are never features. */
export function featureGroups(ctx: MethodContext, unit: Granularity): number[][] {
  if (unit === 'token') return visibleTokens(ctx).map((i) => [i]);
  if (unit === 'word') return ctx.words.filter((w) => w.length > 0);
  if (ctx.text === undefined) throw new EngineError('bad-target', `Features by ${unit} need the prompt text; explain through the engine.`);
  const text = ctx.text;
  const tokens: ResultToken[] = ctx.prompt.map((t, index) => ({ index, id: t.id, start: t.start, end: t.end, text: text.slice(t.start, t.end), special: t.special }));
  return groupTokens(text, tokens, unit).map((g) => g.tokens);
}

/** The baseline a perturbation method occludes with (occlusion's default: delete, mask for classifiers). */
export function perturbationBaseline(ctx: MethodContext): OcclusionBaseline {
  return ctx.params.baseline ?? (ctx.runner.info.kind === 'sequence-classifier' && ctx.special.mask !== undefined ? 'mask' : 'delete');
}

export const BASELINE_WORDS: Record<OcclusionBaseline, string> = {
  delete: 'deleted',
  attention: 'hidden from attention',
  pad: 'replaced by the pad token',
  unk: 'replaced by the unknown token',
  mask: 'replaced by the mask token',
  space: 'replaced by a space',
};

export const UNIT_PLURAL: Record<Granularity, string> = { token: 'tokens', word: 'words', line: 'lines', sentence: 'sentences' };

/**
 * Target row scores of coalitions (1 = feature kept). Scores are memoised by coalition, so repeated
 * coalitions cost nothing, and the full prompt is the plan's own score. Coalitions are scored in order of
 * their first occluded token, so that a run's items share the longest possible unperturbed prefix, which the
 * runner computes once.
 */
export class CoalitionScorer {
  private readonly memo = new Map<string, number[]>();
  private readonly classifier: boolean;
  batches = 0;
  /** Distinct coalitions scored by forward passes. */
  evaluated = 0;

  constructor(
    private readonly ctx: MethodContext,
    readonly groups: number[][],
    readonly baseline: OcclusionBaseline,
  ) {
    this.classifier = ctx.runner.info.kind === 'sequence-classifier';
    this.memo.set(keyOf(new Uint8Array(groups.length).fill(1)), ctx.plan.rows.map((r) => r.score));
  }

  get features(): number {
    return this.groups.length;
  }

  /** Row scores per coalition, in the order given. */
  async scores(coalitions: readonly Uint8Array[], onProgress?: (done: number, total: number) => void): Promise<number[][]> {
    const keys = coalitions.map(keyOf);
    const todo: { key: string; hidden: number[]; first: number }[] = [];
    const queued = new Set<string>();
    coalitions.forEach((c, k) => {
      const key = keys[k];
      if (this.memo.has(key) || queued.has(key)) return;
      queued.add(key);
      const hidden: number[] = [];
      c.forEach((keep, f) => {
        if (!keep) hidden.push(...this.groups[f]);
      });
      hidden.sort((a, b) => a - b);
      todo.push({ key, hidden, first: hidden.length ? hidden[0] : Infinity });
    });
    if (todo.length) {
      todo.sort((a, b) => b.first - a.first);
      const perBranch = this.ctx.plan.branches.length;
      const items = todo.flatMap((t) => {
        const p = occlude(this.ctx, t.hidden, this.baseline);
        return branchItems(this.ctx.plan, p.ids, p.mask, p.positions, this.classifier);
      });
      const { values, batches } = await scoreInBatches(this.ctx.runner, items, this.ctx.maxTokensPerBatch, this.ctx.signal, onProgress && ((d, n) => onProgress(d / perBranch, n / perBranch)));
      this.batches += batches;
      this.evaluated += todo.length;
      todo.forEach((t, k) => this.memo.set(t.key, rowScores(this.ctx.plan, values.slice(k * perBranch, (k + 1) * perBranch))));
    }
    return keys.map((k) => this.memo.get(k)!);
  }
}

function keyOf(c: Uint8Array): string {
  return c.join('');
}

/** Per-feature values spread evenly over each feature's tokens, as occlusion spreads a group's effect. */
export function spreadOverTokens(values: readonly number[], groups: readonly number[][], tokens: number): number[] {
  const out = new Array<number>(tokens).fill(0);
  groups.forEach((g, f) => g.forEach((t) => (out[t] += values[f] / g.length)));
  return out;
}

/** Checks a whole-number parameter and names the fix when it is out of range. */
export function wholeNumber(value: number | undefined, fallback: number, min: number, max: number, what: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) throw new EngineError('bad-target', `${what} must be a whole number from ${min} to ${max} (got ${value}).`);
  return v;
}

export function needFeatures(groups: number[][], method: string): void {
  if (groups.length === 0) throw new EngineError('empty-input', `${method} needs at least one token to perturb. Select some prompt text first.`);
}
