/** Trust figures as short text: the hover's one line and the CLI's table. Pure functions of a result. */
import type { AttributionResult } from '../result';
import type { MethodTrust, TrustReport } from './trustReport';

const f1 = (x: number): string => (Math.abs(x) >= 10 ? x.toFixed(0) : x.toFixed(Math.abs(x) >= 1 ? 1 : 2)).replace('-', '−');
const pct = (x: number): string => `${Math.round(x * 100)} %`;
const ratio = (x: number | null | undefined): string => (x === null || x === undefined ? '—' : `${x.toFixed(1)}×`);

/** Index of the fraction closest to 20 % (the hover's headline). */
function headlineIndex(t: TrustReport): number {
  let best = 0;
  t.fractions.forEach((f, i) => { if (Math.abs(f - 0.2) < Math.abs(t.fractions[best] - 0.2)) best = i; });
  return best;
}

export function methodTrust(result: AttributionResult, method: string): MethodTrust | undefined {
  return result.trust?.methods.find((m) => m.method === method);
}

/** "removing the top 20 % (1 of 5 tokens) drops log p by 3.1, random 0.4" for one method and target row. */
export function trustHeadline(result: AttributionResult, method: string, row = 0): string | undefined {
  const t = result.trust;
  const m = methodTrust(result, method);
  if (!t || !m || !m.rows[row] || !t.random.rows[row]) return undefined;
  const i = headlineIndex(t);
  const n = m.rows[row].removed[i];
  return `removing the top ${pct(t.fractions[i])} (${n} of ${t.tokens} token${t.tokens === 1 ? '' : 's'}) drops log p by ${f1(m.rows[row].comprehensiveness[i])}, random ${f1(t.random.rows[row].comprehensiveness[i])}`;
}

/** Lines for the terminal: per method AOPC comprehensiveness / sufficiency vs random, Soft-NC / NS, agreement. */
export function trustLines(t: TrustReport, row = 0): string[] {
  const out = ['', `Faithfulness (target row ${row + 1}): ${t.measure}`];
  const name = (s: string): string => s.padEnd(22);
  out.push(`  ${name('method')} ${'compr. AOPC'.padStart(11)} ${'vs random'.padStart(9)} ${'suff. AOPC'.padStart(10)} ${'vs random'.padStart(9)}${t.soft.available ? `  ${'Soft-NC'.padStart(7)} ${'vs rnd'.padStart(6)} ${'Soft-NS'.padStart(7)} ${'vs rnd'.padStart(6)}` : ''}`);
  const num = (x: number, w: number): string => x.toFixed(3).padStart(w);
  for (const m of t.methods) {
    const r = m.rows[row];
    if (!r) continue;
    let line = `  ${name(m.method)} ${num(r.aopcComprehensiveness, 11)} ${ratio(m.vsRandom[row].comprehensiveness).padStart(9)} ${num(r.aopcSufficiency, 10)} ${ratio(m.vsRandom[row].sufficiency).padStart(9)}`;
    if (t.soft.available && m.soft) line += `  ${num(m.soft.softNC, 7)} ${ratio(m.soft.vsRandom.softNC).padStart(6)} ${num(m.soft.softNS, 7)} ${ratio(m.soft.vsRandom.softNS).padStart(6)}`;
    out.push(line);
  }
  const rr = t.random.rows[row];
  if (rr) {
    let line = `  ${name(`random (${t.random.orders} orders)`)} ${num(rr.aopcComprehensiveness, 11)} ${''.padStart(9)} ${num(rr.aopcSufficiency, 10)} ${''.padStart(9)}`;
    if (t.soft.available && t.random.soft) line += `  ${num(t.random.soft.softNC, 7)} ${''.padStart(6)} ${num(t.random.soft.softNS, 7)}`;
    out.push(line);
  }
  out.push(t.soft.available ? `  Soft-NC / Soft-NS: ${t.soft.measure}` : `  Soft-NC / Soft-NS not computed: ${t.soft.reason}`);
  if (t.agreement.length) {
    out.push('  Agreement between methods (Spearman ρ over tokens; share of the top ' + t.agreement[0].k + ' in common):');
    for (const a of t.agreement) out.push(`    ${a.a} ~ ${a.b}: ρ ${a.spearman === null ? '—' : a.spearman.toFixed(2)}, top-${a.k} ${pct(a.topKOverlap)}`);
  }
  out.push(`  ${t.forwardPasses} forward passes, ${t.elapsedMs} ms`);
  return out;
}

