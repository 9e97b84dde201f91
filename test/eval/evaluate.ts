/**
 * `npm run eval`: every registered method on every bundled model, measured the same way: cause recovery
 * (top-1 / top-3 token overlaps the known cause) on held-out prompts the model answers correctly, AOPC
 * comprehensiveness / sufficiency and Soft-NC / Soft-NS against random orders (src/core/trust), SNR over
 * the bundled seed variants when there are any, passes and time. Prints the table and writes it into the
 * README between the eval markers. PROMPTSCOPE_EVAL_PROMPTS caps the prompts per model (default 40; the table in the README uses the default).
 * The long-context model's held-out prompts are ~1,000–1,600 tokens: it runs the methods whose cost suits long
 * prompts on PROMPTSCOPE_EVAL_LONG_PROMPTS of them (default 4). PROMPTSCOPE_EVAL_MODELS (comma-separated) runs only
 * those models; with --no-readme the table is only printed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { explain } from '../../src/core/explain';
import { METHODS } from '../../src/core/methods/registry';
import type { AttributionResult } from '../../src/core/result';
import { ensureAttention, ensureGradients, loadModel, type LoadedModel } from '../../src/runtime/loadedModel';
import { addVariation, seedVariantFolders } from '../../src/runtime/seedVariants';

const ROOT = path.resolve(__dirname, '../..');
const UNSIGNED = new Set(['gradient', 'smoothgrad', 'attention', 'attention-rollout']);
const MARK_START = '<!-- eval:start -->';
const MARK_END = '<!-- eval:end -->';

interface Example { text: string; expected: string; task?: string; cause: { start: number; end: number } }

/** The held-out known-cause prompts: eval/heldout.jsonl and, where the build added more, eval/heldout-extra.jsonl. */
function examples(model: string): Example[] {
  return ['heldout.jsonl', 'heldout-extra.jsonl']
    .map((f) => path.join(ROOT, 'models', model, 'eval', f))
    .filter((f) => fs.existsSync(f))
    .flatMap((file) => fs.readFileSync(file, 'utf8').trim().split('\n'))
    .map((l) => JSON.parse(l) as { prompt?: string; text?: string; expected?: string; label?: string; task?: string; cause?: Example['cause']; cue?: Example['cause'] })
    .map((e) => ({ text: (e.prompt ?? e.text)!, expected: (e.expected ?? e.label)!, ...(e.task ? { task: e.task } : {}), cause: (e.cause ?? e.cue)! }));
}

/** Every n-th example. */
function spread<T>(xs: T[], n: number): T[] {
  if (xs.length <= n) return xs;
  return Array.from({ length: n }, (_, i) => xs[Math.floor((i * xs.length) / n)]);
}

/** Candidates taken from each task family in turn (each spread over its family), so that every family is represented alike. */
function balanced(xs: Example[], n: number): Example[] {
  const families = [...new Set(xs.map((x) => x.task ?? ''))].sort();
  const lists = families.map((f) => spread(xs.filter((x) => (x.task ?? '') === f), n));
  const out: Example[] = [];
  for (let i = 0; lists.some((l) => i < l.length); i++) for (const l of lists) if (i < l.length) out.push(l[i]);
  return out;
}

interface Tally {
  prompts: number; top1: number; top3: number;
  compr: number; suff: number; rCompr: number; rSuff: number;
  nc: number[]; ns: number[]; rNc: number[]; rNs: number[];
  passes: number; ms: number[]; snr: number[]; seedSnr: number[];
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length ? (s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2) : NaN; };

function methodsFor(m: LoadedModel, only?: readonly string[]): string[] {
  return METHODS.filter((x) => (!x.needsAttention || m.runner.attention) && (!x.needsGradients || m.runner.gradients) && (!only || only.includes(x.name))).map((x) => x.name);
}

/** Per model: which methods and how many prompts (all methods, PROMPTSCOPE_EVAL_PROMPTS, unless listed). */
const LONG_METHODS = ['coarse-to-fine', 'gradient', 'gradient-x-input', 'integrated-gradients', 'attention', 'attention-rollout'];
const EVAL_MODELS: { model: string; methods?: readonly string[]; prompts?: number; probe?: string }[] = [
  { model: 'promptscope-tiny-lm' },
  { model: 'promptscope-tiny-sentiment' },
  { model: 'promptscope-tiny-long', methods: LONG_METHODS, prompts: Number(process.env.PROMPTSCOPE_EVAL_LONG_PROMPTS) || 4, probe: 'attention' },
];

