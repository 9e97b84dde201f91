/**
 * The one path of a request through the engine: validate, tokenize with offsets, resolve the target, run
 * each method, and assemble an AttributionResult.
 */
import { groupTokens } from './aggregation';
import { EngineError } from './engineProtocol';
import { throwIfAborted, type ModelRunner, type SpecialTokenIds } from './modelRunner';
import type { MethodContext } from './methods/method';
import { defaultBaseline } from './methods/occlusion';
import { methodByName } from './methods/registry';
import { DEFAULT_METHOD, FALLBACK_METHOD, replaceAuto } from './methods/defaultMethod';
import type { ExplainRequest } from './request';
import { RESULT_SCHEMA, RESULT_VERSION, type AttributionResult, type CounterfactualEdits, type MethodRun, type ResultToken } from './result';
import { resolveTarget, type TargetPlan } from './targets';
import { describeTooLong, NEUTRAL_NAMES, promptBudget, tooLongDetails } from './tokenBudget';
import { encodeChatPrompt } from './chatPrompt';
import { computeTrust } from './trust/computeTrust';
import type { LogitLensReport } from './logitLens';
import { logitLensReport } from './logitLensReport';
import type { TrustReport } from './trust/trustReport';
import type { EncodedToken, PromptTokenizer } from './tokenizer';
import { buildPartialResult, explainingLine, PartialThrottle, resultBeforeTrust, type MethodPartial, type ResultSkeleton } from './partialResult';

export interface ExplainDeps {
  runner: ModelRunner;
  tokenizer: PromptTokenizer;
  special: SpecialTokenIds;
  spaceId?: number;
}

export interface ExplainOptions {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number, message?: string) => void;
  /** Partial results while methods run (see partialResult.ts): the first chunk, each new level, then at most every PARTIAL_INTERVAL_MS. */
  onPartial?: (result: AttributionResult) => void;
}

/** Least time between two streamed partial results of one level (each costs the editor a repaint). */
export const PARTIAL_INTERVAL_MS = 250;

export const DEFAULT_TOKENS_PER_BATCH = 4096;

