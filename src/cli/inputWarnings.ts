/**
 * Inputs that run but probably do not mean what the user wanted: options the chosen methods do not use, and a
 * target token written without the leading space the model's own answer has. Each is one line on stderr.
 */
import type { MethodParams, TargetSpec } from '../core/request';
import type { AttributionResult } from '../core/result';

/** The flag of each method parameter (others are named after the parameter). */
export const PARAM_FLAGS: Partial<Record<keyof MethodParams, string>> = {
  baseline: '--baseline',
  window: '--window',
  stride: '--stride',
  steps: '--steps',
  igBaseline: '--ig-baseline',
  samples: '--samples',
  noise: '--noise',
  seed: '--seed',
  timeBudget: '--budget',
};

const percent = (p: number): string => (p >= 0.001 ? `${(p * 100).toPrecision(3)} %` : p.toExponential(1));

/** Every option the user gave that no run reports among the parameters it used. */
export function ignoredOptionWarnings(given: MethodParams, result: AttributionResult): string[] {
  const out: string[] = [];
  const methods = result.runs.map((r) => r.method).join(', ');
  for (const key of Object.keys(given) as (keyof MethodParams)[]) {
    if (given[key] === undefined || result.runs.some((r) => key in r.params)) continue;
    const flag = PARAM_FLAGS[key] ?? `--${key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}`;
    out.push(`${flag} was ignored: ${methods} ${result.runs.length > 1 ? 'do' : 'does'} not use it (see --help for the methods that do).`);
  }
  return out;
}

/** `--target Paris` when the model predicts " Paris": a different token, usually far less likely. */
export function spacedTargetWarning(target: TargetSpec, result: AttributionResult): string | undefined {
  if (target.kind !== 'token' || !target.text || /^\s/.test(target.text)) return undefined;
  const row = result.target.rows[0];
  const spaced = result.predictions.find((p) => p.text === ' ' + target.text);
  if (!row || !spaced || spaced.probability < 10 * row.probability) return undefined;
  return `"${target.text}" (p = ${percent(row.probability)}) is not the token the model predicts here: " ${target.text}" with a leading space has p = ${percent(spaced.probability)}. Use --target " ${target.text}" to explain that one.`;
}