function correct(r: AttributionResult, ex: Example): boolean {
  const predicted = r.target.rows[0].text;
  return r.model.kind === 'sequence-classifier' ? predicted === ex.expected : predicted.trim() !== '' && ex.expected.startsWith(predicted);
}

export interface EvalRow { model: string; method: string; t: Tally; chance1: number; chance3: number }

/** Seed variants are loaded (and their gradient graphs built) once per run, not once per prompt. */
const loaded = new Map<string, Promise<LoadedModel>>();
const loadOnce = (id: string): Promise<LoadedModel> => {
  if (!loaded.has(id)) loaded.set(id, loadModel(id));
  return loaded.get(id)!;
};

export async function runEval(defaultPrompts = Number(process.env.PROMPTSCOPE_EVAL_PROMPTS) || 40, snrPrompts = 6): Promise<EvalRow[]> {
  const out: EvalRow[] = [];
  const only = process.env.PROMPTSCOPE_EVAL_MODELS?.split(',').map((x) => x.trim());
  for (const { model, methods, prompts, probe: probeMethod } of EVAL_MODELS.filter((x) => !only || only.includes(x.model))) {
    const perModel = prompts ?? defaultPrompts;
    const m = await loadModel(model);
    await ensureGradients(m).catch(() => undefined);
    if (m.folder.kind === 'causal-lm') await ensureAttention(m).catch(() => undefined);
    const names = methodsFor(m, methods);
    const tallies = new Map<string, Tally>(names.map((n) => [n, { prompts: 0, top1: 0, top3: 0, compr: 0, suff: 0, rCompr: 0, rSuff: 0, nc: [], ns: [], rNc: [], rNs: [], passes: 0, ms: [], snr: [], seedSnr: [] }]));
    const variants = seedVariantFolders(m.folder.dir);
    let chance1 = 0, chance3 = 0, used = 0;
    const target = m.folder.kind === 'sequence-classifier' ? { kind: 'class' as const } : { kind: 'next-token' as const };
    const t0 = Date.now();
    for (const ex of balanced(examples(model), perModel * 3)) {
      if (used >= perModel) break;
      // The cheap check first: only prompts the model answers correctly have a known cause.
      // (one attention pass on long prompts, where leave-one-out would cost a pass per token)
      const probe = await explain({ text: ex.text, methods: [probeMethod ?? 'occlusion'], target, trust: false }, m);
      if (!correct(probe, ex)) continue;
      used++;
      let r = await explain({ text: ex.text, methods: names, target }, m);
      if (variants.length && used <= snrPrompts) r = await addVariation(r, { kind: 'seed-variants', models: ['bundled'] }, m, loadOnce);
      // The stochastic methods' own randomness: the same prompt with 4 seeds.
      const seeded = used <= snrPrompts && r.runs.some((x) => x.diagnostics.seed !== undefined)
        ? (await addVariation(r, { kind: 'method-seeds', seeds: [0, 1, 2, 3] }, m, loadOnce)).variation
        : undefined;
      const visible = r.input.tokens.filter((x) => !x.special);
      const inCause = (x: { start: number; end: number }) => x.start < ex.cause.end && x.end > ex.cause.start;
      const causeCount = visible.filter(inCause).length;
      chance1 += causeCount / visible.length;
      // Chance that a random top 3 contains a cause token.
      const k = Math.min(3, visible.length);
      let miss = 1;
      for (let i = 0; i < k; i++) miss *= (visible.length - causeCount - i) / (visible.length - i);
      chance3 += 1 - Math.max(0, miss);
      const trust = r.trust!;
      const rr = trust.random.rows[0];
      for (const [i, run] of r.runs.entries()) {
        const t = tallies.get(run.method)!;
        const key = (x: number): number => (UNSIGNED.has(run.method) ? Math.abs(run.scores[0][x]) : run.scores[0][x]);
        const ranked = [...visible].sort((a, b) => key(b.index) - key(a.index) || a.index - b.index);
        t.prompts++;
        if (inCause(ranked[0])) t.top1++;
        if (ranked.slice(0, 3).some(inCause)) t.top3++;
        const mt = trust.methods[i];
        t.compr += mt.rows[0].aopcComprehensiveness;
        t.suff += mt.rows[0].aopcSufficiency;
        t.rCompr += rr.aopcComprehensiveness;
        t.rSuff += rr.aopcSufficiency;
        if (mt.soft && trust.random.soft) {
          t.nc.push(mt.soft.softNC); t.ns.push(mt.soft.softNS);
          t.rNc.push(trust.random.soft.softNC); t.rNs.push(trust.random.soft.softNS);
        }
        t.passes += run.diagnostics.forwardPasses + run.diagnostics.backwardPasses;
        t.ms.push(run.diagnostics.elapsedMs);
        const snr = r.variation?.methods.find((x) => x.method === run.method)?.rows[0].snr;
        if (snr !== undefined && snr !== null) t.snr.push(snr);
        const seedSnr = seeded?.methods.find((x) => x.method === run.method)?.rows[0].snr;
        if (seedSnr !== undefined && seedSnr !== null) t.seedSnr.push(seedSnr);
      }
    }
    console.error(`${model}: ${used} prompts, ${names.length} methods, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    for (const n of names) out.push({ model, method: n, t: tallies.get(n)!, chance1: used ? chance1 / used : NaN, chance3: used ? chance3 / used : NaN });
  }
  return out;
}

const pct = (x: number): string => (Number.isFinite(x) ? `${Math.round(100 * x)}%` : '–');
const f2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : '–');
const snrText = (x: number): string => (x >= 1000 ? x.toExponential(1) : x.toFixed(2));
const ratio = (a: number, b: number): string => (Math.abs(b) > 1e-9 ? `${(a / b).toFixed(2)}×` : '–');

export function evalTable(rows: EvalRow[]): string {
  const header = ['model', 'method', 'prompts', 'top-1', 'top-3', 'compr. AOPC (vs random)', 'suff. AOPC (vs random)', 'Soft-NC (vs random)', 'Soft-NS (vs random)', 'SNR over training seeds', 'SNR over method seeds', 'passes / prompt', 'median ms'];
  const lines = [header, header.map(() => '---')];
  let last = '';
  for (const { model, method, t, chance1, chance3 } of rows) {
    if (model !== last) {
      lines.push([model, `*chance*`, '', `*${pct(chance1)}*`, `*${pct(chance3)}*`, '', '', '', '', '', '', '', '']);
      last = model;
    }
    const n = Math.max(1, t.prompts);
    lines.push([
      model, method, String(t.prompts), pct(t.top1 / n), pct(t.top3 / n),
      `${f2(t.compr / n)} (${ratio(t.compr, t.rCompr)})`, `${f2(t.suff / n)} (${ratio(t.suff, t.rSuff)})`,
      t.nc.length ? `${f2(median(t.nc))} (${ratio(median(t.nc), median(t.rNc))})` : '–', t.ns.length ? `${f2(median(t.ns))} (${ratio(median(t.ns), median(t.rNs))})` : '–',
      t.snr.length ? `${snrText(median(t.snr))} (${t.snr.length})` : '–',
      t.seedSnr.length ? `${snrText(median(t.seedSnr))} (${t.seedSnr.length})` : '–',
      (t.passes / n).toFixed(0), median(t.ms).toFixed(1),
    ]);
  }
  return lines.map((r) => `| ${r.join(' | ')} |`).join('\n');
}

export function writeReadme(table: string, note: string): boolean {
  const file = path.join(ROOT, 'README.md');
  const s = fs.readFileSync(file, 'utf8');
  const a = s.indexOf(MARK_START), b = s.indexOf(MARK_END);
  if (a < 0 || b < a) return false;
  fs.writeFileSync(file, s.slice(0, a + MARK_START.length) + '\n' + table + '\n\n' + note + '\n' + s.slice(b));
  return true;
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const rows = await runEval();
  const table = evalTable(rows);
  const seconds = ((Date.now() - t0) / 1000).toFixed(0);
  const note = `Measured by \`npm run eval\` (${rows.length} model × method pairs, ${seconds} s). Cause: the held-out prompt's known cause span; top-k: one of the method's k highest-scored tokens (by |score| for unsigned methods) overlaps it. AOPC over k = 10 %…100 % of the tokens removed (comprehensiveness, higher is better) or kept (sufficiency, lower is better); ratios are to the mean of 4 seeded random orders on the same prompts (AOPC: means over prompts; Soft-NC / Soft-NS: medians, since normalising by a nearly unchanged fully-masked output makes single prompts explode; higher is better for both). SNR (signal / noise, see above): median over the first 6 prompts (their count in brackets), across the model and its bundled seed variants, or across 4 seeds of a stochastic method; – where there is no such variation.`;
  console.log('\n' + table + '\n\n' + note);
  if (!process.argv.includes('--no-readme')) console.error(writeReadme(table, note) ? 'README.md updated.' : 'README.md has no eval markers; table not written.');
}

if (require.main === module) {
  main().catch((err) => { console.error(err); process.exit(1); });
}
