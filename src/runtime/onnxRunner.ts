/**
 * ModelRunner on onnxruntime-node: pads a batch of sequences into one run, reads only the logits rows that
 * queries ask for, and turns them into log-probabilities.
 */
import * as ort from 'onnxruntime-node';
import { EngineError } from '../core/engineProtocol';
import {
  throwIfAborted,
  type ForwardItem,
  type GradientBackend,
  type ModelInfo,
  type ModelRunner,
  type ScoreValue,
  type TopToken,
} from '../core/modelRunner';

export interface DecoderCacheShape {
  /** Names of past-key-value inputs with their [heads, headDim] (fed with past length 0). */
  pastInputs: { name: string; heads: number; headDim: number; type: 'float32' | 'float16' }[];
}

export class OnnxRunner implements ModelRunner {
  forwardCount = 0;
  gradients?: GradientBackend;
  private readonly inputNames: Set<string>;

  constructor(
    readonly info: ModelInfo,
    private readonly session: ort.InferenceSession,
    private readonly cache: DecoderCacheShape,
    private readonly padId: number,
  ) {
    this.inputNames = new Set(session.inputNames);
  }

  static async create(info: ModelInfo, onnxPath: string, padId: number, config: Record<string, unknown>): Promise<OnnxRunner> {
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(onnxPath, {
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
        intraOpNumThreads: Number(process.env.PROMPTSCOPE_THREADS) || 0,
      });
    } catch (err) {
      throw new EngineError(
        'model-load',
        `The ONNX file ${onnxPath} could not be loaded (${firstLine(err)}). It may be corrupt or truncated: export or download it again.`,
      );
    }
    const pastInputs = session.inputNames
      .filter((n) => /^past_key_values\.\d+\.(key|value)$|^past_\d+$/.test(n))
      .map((name) => ({ name, ...pastShape(config), type: 'float32' as const }));
    if (info.kind === 'causal-lm' && !session.outputNames.includes('logits')) {
      throw new EngineError('unsupported-model', `${onnxPath} has no "logits" output. Export the model for text generation (causal LM with logits).`);
    }
    return new OnnxRunner(info, session, { pastInputs }, padId);
  }

  async score(items: ForwardItem[], signal?: AbortSignal): Promise<ScoreValue[][]> {
    throwIfAborted(signal);
    if (items.length === 0) return [];
    const { logits, width, vocab } = await this.run(items);
    return items.map((item, b) =>
      item.queries.map((q) => {
        const row = this.info.kind === 'causal-lm' ? (b * width + q.position) * vocab : b * vocab;
        if (q.position < 0 || q.position >= item.inputIds.length) throw new Error(`Query position ${q.position} outside a sequence of ${item.inputIds.length}.`);
        const lse = logSumExp(logits, row, vocab);
        const logit = logits[row + q.tokenId];
        return { logit, logProb: logit - lse };
      }),
    );
  }

  async topTokens(inputIds: number[], k: number, signal?: AbortSignal): Promise<TopToken[]> {
    throwIfAborted(signal);
    const { logits, width, vocab } = await this.run([{ inputIds, queries: [] }]);
    const row = this.info.kind === 'causal-lm' ? (inputIds.length - 1) * vocab : 0;
    void width;
    const lse = logSumExp(logits, row, vocab);
    const best: TopToken[] = [];
    for (let v = 0; v < vocab; v++) {
      const lp = logits[row + v] - lse;
      if (best.length < k || lp > best[best.length - 1].logProb) {
        best.push({ tokenId: v, logProb: lp });
        best.sort((a, b) => b.logProb - a.logProb);
        if (best.length > k) best.pop();
      }
    }
    return best;
  }

  /** One onnxruntime run over right-padded sequences. */
  private async run(items: ForwardItem[]): Promise<{ logits: Float32Array; width: number; vocab: number }> {
    const batch = items.length;
    const width = Math.max(...items.map((i) => i.inputIds.length));
    const ids = new BigInt64Array(batch * width);
    const mask = new BigInt64Array(batch * width);
    const pos = new BigInt64Array(batch * width);
    items.forEach((item, b) => {
      const n = item.inputIds.length;
      for (let t = 0; t < width; t++) {
        const o = b * width + t;
        if (t < n) {
          ids[o] = BigInt(item.inputIds[t]);
          mask[o] = BigInt(item.attentionMask ? item.attentionMask[t] : 1);
          pos[o] = BigInt(item.positionIds ? item.positionIds[t] : t);
        } else {
          ids[o] = BigInt(this.padId);
          pos[o] = BigInt(Math.min(t, this.info.contextLength - 1));
        }
      }
    });
    const dims = [batch, width];
    const feeds: Record<string, ort.Tensor> = { input_ids: new ort.Tensor('int64', ids, dims) };
    if (this.inputNames.has('attention_mask')) feeds.attention_mask = new ort.Tensor('int64', mask, dims);
    if (this.inputNames.has('position_ids')) feeds.position_ids = new ort.Tensor('int64', pos, dims);
    if (this.inputNames.has('token_type_ids')) feeds.token_type_ids = new ort.Tensor('int64', new BigInt64Array(batch * width), dims);
    for (const p of this.cache.pastInputs) {
      feeds[p.name] = new ort.Tensor(p.type, new Float32Array(0), [batch, p.heads, 0, p.headDim]);
    }
    const out = await this.session.run(feeds, ['logits']);
    this.forwardCount += batch;
    const t = out.logits;
    const vocab = t.dims[t.dims.length - 1];
    const logits = t.data as Float32Array;
    for (const k of Object.keys(out)) if (k !== 'logits') out[k].dispose?.();
    return { logits, width, vocab };
  }
}

function logSumExp(a: Float32Array, offset: number, n: number): number {
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (a[offset + i] > max) max = a[offset + i];
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(a[offset + i] - max);
  return max + Math.log(sum);
}

function pastShape(config: Record<string, unknown>): { heads: number; headDim: number } {
  const num = (k: string) => (typeof config[k] === 'number' ? (config[k] as number) : undefined);
  const heads = num('num_key_value_heads') ?? num('n_head') ?? num('num_attention_heads') ?? 1;
  const attnHeads = num('n_head') ?? num('num_attention_heads') ?? heads;
  const hidden = num('n_embd') ?? num('hidden_size') ?? 0;
  const headDim = num('head_dim') ?? Math.floor(hidden / attnHeads);
  return { heads, headDim };
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0];
}
