/**
 * ReAGent (Zhao & Shan 2024; inseq's `reagent` port): recursive replacement with forward passes only. Each probe
 * keeps an importance logit per feature, initialised at random. A step replaces a random share (ratio) of the
 * features with sampled tokens and measures Δ = p(target | prompt) − p(target | replaced); replaced features
 * gain logit(½ + ½Δ), the others logit(½ − ½Δ). A probe stops when its top-n features alone are sufficient:
 * with every other feature replaced, the target is still among the model's top k. Probes run side by side in
 * one batch per step. The stop rule is first checked after ⌈9 / ratio⌉ steps (each feature replaced about nine
 * times), so that a probe's importance is no longer its random start. The scores are the mean softmax importance
 * of the probes that stopped (of all probes when none did), with its standard error over those probes.
 */
import { EngineError } from '../engineProtocol';
import { throwIfAborted } from '../modelRunner';
import type { OcclusionBaseline } from '../request';
import { branchItems, rowScores } from '../targets';
import { scoreInBatches } from './batching';
import { featureGroups, featureUnit, needFeatures, spreadOverTokens, UNIT_PLURAL, wholeNumber } from './features';
import type { AttributionMethod, MethodContext, MethodOutput } from './method';
import { occlude } from './occlusion';
import { mulberry32 } from './smoothGrad';
import { meanAndStdErr } from './shapleySampling';

export type ReplacementSampler = 'uniform' | 'model' | { baseline: OcclusionBaseline };

export interface ReagentOptions {
  probes: number;
  maxSteps: number;
  ratio: number;
  keepTop: number;
  topK: number;
  /** Steps before the stop rule is first checked (the importance starts random). */
  minSteps: number;
  sampler: ReplacementSampler;
  seed: number;
}

export interface ProbeTrace {
  /** Steps this probe ran (≤ maxSteps). */
  steps: number;
  stopped: boolean;
  /** The passing sufficiency check: kept features, the input it ran, per row the context scored. */
  stopCheck?: { kept: number[]; contexts: number[][]; topK: number };
  /** Importance (softmax of the logits) per row when the probe ended. */
  importance: number[][];
}

export interface ReagentRun {
  scores: number[][];
  stderr?: number[][];
  probes: ProbeTrace[];
  batches: number;
}

export function reagentOptions(ctx: MethodContext): ReagentOptions {
  const p = ctx.params;
  const ratio = p.ratio ?? 0.3;
  if (!(ratio > 0 && ratio < 1)) throw new EngineError('bad-target', `The ReAGent replacement ratio must be between 0 and 1 (got ${p.ratio}).`);
  const classes = ctx.runner.info.kind === 'sequence-classifier' ? (ctx.runner.info.labels?.length ?? 2) : ctx.runner.info.vocabSize;
  let sampler: ReplacementSampler = p.replacement ?? 'uniform';
  if (!p.replacement && p.baseline) sampler = { baseline: p.baseline };
  if (typeof sampler === 'object' && sampler.baseline === 'attention') {
    throw new EngineError('bad-target', 'ReAGent checks its stop rule on a plain prompt, so it cannot hide tokens from attention. Use a replacing baseline (pad, unk, mask, space), delete, or a sampler (uniform, model).');
  }
  if (sampler === 'model' && ctx.runner.info.kind !== 'causal-lm') {
    throw new EngineError('bad-target', 'The "model" replacement sampler needs a language model (it samples the model\u2019s own next-token predictions). Use uniform replacement for classifiers.');
  }
  const maxSteps = wholeNumber(p.steps, 100, 1, 10000, 'ReAGent maximum steps');
  return {
    probes: wholeNumber(p.samples, 8, 1, 256, 'ReAGent probes (samples)'),
    maxSteps,
    // The importance starts random: a probe may not stop before each feature has been replaced about nine
    // times on average. Without this, probes that met the rule by luck in their first steps dominated the
    // mean (top-1 cause recovery on the bundled LM's held-out prompts: 12 % without, 40 % with).
    minSteps: Math.min(maxSteps, Math.ceil(9 / ratio)),
    ratio,
    keepTop: wholeNumber(p.keepTop, 5, 1, 10000, 'ReAGent features kept by the stop rule'),
    topK: Math.min(3, Math.max(1, classes - 1)),
    sampler,
    seed: wholeNumber(p.seed, 0, 0, 2 ** 32 - 1, 'The seed'),
  };
}