/** A token's spread over the variants of result.variation, for the hover: "mean +0.52 ± 0.11 over 5 seed variants, sign agrees in 5 of 5". */
export function variationHeadline(result: AttributionResult, method: string, row: number, token: number): string | undefined {
  const v = result.variation;
  const m = v?.methods.find((x) => x.method === method);
  const r = m?.rows[row];
  if (!v || !r || !Number.isFinite(r.mean[token])) return undefined;
  const n = v.variants.length;
  const what = v.source === 'seed-variants' ? 'seed variants' : v.source === 'method-seeds' ? 'seeds' : 'baselines';
  const sign = (x: number): string => (x >= 0 ? '+' : '−') + Math.abs(x).toFixed(3);
  const agree = Math.round(r.signAgreement[token] * n);
  return `mean ${sign(r.mean[token])} ± ${r.sd[token].toFixed(3)} over ${n} ${what}; sign agrees in ${agree} of ${n}${r.stableSign[token] ? '' : ' (unstable)'}`;
}

/** Terminal lines for result.variation: signal, noise and SNR per method, and the tokens whose sign flips. */
export function variationLines(result: AttributionResult, row = 0): string[] {
  const v = result.variation;
  if (!v) return [];
  const out = ['', `Variation over ${v.variants.length} ${v.source}: ${v.measure}`, `  variants: ${v.variants.join(', ')}`];
  for (const m of v.methods) {
    const r = m.rows[row];
    if (!r) continue;
    const unstable = result.input.tokens.filter((t) => !t.special && !r.stableSign[t.index]).map((t) => JSON.stringify(t.text));
    out.push(`  ${m.method.padEnd(22)} signal ${r.signal.toPrecision(3)}  noise ${r.noise.toPrecision(3)}  SNR ${r.snr === null ? '∞ (no noise)' : r.snr.toPrecision(3)}`);
    out.push(`  ${''.padEnd(22)} ${unstable.length ? `sign not stable: ${unstable.join(' ')}` : 'every token keeps its sign'}`);
    const tokens = result.input.tokens.filter((t) => !t.special);
    out.push(`  ${''.padEnd(22)} ${tokens.map((t) => `${JSON.stringify(t.text)} ${r.mean[t.index].toFixed(2)}±${r.sd[t.index].toFixed(2)}`).join('  ')}`);
  }
  for (const s of v.skipped) out.push(`  ${s.method}: left out (${s.reason})`);
  return out;
}

/** Token indices whose sign is not the same under every variant, for the method run and row shown. */
export function unstableSignTokens(result: AttributionResult, method: string, row: number): number[] {
  const r = result.variation?.methods.find((m) => m.method === method)?.rows[row];
  if (!r) return [];
  return result.input.tokens.filter((t) => !t.special && t.end > t.start && r.stableSign[t.index] === false).map((t) => t.index);
}

/** Terminal lines for result.selfRating: the ratings beside the attribution, or why the reply was not usable. */
export function selfRatingLines(result: AttributionResult): string[] {
  const s = result.selfRating;
  if (!s) return [];
  const out = ['', 'The model rating its own input (−1…1), beside the attribution:'];
  if (!s.parse.ok) {
    out.push(`  Could not read the model's ratings: ${s.parse.reason}`);
    out.push('  (Small models without instruction tuning rarely keep the reply format.)');
    return out;
  }
  const ratings = s.parse.value.ratings;
  out.push(`  ${s.words.map((w, i) => `${JSON.stringify(w)} ${ratings[i] === null ? '—' : ratings[i]!.toFixed(2)}`).join('  ')}`);
  if (s.parse.value.answer) out.push(`  answer: ${JSON.stringify(s.parse.value.answer)}`);
  if (s.vsAttribution) out.push(`  Spearman ρ with ${s.vsAttribution.method}: ${s.vsAttribution.rho === null ? '— (too few rated words)' : s.vsAttribution.rho.toFixed(2)} over ${s.vsAttribution.words} words`);
  return out;
}
