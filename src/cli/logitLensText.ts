/** The logit lens as terminal lines: per target row, each layer's probability of the target and top tokens. */
import type { LogitLensReport } from '../core/logitLens';
import type { TargetRow } from '../core/result';

export function logitLensText(lens: LogitLensReport, rows: readonly TargetRow[], top = 3): string {
  const out: string[] = [];
  for (const r of lens.rows) {
    const row = rows[r.row];
    const foil = row?.foilText !== undefined;
    out.push('', `Logit lens, target row ${r.row + 1} (${JSON.stringify(row?.text ?? '')}${foil ? ` vs ${JSON.stringify(row.foilText)}` : ''}), position ${r.position}: the final norm and LM head after each layer`);
    out.push(`  ${'layer'.padEnd(10)} ${'p(target)'.padStart(9)}${foil ? ` ${'p(foil)'.padStart(9)}` : ''}  top tokens`);
    for (const l of r.layers) {
      const name = l.layer === 0 ? '0 (embed)' : l.layer === lens.layers ? `${l.layer} (out)` : String(l.layer);
      const tops = l.top.slice(0, top).map((t) => `${JSON.stringify(t.text)} ${t.probability.toFixed(3)}`).join(', ');
      out.push(`  ${name.padEnd(10)} ${l.probability.toFixed(4).padStart(9)}${foil ? ` ${(l.foilProbability ?? 0).toFixed(4).padStart(9)}` : ''}  ${tops}`);
    }
  }
  return out.join('\n') + '\n';
}