/** Probability-like value of a row score: p for log-probability rows, p/(p+p_foil) for contrasts. */
function rowProbability(ctx: MethodContext, r: number, score: number): number {
  return ctx.plan.rows[r].foilTokenId !== undefined ? 1 / (1 + Math.exp(-score)) : Math.exp(score);
}

function logit(p: number): number {
  const q = Math.min(1 - 1e-7, Math.max(1e-7, p));
  return Math.log(q / (1 - q));
}

function softmax(x: Float64Array): number[] {
  const max = Math.max(...x);
  const e = Array.from(x, (v) => Math.exp(v - max));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

export async function runReagent(ctx: MethodContext, groups: number[][], o: ReagentOptions): Promise<ReagentRun> {
  const m = groups.length;
  const rows = ctx.plan.rows.length;
  const rand = mulberry32(o.seed);
  const ids = ctx.prompt.map((t) => t.id);
  const classifier = ctx.runner.info.kind === 'sequence-classifier';
  const special = new Set(Object.values(ctx.special).filter((v): v is number => v !== undefined));
  const vocab = ctx.runner.info.vocabSize;
  const modelCandidates = o.sampler === 'model' ? await ownPredictions(ctx, ids) : undefined;
  const sample = (pos: number): number => {
    if (modelCandidates?.[pos]?.length) return modelCandidates[pos][Math.floor(rand() * modelCandidates[pos].length)];
    for (;;) {
      const v = Math.floor(rand() * vocab);
      if (!special.has(v) && v !== ids[pos]) return v;
    }
  };
  /** The prompt with these features replaced; as ids, or occluded by a baseline sampler. */
  const replaced = (features: number[]) => {
    const hidden = features.flatMap((f) => groups[f]);
    if (typeof o.sampler === 'object') return occlude(ctx, hidden, o.sampler.baseline);
    const out = ids.slice();
    for (const t of hidden) out[t] = sample(t);
    return { ids: out, mask: undefined, positions: undefined };
  };
  const original = ctx.plan.rows.map((r, i) => rowProbability(ctx, i, r.score));
  const keep = Math.min(o.keepTop, Math.max(1, m - 1));
  const logits = Array.from({ length: o.probes }, () => ctx.plan.rows.map(() => Float64Array.from({ length: m }, () => rand())));
  const traces: ProbeTrace[] = logits.map(() => ({ steps: 0, stopped: false, importance: [] }));
  const perBranch = ctx.plan.branches.length;
  let batches = 0;
  for (let step = 0; step < o.maxSteps; step++) {
    throwIfAborted(ctx.signal);
    const active = traces.flatMap((t, p) => (t.stopped ? [] : [p]));
    if (active.length === 0) break;
    // Update: every active probe replaces a random share of the features.
    const chosen = active.map(() => Array.from({ length: m }, () => rand() < o.ratio));
    const perturbed = chosen.map((c) => replaced(c.flatMap((v, f) => (v ? [f] : []))));
    const items = perturbed.flatMap((p) => branchItems(ctx.plan, p.ids, p.mask, p.positions, classifier));
    const { values, batches: b } = await scoreInBatches(ctx.runner, items, ctx.maxTokensPerBatch, ctx.signal);
    batches += b;
    active.forEach((p, a) => {
      const after = rowScores(ctx.plan, values.slice(a * perBranch, (a + 1) * perBranch));
      for (let r = 0; r < rows; r++) {
        const delta = original[r] - rowProbability(ctx, r, after[r]);
        const up = logit(0.5 + 0.5 * delta);
        const down = logit(0.5 - 0.5 * delta);
        for (let f = 0; f < m; f++) logits[p][r][f] += chosen[a][f] ? up : down;
      }
      traces[p].steps++;
    });
    // Stop rule: the top-n features of each row alone keep that row's target among the top k.
    for (const p of step + 1 >= o.minSteps ? active : []) {
      const kept = new Set<number>();
      for (let r = 0; r < rows; r++) topIndices(softmax(logits[p][r]), keep).forEach((f) => kept.add(f));
      const rest = Array.from({ length: m }, (_, f) => f).filter((f) => !kept.has(f));
      const probe = replaced(rest);
      const contexts: number[][] = [];
      let ok = true;
      for (let r = 0; r < rows && ok; r++) {
        const { context, tokenId } = rowContext(ctx, r, probe.ids);
        contexts.push(context);
        const top = await ctx.runner.topTokens(context, o.topK, ctx.signal);
        ok = top.some((t) => t.tokenId === tokenId);
      }
      if (ok) {
        traces[p].stopped = true;
        traces[p].stopCheck = { kept: [...kept].sort((a, b) => a - b), contexts, topK: o.topK };
      }
    }
    ctx.onProgress?.(step + 1, o.maxSteps);
  }
  const n = ctx.prompt.length;
  const scores: number[][] = [];
  const stderr: number[][] = [];
  traces.forEach((t, p) => (t.importance = logits[p].map((l) => softmax(l))));
  // As the reference aggregate rationalizer: the mean over the probes that met the stop rule (all, if none did).
  const used = traces.some((t) => t.stopped) ? traces.filter((t) => t.stopped) : traces;
  for (let r = 0; r < rows; r++) {
    const { mean, stderr: se } = meanAndStdErr(used.map((t) => Float64Array.from(t.importance[r])), m);
    scores.push(spreadOverTokens(Array.from(mean), groups, n));
    if (se) stderr.push(spreadOverTokens(Array.from(se), groups, n));
  }
  return { scores, stderr: stderr.length ? stderr : undefined, probes: traces, batches };
}

function topIndices(values: number[], k: number): number[] {
  return values
    .map((v, i) => [v, i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, k)
    .map(([, i]) => i);
}

/** The input whose next-token prediction a row reads, and the row's own token there. */
export function rowContext(ctx: MethodContext, r: number, prompt: number[]): { context: number[]; tokenId: number } {
  if (ctx.runner.info.kind === 'sequence-classifier') return { context: prompt, tokenId: ctx.plan.rows[r].tokenId };
  for (const br of ctx.plan.branches) {
    for (const t of br.terms) if (t.row === r && t.weight > 0) return { context: [...prompt, ...br.continuation.slice(0, t.offset)], tokenId: t.tokenId };
  }
  return { context: prompt, tokenId: ctx.plan.rows[r].tokenId };
}

/** The model's own five most likely tokens at each prompt position (other than the token there). */
async function ownPredictions(ctx: MethodContext, ids: number[]): Promise<number[][]> {
  const start = ctx.special.bos ?? ctx.special.eos;
  const out: number[][] = [];
  for (let i = 0; i < ids.length; i++) {
    const prefix = i > 0 ? ids.slice(0, i) : start !== undefined ? [start] : undefined;
    if (!prefix || ctx.prompt[i].special) {
      out.push([]);
      continue;
    }
    const top = await ctx.runner.topTokens(prefix, 6, ctx.signal);
    out.push(top.map((t) => t.tokenId).filter((v) => v !== ids[i]).slice(0, 5));
  }
  return out;
}

export const reagent: AttributionMethod = {
  name: 'reagent',
  label: 'ReAGent (recursive replacement)',
  description: 'Replaces random tokens (or words, lines, sentences) with sampled ones, again and again, and credits those whose replacement lowers the target probability, until the top few alone keep the prediction. Forward passes only; seeded.',
  needsGradients: false,
  async run(ctx: MethodContext): Promise<MethodOutput> {
    const unit = featureUnit(ctx);
    const groups = featureGroups(ctx, unit);
    needFeatures(groups, 'ReAGent');
    const o = reagentOptions(ctx);
    const run = await runReagent(ctx, groups, o);
    const by = typeof o.sampler === 'object' ? `the ${o.sampler.baseline} baseline` : o.sampler === 'model' ? "the model's own top-5 predictions" : 'tokens drawn uniformly from the vocabulary';
    const stopped = run.probes.filter((p) => p.stopped).length;
    return {
      scores: run.scores,
      params: {
        features: unit, samples: o.probes, steps: o.maxSteps, ratio: o.ratio, keepTop: o.keepTop, seed: o.seed,
        ...(typeof o.sampler === 'object' ? { baseline: o.sampler.baseline } : { replacement: o.sampler }),
      },
      meaning: `ReAGent importance (shares summing to 1): how much replacing the ${unit} by ${by} lowers the target probability, from ${o.probes} probes (${stopped} met the stop rule: top ${Math.min(o.keepTop, Math.max(1, groups.length - 1))} ${UNIT_PLURAL[unit]} alone keep the target in the top ${o.topK}); shared by its tokens`,
      batches: run.batches,
      seed: o.seed,
      samples: o.probes,
      ...(run.stderr ? { samplingError: run.stderr } : {}),
    };
  },
};
