/**
 * The summary of a batch: per method the mean faithfulness over the rows whose results carry trust figures
 * (each prompt weighs the same: its target rows are averaged first), and every failed row with its reason.
 */
import type { AttributionResult } from '../core/result';

export interface BatchFailure {
  row: number;
  line: number;
  code: string;
  reason: string;
}

export interface MethodFaithfulnessSummary {
  method: string;
  /** Results with trust figures for this method. */
  results: number;
  /** Mean AOPC comprehensiveness / sufficiency (score units: log p). */
  comprehensiveness: number;
  sufficiency: number;
  /** Mean ratio to the random ranking (comprehensiveness: higher is better; sufficiency: lower is better); null when never defined. */
  comprehensivenessVsRandom: number | null;
  sufficiencyVsRandom: number | null;
}

export interface BatchSummary {
  input: string;
  output: string;
  rows: number;
  /** Rows with a result in the output file (earlier runs included). */
  written: number;
  /** Of those, written by this run. */
  writtenNow: number;
  failures: BatchFailure[];
  /** Rows neither written nor failed (the run was interrupted). */
  remaining: number;
  /** Results without trust figures (--no-trust). */
  withoutTrust: number;
  methods: MethodFaithfulnessSummary[];
  workers: number;
  elapsedMs: number;
  /** Rows finished by this run (written or failed) per second of its wall time. */
  rowsPerSecond: number;
}

interface Sums { results: number; compr: number; suff: number; comprRatio: number; comprRatioN: number; suffRatio: number; suffRatioN: number }

const mean = (xs: readonly number[]): number => xs.reduce((s, v) => s + v, 0) / xs.length;

export class FaithfulnessTally {
  private readonly sums = new Map<string, Sums>();
  withoutTrust = 0;

  add(result: AttributionResult): void {
    if (!result.trust) {
      this.withoutTrust++;
      return;
    }
    for (const m of result.trust.methods) {
      if (!m.rows.length) continue;
      const s = this.sums.get(m.method) ?? { results: 0, compr: 0, suff: 0, comprRatio: 0, comprRatioN: 0, suffRatio: 0, suffRatioN: 0 };
      s.results++;
      s.compr += mean(m.rows.map((r) => r.aopcComprehensiveness));
      s.suff += mean(m.rows.map((r) => r.aopcSufficiency));
      const cr = m.vsRandom.map((v) => v.comprehensiveness).filter((x): x is number => x !== null);
      const sr = m.vsRandom.map((v) => v.sufficiency).filter((x): x is number => x !== null);
      if (cr.length) { s.comprRatio += mean(cr); s.comprRatioN++; }
      if (sr.length) { s.suffRatio += mean(sr); s.suffRatioN++; }
      this.sums.set(m.method, s);
    }
  }

  methods(): MethodFaithfulnessSummary[] {
    return [...this.sums.entries()].map(([method, s]) => ({
      method,
      results: s.results,
      comprehensiveness: s.compr / s.results,
      sufficiency: s.suff / s.results,
      comprehensivenessVsRandom: s.comprRatioN ? s.comprRatio / s.comprRatioN : null,
      sufficiencyVsRandom: s.suffRatioN ? s.suffRatio / s.suffRatioN : null,
    }));
  }
}

export function summaryText(s: BatchSummary): string {
  const out: string[] = [];
  out.push(`${s.written} of ${s.rows} rows explained in ${s.output}${s.written > s.writtenNow ? ` (${s.written - s.writtenNow} from an earlier run)` : ''}; ${s.failures.length} failed${s.remaining ? `; ${s.remaining} not done (interrupted: run the same command again to resume)` : ''}.`);
  out.push(`${s.workers} worker${s.workers === 1 ? '' : 's'}, ${(s.elapsedMs / 1000).toFixed(1)} s, ${s.rowsPerSecond.toFixed(2)} rows/s.`);
  if (s.methods.length) {
    const num = (x: number | null, w: number, unit = ''): string => (x === null ? '—' : x.toFixed(unit ? 2 : 3) + unit).padStart(w);
    out.push('', 'Mean faithfulness over the explained rows (AOPC; vs random: ratio to a random ranking, higher compr. / lower suff. is better):');
    out.push(`  ${'method'.padEnd(22)} ${'rows'.padStart(6)} ${'compr. AOPC'.padStart(11)} ${'vs random'.padStart(9)} ${'suff. AOPC'.padStart(10)} ${'vs random'.padStart(9)}`);
    for (const m of s.methods) {
      out.push(`  ${m.method.padEnd(22)} ${String(m.results).padStart(6)} ${num(m.comprehensiveness, 11)} ${num(m.comprehensivenessVsRandom, 9, '×')} ${num(m.sufficiency, 10)} ${num(m.sufficiencyVsRandom, 9, '×')}`);
    }
  }
  if (s.withoutTrust) out.push(`${s.withoutTrust} result${s.withoutTrust === 1 ? ' has' : 's have'} no faithfulness figures (run without --no-trust to get them).`);
  if (s.failures.length) {
    out.push('', 'Failed rows:');
    for (const f of s.failures) out.push(`  row ${f.row} (line ${f.line}): ${f.reason}`);
  }
  return out.join('\n') + '\n';
}
