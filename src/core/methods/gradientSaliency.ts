/**
 * Gradient saliency: the L2 norm of d score / d embedding per token. Also holds the request/option types
 * and the batching helper shared by the other gradient methods (gradient×input, integrated gradients,
 * SmoothGrad), which all turn into lists of GradientItems.
 */
import {
  throwIfAborted, type GradientBackend, type GradientItem, type GradientTarget, type GradientValue, type ProgressSink,
} from '../modelRunner';

export interface GradientMethodRequest {
  inputIds: number[];
  attentionMask?: number[];
  positionIds?: number[];
  target: GradientTarget;
}

export interface GradientMethodOptions {
  signal?: AbortSignal;
  onProgress?: ProgressSink;
  /** Cap on batch × sequence tokens per scoreAndGradient call (default 2048; calls use at most 512, see GRADIENT_TOKENS_PER_CALL). */
  maxTokensPerBatch?: number;
}

export interface GradientMethodResult<D> {
  /** One attribution per input token. */
  scores: number[];
  /** The target score f(x) at the actual input. */
  score: number;
  diagnostics: D;
}

export const DEFAULT_GRADIENT_TOKENS_PER_BATCH = 2048;

/**
 * Preferred batch × sequence tokens per gradient call, below any cap the caller sets. Per item, a gradient
 * call got slower past about 512 tokens on the bundled models (1 thread: 34 items at 128 tokens took 0.86 s
 * one per call and 0.99 s in one call): the backward pass keeps every activation alive, and larger batches
 * push that working set out of the CPU caches, while per-call overhead is already amortised at 512. 256 on models
 * of real size: integrated gradients on a 135M Llama (32 tokens, 114 items) peak at 1.84 GB instead of 2.34 GB with
 * the same CPU time (29-31 s against 32.6 s), since every call keeps all its activations for the backward pass.
 */
export const GRADIENT_TOKENS_PER_CALL = 256;
// At every width: calls on models 512 or more wide held 128 tokens while the gradient graph kept about 310 MB of
// activations per 128 tokens on a 135M Llama. With constant shapes and fused attention products it keeps about 205 MB,
// and integrated gradients at 256 tokens per call against 128 (old and new alternated): Llama-135M shape, 128 tokens
// 20.6 -> 19.3 s of CPU, peak 946 -> 1,151 MB (2.41x the weights), 32 tokens 4.88 -> 4.50 s, 908 -> 1,013 MB;
// GPT-2-small shape, 128 tokens 10.6 -> 9.9 s, 852 -> 995 MB, 32 tokens 3.33 -> 3.11 s, 815 -> 894 MB.

export function gradientItem(req: GradientMethodRequest, inputsEmbeds: Float32Array): GradientItem {
  return { inputsEmbeds, inputIds: req.inputIds, attentionMask: req.attentionMask, positionIds: req.positionIds, target: req.target };
}

/**
 * Runs items in batches of at most min(cap, GRADIENT_TOKENS_PER_CALL) tokens, sized evenly (34 items at 16
 * tokens run as 17 + 17, not 32 + 2), in order, with cancellation and progress. One call at a time: onnxruntime-node
 * runs a session on the JavaScript thread (its run() is a synchronous call deferred by setImmediate), so calls in
 * flight together run one after the other. Llama-135M shape, 18 items of 32 tokens: two calls of 2 items in flight
 * took 3.8 s of CPU against 3.1 s for one call of 4 at a time, and with one intra-op thread they used one thread.
 */
export async function gradientsInBatches(
  backend: GradientBackend,
  items: GradientItem[],
  opts: GradientMethodOptions,
): Promise<{ values: GradientValue[]; calls: number }> {
  const seq = Math.max(1, items[0]?.inputIds.length ?? 1);
  const tokens = Math.min(opts.maxTokensPerBatch ?? DEFAULT_GRADIENT_TOKENS_PER_BATCH, GRADIENT_TOKENS_PER_CALL);
  const maxPerCall = Math.max(1, Math.floor(tokens / seq));
  const perCall = Math.ceil(items.length / Math.max(1, Math.ceil(items.length / maxPerCall)));
  const values: GradientValue[] = [];
  let calls = 0;
  opts.onProgress?.(0, items.length);
  for (let i = 0; i < items.length; i += perCall) {
    throwIfAborted(opts.signal);
    values.push(...(await backend.scoreAndGradient(items.slice(i, i + perCall), opts.signal)));
    calls++;
    opts.onProgress?.(values.length, items.length);
  }
  return { values, calls };
}

export function checkRequest(backend: GradientBackend, req: GradientMethodRequest): void {
  if (req.inputIds.length === 0) throw new Error('Nothing to attribute: the prompt has no tokens.');
  const t = req.target;
  if (t.tokenIds.length === 0 || t.tokenIds.length !== t.positions.length || t.tokenIds.length !== t.weights.length) {
    throw new Error('The gradient target needs matching, non-empty tokenIds / positions / weights.');
  }
  if (!(backend.hiddenSize > 0)) throw new Error('The gradient backend reports no hidden size.');
}

/** Per-token L2 norm of a row-major [seq, hidden] array. */
export function rowNorms(grad: Float32Array, hidden: number): number[] {
  const n = grad.length / hidden;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < hidden; k++) s += grad[i * hidden + k] ** 2;
    out[i] = Math.sqrt(s);
  }
  return out;
}

/** Per-token dot products Σ_h a·b of two row-major [seq, hidden] arrays. */
export function rowDots(a: Float32Array, b: Float32Array, hidden: number): number[] {
  const n = a.length / hidden;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = 0; k < hidden; k++) s += a[i * hidden + k] * b[i * hidden + k];
    out[i] = s;
  }
  return out;
}

export interface GradientSaliencyDiagnostics {
  backwardPasses: number;
  /** L2 norm of the whole gradient (all tokens): tiny values mean a saturated, uninformative gradient. */
  gradientNorm: number;
}

/** |∇ₓ f| per token (unsigned): how sensitive the score is to each token's embedding. */
export async function gradientSaliency(
  backend: GradientBackend,
  req: GradientMethodRequest,
  opts: GradientMethodOptions = {},
): Promise<GradientMethodResult<GradientSaliencyDiagnostics>> {
  checkRequest(backend, req);
  const { values } = await gradientsInBatches(backend, [gradientItem(req, backend.embed(req.inputIds))], opts);
  const scores = rowNorms(values[0].grad, backend.hiddenSize);
  return {
    scores,
    score: values[0].score,
    diagnostics: { backwardPasses: 1, gradientNorm: Math.sqrt(scores.reduce((s, v) => s + v * v, 0)) },
  };
}
