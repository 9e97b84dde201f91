/**
 * "Ask the model to rate its input": the rating prompt (selfExplanation.ts) is continued greedily by the
 * model itself, the reply parsed, and the ratings compared with an attribution of the same words.
 * Causal language models only; models without instruction tuning rarely keep the format, which the parse
 * result then says.
 */
import { encodeChatPrompt } from '../chatPrompt';
import { EngineError } from '../engineProtocol';
import { throwIfAborted, type ModelRunner } from '../modelRunner';
import type { AttributionResult } from '../result';
import type { PromptTokenizer } from '../tokenizer';
import { parseSelfRatings, selfRatingPrompt, selfVsAttribution, wordsOf, type SelfRatingParse } from './selfExplanation';
import { wordScores } from './selfRatingView';

export { wordScores };

export interface SelfRatingReport {
  prompt: string;
  reply: string;
  words: string[];
  parse: SelfRatingParse;
  /** The rating prompt went in as a chat user message through the model's chat template. */
  chatTemplate?: boolean;
  /** Spearman's ρ between the ratings and the attribution's word scores (first target row). */
  vsAttribution?: { method: string; rho: number | null; words: number };
}

export async function askModelToRate(
  runner: ModelRunner, tokenizer: PromptTokenizer, text: string, opts: { maxTokens?: number; signal?: AbortSignal; system?: string } = {},
): Promise<Omit<SelfRatingReport, 'vsAttribution'>> {
  assertCanRate(runner);
  const words = wordsOf(text);
  const prompt = selfRatingPrompt({ text, words });
  // Instruction models answer a request only inside their chat template; plain models get the text as is.
  const chatTemplate = tokenizer.chatPrompt?.(prompt, opts.system) !== undefined;
  const ids = (chatTemplate ? encodeChatPrompt(prompt, opts.system, tokenizer, runner.info.id) : tokenizer.encodePrompt(prompt)).map((t) => t.id);
  const out: number[] = [];
  const max = Math.min(opts.maxTokens ?? 8 * words.length + 16, runner.info.contextLength - ids.length);
  for (let i = 0; i < max; i++) {
    throwIfAborted(opts.signal);
    const next = (await runner.topTokens([...ids, ...out], 1, opts.signal))[0].tokenId;
    if (next === runner.info.special.eos) break;
    out.push(next);
  }
  const reply = tokenizer.decode(out);
  return { prompt, reply, words, parse: parseSelfRatings(reply, words), ...(chatTemplate ? { chatTemplate } : {}) };
}

/** Refuses models that cannot write a reply, before any work is done. */
export function assertCanRate(runner: ModelRunner): void {
  if (runner.info.kind !== 'causal-lm') {
    throw new EngineError('bad-target', `Asking the model to rate its input needs a language model that writes a reply; ${runner.info.id} is a classifier. Select a language model (Promptscope: Select Model…) and ask again.`);
  }
}

/** The report with the rank correlation against the result's first method. */
export function compareWithResult(report: Omit<SelfRatingReport, 'vsAttribution'>, result: AttributionResult): SelfRatingReport {
  if (!report.parse.ok || !result.runs[0]) return report;
  return { ...report, vsAttribution: { method: result.runs[0].method, ...selfVsAttribution(report.parse.value.ratings, wordScores(result)) } };
}
