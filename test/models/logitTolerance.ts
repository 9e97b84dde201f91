/**
 * How close two fp32 evaluations of a bundled model's logits must be. onnxruntime's GEMM kernels differ by CPU
 * (AVX-512, AVX2, NEON), by shape (batched vs single rows, a KV cache) and by thread count in their
 * accumulation order, and the PyTorch references were computed by another BLAS: through a few transformer
 * layers that moves logits by about 1e-6 of their largest magnitude. 2e-5 of max(1, max |logit|) leaves a wide
 * margin for any CPU while a wrong mask, position or weight moves them by 1e-2 or more.
 */
import * as assert from 'node:assert/strict';

export const LOGIT_RELATIVE_TOLERANCE = 2e-5;

export function assertLogitsClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length, what);
  let diff = 0, scale = 1;
  for (let i = 0; i < actual.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  const tol = LOGIT_RELATIVE_TOLERANCE * scale;
  assert.ok(diff <= tol, `${what}: max |Δlogit| ${diff.toExponential(2)} > ${tol.toExponential(2)} (${LOGIT_RELATIVE_TOLERANCE} of max |logit| ${scale.toFixed(2)})`);
}
