/**
 * The model's own ratings (result.selfRating) placed beside the attribution: which rated word a token
 * belongs to, the attribution summed per word, and the hover's line. Pure functions of a result, shared by
 * the editor hover, the panel and the terminal.
 */
import type { AttributionResult } from '../result';

/** Character spans of the whitespace-separated words of the text (the units the model was asked to rate). */
export function wordSpans(text: string): [number, number][] {
  return [...text.matchAll(/\S+/g)].map((m) => [m.index!, m.index! + m[0].length]);
}

/** Per token index, the word its first visible character falls in (−1 for special and whitespace-only tokens). */
export function tokenWords(result: AttributionResult): number[] {
  const text = result.input.text;
  const spans = wordSpans(text);
  return result.input.tokens.map((t) => {
    if (t.special) return -1;
    let at = t.start;
    while (at < t.end && /\s/.test(text[at])) at++;
    return at < t.end ? spans.findIndex(([s, e]) => at >= s && at < e) : -1;
  });
}

/** Attribution per word: the summed scores of the tokens that start inside it. */
export function wordScores(result: AttributionResult, row = 0, run = 0): number[] {
  const out = wordSpans(result.input.text).map(() => 0);
  const words = tokenWords(result);
  const scores = result.runs[run]?.scores[row];
  if (!scores) return out;
  words.forEach((w, i) => { if (w >= 0) out[w] += scores[i]; });
  return out;
}

const signed = (x: number): string => (x >= 0 ? '+' : '−') + Math.abs(x).toFixed(2);

/** The hover's line for one token: the model's rating of the word it is in, and the rank correlation. */
export function selfRatingHeadline(result: AttributionResult, token: number): string | undefined {
  const s = result.selfRating;
  if (!s || !s.parse) return undefined;
  if (!s.parse.ok) return `Model's own rating: its reply could not be read. ${s.parse.reason}`;
  const w = tokenWords(result)[token] ?? -1;
  const word = w >= 0 ? s.words[w] : undefined;
  const rating = w >= 0 ? s.parse.value.ratings[w] : null;
  const own = word === undefined ? 'this token is in no rated word'
    : rating === null || rating === undefined ? `the model gave “${word}” no rating`
      : `the model rates “${word}” ${signed(rating)} (−1…1)`;
  const vs = s.vsAttribution;
  const rho = vs ? ` · Spearman ρ with ${vs.method} ${vs.rho === null ? '— (too few rated words)' : signed(vs.rho)} over ${vs.words} words` : '';
  return `Model's own rating: ${own}${rho}`;
}
