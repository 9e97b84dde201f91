/**
 * The diverging colour scale every view shares: positive attributions are warm (they raise the target
 * score), negative ones are cool. Scores are quantised into a fixed number of buckets per sign so that the
 * editor can use one decoration type per bucket.
 */

export const BUCKETS_PER_SIGN = 8;

export type Sign = 'pos' | 'neg';

export interface Bucket {
  sign: Sign;
  /** 1 (faint) … BUCKETS_PER_SIGN (strongest). */
  level: number;
}

/**
 * The bucket for a score, scaled by the largest absolute score in view. Scores below half a bucket round
 * to no tint at all so that noise does not paint the whole prompt.
 */
export function bucketOf(score: number, maxAbs: number, buckets = BUCKETS_PER_SIGN): Bucket | undefined {
  if (!Number.isFinite(score) || !(maxAbs > 0)) return undefined;
  const level = Math.round((Math.min(Math.abs(score), maxAbs) / maxAbs) * buckets);
  if (level === 0) return undefined;
  return { sign: score > 0 ? 'pos' : 'neg', level };
}

/** Largest absolute finite value (0 when there is none). */
export function maxAbsOf(values: readonly number[]): number {
  let m = 0;
  for (const v of values) if (Number.isFinite(v) && Math.abs(v) > m) m = Math.abs(v);
  return m;
}

export interface Rgb {
  r: number;
  g: number;
  b: number;
}

/** End colours of the scale; the same hues read on light and dark backgrounds at partial opacity. */
export const SCALE_ENDS: Record<Sign, Rgb> = {
  pos: { r: 230, g: 97, b: 1 },
  neg: { r: 33, g: 102, b: 172 },
};

/** Alpha for a bucket level: linear in level, scaled by the user's opacity (0–1). */
export function alphaOf(level: number, opacity: number, buckets = BUCKETS_PER_SIGN): number {
  return Math.max(0, Math.min(1, (level / buckets) * opacity));
}

/** `#rrggbbaa` for a bucket, as VS Code theme colours and CSS both accept. */
export function bucketHex(bucket: Bucket, opacity: number, buckets = BUCKETS_PER_SIGN): string {
  const { r, g, b } = SCALE_ENDS[bucket.sign];
  const a = Math.round(alphaOf(bucket.level, opacity, buckets) * 255);
  return '#' + [r, g, b, a].map((v) => v.toString(16).padStart(2, '0')).join('');
}

/** CSS rgba() for a raw score (used by HTML/SVG exports and the panel, which are not bucketed). */
export function scoreRgba(score: number, maxAbs: number, opacity = 0.85): string {
  if (!Number.isFinite(score) || !(maxAbs > 0) || score === 0) return 'rgba(0,0,0,0)';
  const { r, g, b } = SCALE_ENDS[score > 0 ? 'pos' : 'neg'];
  const a = Math.min(1, Math.abs(score) / maxAbs) * opacity;
  return `rgba(${r},${g},${b},${a.toFixed(3)})`;
}

/** Theme colour id contributed in package.json for a bucket, e.g. `promptscope.positive5`. */
export function bucketColourId(bucket: Bucket): string {
  return `promptscope.${bucket.sign === 'pos' ? 'positive' : 'negative'}${bucket.level}`;
}
