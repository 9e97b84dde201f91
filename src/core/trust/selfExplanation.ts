/**
 * The model's own explanation beside the attribution: ask it, in a fixed format, to rate each word of the
 * input from −1 to 1 and then give its answer; parse the reply; compare the ratings with the attribution
 * by rank correlation. A model's self-explanation can sound plausible without being faithful — the
 * comparison is the point. Replies that do not follow the format are reported as such, never guessed.
 */
import { spearman } from './agreement';

export interface SelfRatingRequest {
  /** The input the model rated (as the user selected it). */
  text: string;
  /** The words to rate, in order (whitespace-separated units of the input). */
  words: string[];
}

export interface SelfRatings {
  /** One rating per word, in input order; null where the reply gave none. */
  ratings: (number | null)[];
  /** The answer line after the ratings, when there is one. */
  answer?: string;
  /** Tuples in the reply that matched no input word. */
  unmatched: string[];
}

export type SelfRatingParse = { ok: true; value: SelfRatings } | { ok: false; reason: string };

export function wordsOf(text: string): string[] {
  return text.split(/\s+/).filter(Boolean);
}

/** The instruction, in the homework's format: a list of (word, importance) tuples, then the answer. */
export function selfRatingPrompt(req: SelfRatingRequest): string {
  return [
    'Rate how important each word of the input below is for your answer, from -1 (it pushes against your',
    'answer) to 1 (it supports your answer); 0 means it does not matter. Reply with one (word, importance)',
    'tuple per word, in the order of the input, then on the last line "Answer: " and your answer.',
    '',
    `Input: ${req.text}`,
    '',
    'Ratings:',
  ].join('\n');
}

const norm = (w: string): string => w.toLowerCase().replace(/^[\p{P}\p{S}]+|[\p{P}\p{S}]+$/gu, '');

/** Parses a reply: tuples like (word, 0.5), ("word", -1) or word: 0.5 lines, then an "Answer:" line. */
export function parseSelfRatings(reply: string, words: readonly string[]): SelfRatingParse {
  const tuple = /\(\s*["'“‘]?([^,()"'”’]+?)["'”’]?\s*,\s*([+\-−]?\d+(?:\.\d+)?|[+\-−]?\.\d+)\s*\)/gu;
  const line = /^\s*(?:[-*•]\s*|\d+[.)]\s*)?["'“‘]?([^\s:"'”’]+)["'”’]?\s*[:=]\s*([+\-−]?\d+(?:\.\d+)?)\s*$/gmu;
  const found: { word: string; value: number }[] = [];
  for (const m of reply.matchAll(tuple)) found.push({ word: m[1], value: Number(m[2].replace('−', '-')) });
  if (!found.length) for (const m of reply.matchAll(line)) if (!/^answer$/i.test(m[1])) found.push({ word: m[1], value: Number(m[2].replace('−', '-')) });
  if (!found.length) {
    const start = reply.trim().slice(0, 80);
    return { ok: false, reason: `The reply has no (word, importance) ratings${start ? `; it begins: ${JSON.stringify(start)}` : ' (it is empty)'}.` };
  }
  const outOfRange = found.filter((f) => !(f.value >= -1 && f.value <= 1));
  if (outOfRange.length === found.length) return { ok: false, reason: `Every rating in the reply is outside −1…1 (${outOfRange.map((f) => f.value).join(', ')}).` };
  // Match tuples to input words in order, so a repeated word takes the next occurrence.
  const ratings: (number | null)[] = words.map(() => null);
  const unmatched: string[] = [];
  let from = 0;
  for (const f of found) {
    if (!(f.value >= -1 && f.value <= 1)) { unmatched.push(f.word); continue; }
    const key = norm(f.word);
    let at = -1;
    for (let i = from; i < words.length && at < 0; i++) if (norm(words[i]) === key && ratings[i] === null) at = i;
    for (let i = 0; i < from && at < 0; i++) if (norm(words[i]) === key && ratings[i] === null) at = i;
    if (at < 0) { unmatched.push(f.word); continue; }
    ratings[at] = f.value;
    from = at + 1;
  }
  if (ratings.every((r) => r === null)) return { ok: false, reason: `None of the rated words (${found.slice(0, 5).map((f) => JSON.stringify(f.word)).join(', ')}) is a word of the input.` };
  const answer = /^\s*answer\s*:\s*(.+?)\s*$/im.exec(reply)?.[1];
  return { ok: true, value: { ratings, ...(answer ? { answer } : {}), unmatched } };
}

/** Spearman's ρ between the model's ratings and the attribution of the same words (rated words only). */
export function selfVsAttribution(ratings: readonly (number | null)[], wordScores: readonly number[]): { rho: number | null; words: number } {
  const pairs = ratings.flatMap((r, i) => (r === null || !Number.isFinite(wordScores[i]) ? [] : [[r, wordScores[i]] as const]));
  const rho = pairs.length >= 2 ? spearman(pairs.map((p) => p[0]), pairs.map((p) => p[1])) : undefined;
  return { rho: rho ?? null, words: pairs.length };
}
