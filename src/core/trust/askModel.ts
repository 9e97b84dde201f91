/**
 * "Ask the model to rate its input": the rating prompt (selfExplanation.ts) is continued greedily by the
 * model itself, the reply parsed, and the ratings compared with an attribution of the same words.
 * Causal language models only; models without instruction tuning rarely keep the format, which the parse
 * result then says.
 */
import { EngineError } from '../engineProtocol';
import { throwIfAborted, type ModelRunner } from '../modelRunner';
import type { AttributionResult } from '../result';
import type { PromptTokenizer } from '../tokenizer';
import { parseSelfRatings, selfRatingPrompt, selfVsAttribution, wordsOf, type SelfRatingParse } from './selfExplanation';

export interface SelfRatingReport {
  prompt: string;
  reply: string;
  words: string[];
  parse: SelfRatingParse;
  /** Spearman's ρ between the ratings and the attribution's word scores (first target row). */
  vsAttribution?: { method: string; rho: number | null; words: number };
}

export async function askModelToRate(
  runner: ModelRunner, tokenizer: PromptTokenizer, text: string, opts: { maxTokens?: number; signal?: AbortSignal } = {},
): Promise<Omit<SelfRatingReport, 'vsAttribution'>> {
  if (runner.info.kind !== 'causal-lm') {
    throw new EngineError('bad-target', `Asking the model to rate its input needs a language model that writes a reply; ${runner.info.id} is a classifier.`);
  }
  const words = wordsOf(text);
  const prompt = selfRatingPrompt({ text, words });
  const ids = tokenizer.encodePrompt(prompt).map((t) => t.id);
  const out: number[] = [];
  const max = Math.min(opts.maxTokens ?? 8 * words.length + 16, runner.info.contextLength - ids.length);
  for (let i = 0; i < max; i++) {
    throwIfAborted(opts.signal);
    const next = (await runner.topTokens([...ids, ...out], 1, opts.signal))[0].tokenId;
    if (next === runner.info.special.eos) break;
    out.push(next);
  }
  const reply = tokenizer.decode(out);
  return { prompt, reply, words, parse: parseSelfRatings(reply, words) };
}

/** Attribution per whitespace-separated word: the summed scores of the tokens whose text starts inside it. */
export function wordScores(result: AttributionResult, row = 0, run = 0): number[] {
  const text = result.input.text;
  const spans = [...text.matchAll(/\S+/g)].map((m) => [m.index!, m.index! + m[0].length] as const);
  const out = spans.map(() => 0);
  for (const t of result.input.tokens) {
    if (t.special) continue;
    let at = t.start;
    while (at < t.end && /\s/.test(text[at])) at++;
    const w = spans.findIndex(([s, e]) => at >= s && at < e);
    if (w >= 0) out[w] += result.runs[run].scores[row][t.index];
  }
  return out;
}

/** The report with the rank correlation against the result's first method. */
export function compareWithResult(report: Omit<SelfRatingReport, 'vsAttribution'>, result: AttributionResult): SelfRatingReport {
  if (!report.parse.ok || !result.runs[0]) return report;
  return { ...report, vsAttribution: { method: result.runs[0].method, ...selfVsAttribution(report.parse.value.ratings, wordScores(result)) } };
}
