/**
 * How many prompt tokens fit. A causal LM scores a continuation of N tokens by feeding the prompt plus the
 * first N − 1 of them (the last one is only read from the logits), so prompt + N − 1 positions must fit in the
 * model's context; a next-token target needs the prompt alone. A front end's own limit (maxTokens) caps the
 * prompt further. The arithmetic and the refusals live here; each front end words them with its own flags or
 * settings through `TooLongDetails`.
 */
import { EngineError } from './engineProtocol';
import type { ModelKind } from './modelRunner';
import type { TargetSpec } from './request';
import type { PromptTokenizer } from './tokenizer';

/** The largest greedy continuation a request may ask for. */
export const MAX_GENERATED_TOKENS = 256;

export interface PromptBudget {
  /** Prompt tokens that fit, special tokens included. */
  allowed: number;
  /** Continuation tokens fed back as input after the prompt (N − 1 for N target tokens). */
  fedBack: number;
  /** Tokens in the target's continuation (1 for a next token). */
  targetTokens: number;
  context: number;
  /** Which limit binds: the front end's maxTokens or the model's context minus the fed-back continuation. */
  binding: 'max-tokens' | 'context';
}

/** The facts a 'too-long' EngineError carries (its details), for front ends to word. */
export interface TooLongDetails {
  [key: string]: number | string;
  tokens: number;
  limit: number;
  context: number;
  fedBack: number;
  targetTokens: number;
  binding: 'max-tokens' | 'context';
  targetKind: TargetSpec['kind'];
}

/** Tokens in the target's continuation: N for generate or forced text, the longer side of a contrast, else 1. */
export function targetTokenCount(target: TargetSpec, tokenizer: PromptTokenizer): number {
  if (target.kind === 'generate') {
    if (!Number.isInteger(target.tokens) || target.tokens < 1 || target.tokens > MAX_GENERATED_TOKENS) {
      throw new EngineError('bad-target', `Generate between 1 and ${MAX_GENERATED_TOKENS} tokens (got ${target.tokens}).`);
    }
    return target.tokens;
  }
  if (target.kind === 'forced') return Math.max(1, tokenizer.encodeContinuation(target.text).length);
  if (target.kind === 'contrastive') return Math.max(1, tokenizer.encodeContinuation(target.text).length, tokenizer.encodeContinuation(target.foil).length);
  return 1;
}

/**
 * The prompt budget for a request. Throws 'bad-target' when the continuation alone leaves no room for a
 * prompt of `minPrompt` tokens (the model's special tokens plus one).
 */
export function promptBudget(kind: ModelKind, context: number, maxTokens: number | undefined, target: TargetSpec, tokenizer: PromptTokenizer, minPrompt: number): PromptBudget {
  const targetTokens = kind === 'causal-lm' ? targetTokenCount(target, tokenizer) : 1;
  const fedBack = kind === 'causal-lm' ? targetTokens - 1 : 0;
  const byContext = context - fedBack;
  if (byContext < minPrompt) {
    const most = context - minPrompt + 1;
    const what = target.kind === 'generate' ? `Generating ${targetTokens} tokens` : target.kind === 'forced' ? `The forced continuation of ${targetTokens} tokens` : `The contrast's longer side of ${targetTokens} tokens`;
    throw new EngineError(
      'bad-target',
      `${what} leaves no room for the prompt in the model's context of ${context} tokens (the first ${fedBack} are fed back after the prompt). Use at most ${most} continuation tokens, fewer with a longer prompt.`,
      { targetTokens, fedBack, context, most },
    );
  }
  const cap = maxTokens !== undefined && maxTokens < byContext ? maxTokens : undefined;
  return { allowed: cap ?? byContext, fedBack, targetTokens, context, binding: cap !== undefined ? 'max-tokens' : 'context' };
}

export function tooLongDetails(tokens: number, b: PromptBudget, targetKind: TargetSpec['kind']): TooLongDetails {
  return { tokens, limit: b.allowed, context: b.context, fedBack: b.fedBack, targetTokens: b.targetTokens, binding: b.binding, targetKind };
}

/**
 * One sentence on why the prompt does not fit, plus the fixes, worded with a front end's own names:
 * `raiseLimit` (how to raise maxTokens) and `truncate` (how to keep only the last tokens).
 */
export function describeTooLong(d: TooLongDetails, names: { raiseLimit: string; truncate: string; shortenTarget?: string }): string {
  const head = `The text is ${d.tokens} tokens, more than the ${d.limit} that fit`;
  if (d.binding === 'max-tokens') {
    return `${head} under the limit on prompt tokens. Select less text, ${names.raiseLimit} (up to the model's context of ${d.context}), or ${names.truncate.replace('{n}', String(d.limit))}.`;
  }
  if (d.fedBack > 0) {
    // With this prompt, N continuation tokens fit while prompt + N − 1 ≤ context.
    const room = d.context - d.tokens + 1;
    const shorten = names.shortenTarget && room >= 1 ? `${names.shortenTarget.replace('{n}', String(room))}, ` : '';
    return `${head} in the model's context of ${d.context} with a ${d.targetTokens}-token continuation (${d.fedBack} fed back after the prompt). Use less text, ${shorten}or ${names.truncate.replace('{n}', String(d.limit))}.`;
  }
  return `${head} in the model's context of ${d.context}. Use less text or ${names.truncate.replace('{n}', String(d.limit))}.`;
}

/** The engine's own wording (front ends that have flags or settings re-word it from the details). */
export const NEUTRAL_NAMES = { raiseLimit: 'raise the token limit', truncate: 'explain only the last {n} tokens', shortenTarget: 'ask for a continuation of at most {n} tokens' };
