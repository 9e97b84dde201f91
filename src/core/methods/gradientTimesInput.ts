/** Gradient × input: Σ_h ∂f/∂x_{i,h} · x_{i,h} per token — a signed, first-order estimate of each token's contribution. */
import type { GradientBackend } from '../modelRunner';
import {
  checkRequest, gradientItem, gradientsInBatches, rowDots, type GradientMethodOptions, type GradientMethodRequest,
  type GradientMethodResult,
} from './gradientSaliency';

export interface GradientTimesInputDiagnostics {
  backwardPasses: number;
  /** Σ of all attributions (compare with the score: equal only for linear models). */
  attributionSum: number;
}

export async function gradientTimesInput(
  backend: GradientBackend,
  req: GradientMethodRequest,
  opts: GradientMethodOptions = {},
): Promise<GradientMethodResult<GradientTimesInputDiagnostics>> {
  checkRequest(backend, req);
  const x = backend.embed(req.inputIds);
  const { values } = await gradientsInBatches(backend, [gradientItem(req, x)], opts);
  const scores = rowDots(values[0].grad, x, backend.hiddenSize);
  return { scores, score: values[0].score, diagnostics: { backwardPasses: 1, attributionSum: scores.reduce((a, b) => a + b, 0) } };
}
