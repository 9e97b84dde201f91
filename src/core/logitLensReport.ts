/** Reads each target row's predicting position through the logit lens and assembles the report. */
import type { LogitLensBackend, LogitLensReport, LogitLensRow } from './logitLens';
import { LOGIT_LENS_VERSION } from './logitLens';
import type { TargetPlan } from './targets';

export async function logitLensReport(lens: LogitLensBackend, prompt: number[], plan: TargetPlan, tokenText: (id: number) => string, signal?: AbortSignal, k = 5): Promise<LogitLensReport> {
  const rows: LogitLensRow[] = [];
  for (let r = 0; r < plan.rows.length; r++) {
    // The row's target term (weight > 0) and, for a contrast, its foil term at the same position.
    const br = plan.branches.find((b) => b.terms.some((t) => t.row === r && t.weight > 0));
    const term = br?.terms.find((t) => t.row === r && t.weight > 0);
    if (!br || !term) continue;
    const foil = plan.branches.flatMap((b) => b.terms).find((t) => t.row === r && t.weight < 0 && t.offset === term.offset);
    const position = prompt.length - 1 + term.offset;
    const ids = [...prompt, ...br.continuation].slice(0, position + 1);
    const reading = await lens.read(ids, position, foil ? [term.tokenId, foil.tokenId] : [term.tokenId], k, signal);
    rows.push({
      row: r,
      position,
      layers: reading.layers.map((l, layer) => ({
        layer,
        probability: Math.exp(l.logProbs[0]),
        ...(foil ? { foilProbability: Math.exp(l.logProbs[1]) } : {}),
        top: l.top.map((t) => ({ text: tokenText(t.tokenId), tokenId: t.tokenId, probability: Math.exp(t.logProb) })),
      })),
    });
  }
  return { version: LOGIT_LENS_VERSION, layers: lens.layers, rows };
}
