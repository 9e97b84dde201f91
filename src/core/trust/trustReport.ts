/**
 * The trust figures of one result (AttributionResult.trust). Versioned on their own, so that a result
 * without them, or with an older version, still reads.
 */
import type { OcclusionBaseline } from '../request';

export const TRUST_VERSION = 1;

/** Faithfulness of one ranking for one target row. */
export interface RowFaithfulness {
  row: number;
  /** Tokens removed at each fraction (same order as TrustReport.fractions). */
  removed: number[];
  /** Deletion curve: the row's score with 0, then fractions[i] of the tokens removed (length fractions + 1). */
  deletion: number[];
  /** f(x) − f(x without the top k %), per fraction. */
  comprehensiveness: number[];
  /** f(x) − f(only the top k %), per fraction. */
  sufficiency: number[];
  /** Means over the fractions (ferret's AOPC). */
  aopcComprehensiveness: number;
  aopcSufficiency: number;
}

/** Soft-masking figures (Zhao & Aletras 2023) of one importance vector, for the first target row. */
export interface SoftFigures {
  softNC: number;
  softNS: number;
}

export interface MethodTrust {
  method: string;
  rows: RowFaithfulness[];
  /** Ratio to the random ranking's AOPC (comprehensiveness: higher is better; sufficiency: lower is better). */
  vsRandom: { comprehensiveness: number | null; sufficiency: number | null }[];
  soft?: SoftFigures & { vsRandom: { softNC: number | null; softNS: number | null } };
}

export interface MethodAgreement {
  a: string;
  b: string;
  /** Spearman's ρ over the visible tokens, mean over target rows (null when a side is constant). */
  spearman: number | null;
  /** Share of the top-k tokens both methods pick, mean over rows. */
  topKOverlap: number;
  k: number;
}

export interface TrustReport {
  version: typeof TRUST_VERSION;
  /** What the faithfulness numbers are, in one sentence. */
  measure: string;
  /** How tokens are removed (the occlusion baseline). */
  baseline: OcclusionBaseline;
  /** Shares of the visible tokens removed (or kept): 0.1 … 1.0. */
  fractions: number[];
  /** Visible (non-special) tokens the fractions are taken of. */
  tokens: number;
  seed: number;
  random: { orders: number; rows: RowFaithfulness[]; soft?: SoftFigures };
  methods: MethodTrust[];
  agreement: MethodAgreement[];
  /** Soft-NC / Soft-NS: computed, or why not. */
  soft: { available: true; samples: number; measure: string } | { available: false; reason: string };
  forwardPasses: number;
  elapsedMs: number;
}

const nums = (v: unknown, n?: number): boolean => Array.isArray(v) && (n === undefined || v.length === n) && v.every((x) => typeof x === 'number');

/** The trust report of a result when it is well-formed enough to draw (views guard with this, since it is user-loadable JSON). */
export function drawableTrust(v: unknown): TrustReport | undefined {
  const t = v as TrustReport | undefined;
  if (!t || typeof t !== 'object' || t.version !== TRUST_VERSION || !nums(t.fractions) || !Array.isArray(t.methods) || !t.random || !Array.isArray(t.random.rows)) return undefined;
  const k = t.fractions.length;
  const rowOk = (r: RowFaithfulness): boolean =>
    !!r && typeof r === 'object' && nums(r.deletion, k + 1) && nums(r.comprehensiveness, k) && nums(r.sufficiency, k) && nums(r.removed, k) &&
    typeof r.aopcComprehensiveness === 'number' && typeof r.aopcSufficiency === 'number';
  if (!t.random.rows.every(rowOk)) return undefined;
  if (!t.methods.every((m) => m && typeof m.method === 'string' && Array.isArray(m.rows) && m.rows.every(rowOk) && Array.isArray(m.vsRandom))) return undefined;
  if (!Array.isArray(t.agreement) || !t.soft || typeof t.soft !== 'object') return undefined;
  return t;
}