export async function explain(req: ExplainRequest, deps: ExplainDeps, opts: ExplainOptions = {}): Promise<AttributionResult> {
  const { runner, tokenizer } = deps;
  if (typeof req.text !== 'string' || req.text.trim() === '') {
    throw new EngineError('empty-input', 'Nothing to explain: the text is empty or only whitespace. Select or pass the prompt text first.');
  }
  // "auto" reaching here (a direct call, not through the engine) becomes the kind's default if it can run.
  const preferred = methodByName(DEFAULT_METHOD[runner.info.kind]);
  const runnable = (!preferred.needsGradients || runner.gradients) && (!preferred.needsAttention || runner.attention);
  const methodNames = replaceAuto(req.methods, runnable ? preferred.name : FALLBACK_METHOD);
  const methods = methodNames.map(methodByName);
  for (const m of methods) {
    if (m.needsGradients && !runner.gradients) {
      throw new EngineError(
        'gradients-unsupported',
        `Method "${m.name}" needs gradients, which are not available for ${runner.info.id}. Use an occlusion method (occlusion, sliding-window, word-occlusion).`,
      );
    }
    if (m.needsAttention && !runner.attention) {
      throw new EngineError('attention-unsupported', `Method "${m.name}" reads attention inside the model, which is not available for ${runner.info.id}. Use an occlusion or gradient method.`);
    }
  }
  let tokens: (EncodedToken & { template?: boolean; templateText?: string })[] = req.chat
    ? encodeChatPrompt(req.text, req.chat.system, tokenizer, runner.info.id)
    : tokenizer.encodePrompt(req.text);
  let truncatedAt: number | undefined;
  const specials = tokens.filter((t) => t.special).length;
  const budget = promptBudget(runner.info.kind, runner.info.contextLength, req.maxTokens, req.target, tokenizer, specials + 1);
  if (tokens.length > budget.allowed) {
    const details = tooLongDetails(tokens.length, budget, req.target.kind);
    if (!req.truncateFromStart || budget.allowed < specials + 1) throw new EngineError('too-long', describeTooLong(details, NEUTRAL_NAMES), details);
    tokens = truncateFromStart(tokens, budget.allowed);
    truncatedAt = tokens.find((t) => !t.special)?.start;
  }
  if (!tokens.some((t) => !t.special)) {
    throw new EngineError('empty-input', 'Nothing to explain: the text has no tokens besides special ones. Select the prompt text first.');
  }
  const ids = tokens.map((t) => t.id);
  const resultTokens: ResultToken[] = tokens.map((t, index) => ({
    index, id: t.id, start: t.start, end: t.end, special: t.special,
    text: t.template ? t.templateText || tokenizer.tokenText(t.id) : req.text.slice(t.start, t.end),
    ...(t.template ? { template: true } : {}),
  }));
  const words = groupTokens(req.text, resultTokens, 'word').map((g) => g.tokens);
  const contextOf = (plan: TargetPlan): MethodContext => ({
    runner,
    prompt: tokens,
    text: req.text,
    decode: (ids) => tokenizer.decode(ids),
    plan,
    params: req.params ?? {},
    special: deps.special,
    spaceId: deps.spaceId,
    words,
    maxTokensPerBatch: req.maxTokensPerBatch ?? DEFAULT_TOKENS_PER_BATCH,
    signal: opts.signal,
  });
  // One pass gives both the top-5 list and the next-token (or predicted-class) target; a next-token target's first
  // method may have its first batch run in it (the batch's token ids are read once the target is known).
  const first = methods[0];
  const alongside = req.target.kind === 'next-token' && runner.info.kind === 'causal-lm' && first.alongsidePrediction
    ? first.alongsidePrediction(contextOf({ rows: [], branches: [{ continuation: [], terms: [{ row: 0, offset: 0, tokenId: 0, weight: 1 }] }] }))
    : undefined;
  const top = await runner.topTokens(ids, 5, opts.signal, alongside);
  const plan = await resolveTarget(req.target, ids, runner, tokenizer, opts.signal, top);
  const labels = runner.info.labels;
  const predictions = top.map((t) => ({
    tokenId: t.tokenId,
    text: runner.info.kind === 'sequence-classifier' ? (labels?.[t.tokenId] ?? String(t.tokenId)) : tokenizer.tokenText(t.tokenId),
    probability: Math.exp(t.logProb),
  }));

  const runs: MethodRun[] = [];
  const createdAt = new Date().toISOString();
  const skeleton: ResultSkeleton = {
    schema: RESULT_SCHEMA,
    version: RESULT_VERSION,
    createdAt,
    model: {
      id: runner.info.id, architecture: runner.info.architecture, kind: runner.info.kind, contextLength: runner.info.contextLength,
      ...(runner.info.variant ? { variant: runner.info.variant } : {}),
    },
    input: { text: req.text, tokens: resultTokens, ...(truncatedAt !== undefined ? { truncatedAt } : {}) },
    target: { spec: req.target, rows: plan.rows },
    predictions,
    request: req,
  };
  const throttle = new PartialThrottle(PARTIAL_INTERVAL_MS);
  const context = contextOf(plan);
  let counterfactuals: CounterfactualEdits | undefined;
  // A runtime that answers a gradient run's few forward batches elsewhere opens its forward session for forward methods.
  runner.expectForwardMethods?.(methods.some((m) => !m.needsGradients && !m.needsAttention));
  for (const [mi, method] of methods.entries()) {
    throwIfAborted(opts.signal);
    const f0 = runner.forwardCount;
    const b0 = (runner.gradients?.backwardCount ?? 0) + (runner.layerGradients?.backwardCount ?? 0);
    const t0 = performance.now();
    // A streaming method's progress line names its unit and passes ("Explaining · words · 34/120 passes").
    let streamed: MethodPartial | undefined;
    throttle.reset();
    const out = await method.run({
      ...context,
      // Streaming methods report progress in passes: the line counts what has run, even after the last partial.
      onProgress: (done, total) => opts.onProgress?.(mi * total + done, methods.length * total, streamed ? explainingLine(streamed.unit, done, total) : method.label),
      ...(opts.onPartial
        ? {
            onPartial: (p: MethodPartial) => {
              streamed = p;
              if (throttle.shouldSend(p.unit)) opts.onPartial!(buildPartialResult(skeleton, runs, method.name, p, runner.forwardCount - f0));
            },
          }
        : {}),
    });
    runs.push({
      method: method.name,
      params: out.params,
      scores: out.scores,
      meaning: out.meaning,
      diagnostics: {
        forwardPasses: runner.forwardCount - f0,
        backwardPasses: (runner.gradients?.backwardCount ?? 0) + (runner.layerGradients?.backwardCount ?? 0) - b0,
        elapsedMs: Math.round((performance.now() - t0) * 10) / 10,
        batches: out.batches,
        ...(out.seed !== undefined ? { seed: out.seed } : {}),
        ...(out.completenessGap ? { completenessGap: out.completenessGap } : {}),
        ...(out.samples !== undefined ? { samples: out.samples } : {}),
        ...(out.samplingError ? { samplingError: out.samplingError } : {}),
        ...(out.fitR2 ? { fitR2: out.fitR2 } : {}),
        ...(out.relativeCompletenessGap ? { relativeCompletenessGap: out.relativeCompletenessGap } : {}),
        ...(out.quadratureSteps ? { quadratureSteps: out.quadratureSteps } : {}),
        ...(out.spanLevels ? { spanLevels: out.spanLevels } : {}),
        ...(out.occlusions !== undefined ? { occlusions: out.occlusions } : {}),
      },
      ...(out.attention ? { attention: out.attention } : {}),
      ...(out.layerSweep ? { layerSweep: out.layerSweep } : {}),
    });
    if (out.counterfactuals) counterfactuals = out.counterfactuals;
  }
  let trust: TrustReport | undefined;
  if (req.trust !== false) {
    throwIfAborted(opts.signal);
    // The scores are final; only the faithfulness figures are still to come.
    opts.onPartial?.(resultBeforeTrust(skeleton, runs));
    opts.onProgress?.(1, 1, 'Checking faithfulness');
    trust = await computeTrust(context, runs, { baseline: defaultBaseline(context), seed: req.params?.seed ?? 0 });
  }
  let logitLens: LogitLensReport | undefined;
  if (req.logitLens && runner.logitLens && runner.info.kind === 'causal-lm') {
    throwIfAborted(opts.signal);
    opts.onProgress?.(1, 1, 'Reading every layer (logit lens)');
    logitLens = await logitLensReport(runner.logitLens, ids, plan, (id) => tokenizer.tokenText(id), opts.signal);
  }
  return {
    ...skeleton,
    runs,
    ...(trust ? { trust } : {}),
    ...(counterfactuals ? { counterfactuals } : {}),
    ...(logitLens ? { logitLens } : {}),
  };
}

/** Keep the last `limit` tokens, keeping leading and trailing special tokens (BOS/CLS, SEP) in place. */
function truncateFromStart<T extends EncodedToken>(tokens: T[], limit: number): T[] {
  let lead = 0;
  while (lead < tokens.length && tokens[lead].special) lead++;
  let trail = 0;
  while (trail < tokens.length - lead && tokens[tokens.length - 1 - trail].special) trail++;
  const body = tokens.slice(lead, tokens.length - trail);
  const keep = Math.max(1, limit - lead - trail);
  return [...tokens.slice(0, lead), ...body.slice(body.length - keep), ...tokens.slice(tokens.length - trail)];
}
