/**
 * ModelRunner on onnxruntime-node: pads a batch of sequences into one run, reads only the logits rows that
 * queries ask for, and turns them into log-probabilities.
 */
import * as ort from 'onnxruntime-node';
import { EngineError } from '../core/engineProtocol';
import { LOGIT_ROWS_INPUT, ROW_LOGITS_OUTPUT, selectLogitRows } from '../onnx/logitRows';
import { loadModel as loadOnnx } from '../onnx/modelFile';
import { encodeModel } from '../onnx/onnxProto';
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
    /** The session computes logits only at requested rows (see src/onnx/logitRows.ts). */
    private readonly rowSelect: boolean,
  ) {
    this.inputNames = new Set(session.inputNames);
  }

  static async create(info: ModelInfo, onnxPath: string, padId: number, config: Record<string, unknown>): Promise<OnnxRunner> {
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(onnxPath, SESSION_OPTIONS());
    } catch (err) {
      throw new EngineError(
        'model-load',
        `The ONNX file ${onnxPath} could not be loaded (${firstLine(err)}). It may be corrupt or truncated: export or download it again.`,
      );
    }
    const meta = new Map((session.inputMetadata ?? []).map((m) => [m.name, m]));
    const pastInputs = session.inputNames
      .filter((n) => /^past_key_values\.\d+\.(key|value)$/.test(n) && session.outputNames.includes(presentName(n)))
      .map((name) => {
        const m = meta.get(name) as { type?: string; shape?: (number | string)[] } | undefined;
        const shape = pastShape(config);
        // Prefer the graph's own static head sizes over the config's.
        if (m?.shape && typeof m.shape[1] === 'number') shape.heads = m.shape[1];
        if (m?.shape && typeof m.shape[3] === 'number') shape.headDim = m.shape[3];
        return { name, ...shape, type: m?.type === 'float16' ? ('float16' as const) : ('float32' as const) };
      });
    if (info.kind === 'causal-lm' && session.inputNames.some((n) => n.startsWith('past')) && pastInputs.length === 0) {
      throw new EngineError('unsupported-model', `${onnxPath} has past-key inputs Promptscope does not recognise. Export it with the Hugging Face decoder signature (past_key_values.N.key/value → present.N.key/value).`);
    }
    if (info.kind === 'causal-lm' && !session.outputNames.includes('logits')) {
      throw new EngineError('unsupported-model', `${onnxPath} has no "logits" output. Export the model for text generation (causal LM with logits).`);
    }
    if (info.kind === 'causal-lm') {
      const rows = await rowSelectingSession(onnxPath, session, pastInputs);
      if (rows) {
        await session.release();
        return new OnnxRunner(info, rows, { pastInputs }, padId, true);
      }
    }
    return new OnnxRunner(info, session, { pastInputs }, padId, false);
  }

  async score(items: ForwardItem[], signal?: AbortSignal): Promise<ScoreValue[][]> {
    throwIfAborted(signal);
    if (items.length === 0) return [];
    const { logits, vocab, rowOf } = await this.run(items);
    return items.map((item, b) =>
      item.queries.map((q) => {
        if (q.position < 0 || q.position >= item.inputIds.length) throw new Error(`Query position ${q.position} outside a sequence of ${item.inputIds.length}.`);
        const row = rowOf(b, q.position);
        const lse = logSumExp(logits, row, vocab);
        const logit = logits[row + q.tokenId];
        return { logit, logProb: logit - lse };
      }),
    );
  }

  async topTokens(inputIds: number[], k: number, signal?: AbortSignal): Promise<TopToken[]> {
    throwIfAborted(signal);
    const { logits, vocab, rowOf } = await this.run([{ inputIds, queries: [{ position: inputIds.length - 1, tokenId: 0 }] }]);
    const row = rowOf(0, inputIds.length - 1);
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

  /**
   * One onnxruntime run over right-padded sequences. When every item starts with the same unmasked prefix
   * (occlusion of later tokens), the prefix's keys and values are computed once and fed as past, and only
   * the suffixes run: rows of the returned logits are then relative to the prefix end (see `offset`).
   */
  private async run(items: ForwardItem[]): Promise<{ logits: Float32Array; vocab: number; rowOf: (item: number, position: number) => number }> {
    const batch = items.length;
    const prefix = this.reusablePrefix(items);
    const past = prefix > 0 ? await this.prefixKeysValues(items[0].inputIds.slice(0, prefix)) : undefined;
    const width = Math.max(...items.map((i) => i.inputIds.length)) - prefix;
    const ids = new BigInt64Array(batch * width);
    const pos = new BigInt64Array(batch * width);
    const maskWidth = prefix + width;
    const maskData = new BigInt64Array(batch * maskWidth);
    items.forEach((item, b) => {
      const n = item.inputIds.length;
      for (let t = 0; t < maskWidth; t++) {
        if (t < n) maskData[b * maskWidth + t] = BigInt(item.attentionMask ? item.attentionMask[t] : 1);
      }
      for (let t = 0; t < width; t++) {
        const o = b * width + t;
        const src = prefix + t;
        if (src < n) {
          ids[o] = BigInt(item.inputIds[src]);
          pos[o] = BigInt(item.positionIds ? item.positionIds[src] : src);
        } else {
          ids[o] = BigInt(this.padId);
          pos[o] = BigInt(Math.min(src, this.info.contextLength - 1));
        }
      }
    });
    const dims = [batch, width];
    const feeds: Record<string, ort.Tensor> = { input_ids: new ort.Tensor('int64', ids, dims) };
    if (this.inputNames.has('attention_mask')) feeds.attention_mask = new ort.Tensor('int64', maskData, [batch, maskWidth]);
    if (this.inputNames.has('position_ids')) feeds.position_ids = new ort.Tensor('int64', pos, dims);
    if (this.inputNames.has('token_type_ids')) feeds.token_type_ids = new ort.Tensor('int64', new BigInt64Array(batch * width), dims);
    for (const p of this.cache.pastInputs) {
      const one = past?.get(p.name);
      feeds[p.name] = one
        ? new ort.Tensor(p.type, tile(one, batch), [batch, p.heads, prefix, p.headDim])
        : new ort.Tensor(p.type, p.type === 'float16' ? new Uint16Array(0) : new Float32Array(0), [batch, p.heads, 0, p.headDim]);
    }
    let rows: number[][] | undefined;
    if (this.rowSelect) {
      rows = items.map((it) => [...new Set(it.queries.map((q) => q.position - prefix))].sort((a, b) => a - b));
      const R = Math.max(1, ...rows.map((r) => r.length));
      const data = new BigInt64Array(batch * R);
      rows.forEach((r, b) => {
        for (let j = 0; j < R; j++) data[b * R + j] = BigInt(r[Math.min(j, r.length - 1)] ?? 0);
      });
      feeds[LOGIT_ROWS_INPUT] = new ort.Tensor('int64', data, [batch, R]);
    }
    const outName = this.rowSelect ? ROW_LOGITS_OUTPUT : 'logits';
    const out = await this.session.run(feeds, [outName]);
    this.forwardCount += batch;
    const t = out[outName];
    const vocab = t.dims[t.dims.length - 1];
    const logits = t.data as Float32Array;
    for (const k of Object.keys(out)) if (k !== outName) out[k].dispose?.();
    let rowOf: (b: number, position: number) => number;
    if (this.info.kind !== 'causal-lm') rowOf = (b) => b * vocab;
    else if (rows) {
      const R = t.dims[1];
      rowOf = (b, position) => (b * R + rows![b].indexOf(position - prefix)) * vocab;
    } else rowOf = (b, position) => (b * width + position - prefix) * vocab;
    return { logits, vocab, rowOf };
  }

  /** Length of the prefix all items share unmasked at default positions, if worth reusing (else 0). */
  private reusablePrefix(items: ForwardItem[]): number {
    if (this.info.kind !== 'causal-lm' || this.cache.pastInputs.length === 0 || items.length < 2) return 0;
    const first = items[0].inputIds;
    let limit = Math.min(...items.map((i) => i.inputIds.length)) - 1;
    for (const item of items) for (const q of item.queries) limit = Math.min(limit, q.position);
    let p = 0;
    for (; p < limit; p++) {
      const id = first[p];
      const ok = items.every((it) => it.inputIds[p] === id && (it.attentionMask?.[p] ?? 1) === 1 && (it.positionIds?.[p] ?? p) === p);
      if (!ok) break;
    }
    return p >= MIN_REUSED_PREFIX ? p : 0;
  }

  /** Keys and values of a prefix, [1, heads, prefix, headDim] per past input; the last one is kept. */
  private async prefixKeysValues(prefixIds: number[]): Promise<Map<string, Float32Array | Uint16Array>> {
    const key = prefixIds.join(',');
    if (this.prefixCache?.key === key) return this.prefixCache.values;
    const n = prefixIds.length;
    const one = (v: (t: number) => number) => new ort.Tensor('int64', BigInt64Array.from({ length: n }, (_, t) => BigInt(v(t))), [1, n]);
    const feeds: Record<string, ort.Tensor> = { input_ids: one((t) => prefixIds[t]) };
    if (this.inputNames.has('attention_mask')) feeds.attention_mask = one(() => 1);
    if (this.inputNames.has('position_ids')) feeds.position_ids = one((t) => t);
    for (const p of this.cache.pastInputs) feeds[p.name] = new ort.Tensor(p.type, p.type === 'float16' ? new Uint16Array(0) : new Float32Array(0), [1, p.heads, 0, p.headDim]);
    if (this.rowSelect) feeds[LOGIT_ROWS_INPUT] = new ort.Tensor('int64', BigInt64Array.from([BigInt(n - 1)]), [1, 1]);
    const names = this.cache.pastInputs.map((p) => presentName(p.name));
    const out = await this.session.run(feeds, names);
    this.forwardCount += 1;
    const values = new Map(this.cache.pastInputs.map((p) => [p.name, out[presentName(p.name)].data as Float32Array | Uint16Array]));
    this.prefixCache = { key, values };
    return values;
  }
  private prefixCache?: { key: string; values: Map<string, Float32Array | Uint16Array> };
}

const SESSION_OPTIONS = (): ort.InferenceSession.SessionOptions => ({
  graphOptimizationLevel: 'all',
  executionMode: 'sequential',
  intraOpNumThreads: Number(process.env.PROMPTSCOPE_THREADS) || 0,
  // Idle worker threads sleep instead of spinning, so the editor keeps its CPU between runs.
  ...(process.env.PROMPTSCOPE_SPIN === '1' ? {} : { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
});

/**
 * A session on the logit-row variant of the model, checked once against the original on a probe input;
 * undefined when the head cannot be rewritten or the check fails (the original graph is used then).
 */
async function rowSelectingSession(onnxPath: string, original: ort.InferenceSession, pastInputs: DecoderCacheShape['pastInputs']): Promise<ort.InferenceSession | undefined> {
  if (process.env.PROMPTSCOPE_FULL_LOGITS === '1') return undefined;
  let rows: ort.InferenceSession;
  try {
    const proto = selectLogitRows(loadOnnx(onnxPath));
    if (!proto) return undefined;
    rows = await ort.InferenceSession.create(encodeModel(proto), SESSION_OPTIONS());
  } catch {
    return undefined;
  }
  const n = 5;
  const ids = [1, 2, 3, 4, 5].map((v) => BigInt(v));
  const feeds = (extra: Record<string, ort.Tensor>): Record<string, ort.Tensor> => {
    const f: Record<string, ort.Tensor> = { input_ids: new ort.Tensor('int64', BigInt64Array.from(ids), [1, n]), ...extra };
    if (original.inputNames.includes('attention_mask')) f.attention_mask = new ort.Tensor('int64', BigInt64Array.from(ids.map(() => 1n)), [1, n]);
    if (original.inputNames.includes('position_ids')) f.position_ids = new ort.Tensor('int64', BigInt64Array.from([0n, 1n, 2n, 3n, 4n]), [1, n]);
    for (const p of pastInputs) f[p.name] = new ort.Tensor(p.type, p.type === 'float16' ? new Uint16Array(0) : new Float32Array(0), [1, p.heads, 0, p.headDim]);
    return f;
  };
  try {
    const full = (await original.run(feeds({}), ['logits'])).logits;
    const part = (await rows.run(feeds({ [LOGIT_ROWS_INPUT]: new ort.Tensor('int64', BigInt64Array.from([4n, 1n]), [1, 2]) }), [ROW_LOGITS_OUTPUT]))[ROW_LOGITS_OUTPUT];
    const V = full.dims[2];
    const a = full.data as Float32Array;
    const b = part.data as Float32Array;
    for (const [j, pos] of [4, 1].entries()) {
      for (let v = 0; v < V; v++) if (Math.abs(a[pos * V + v] - b[j * V + v]) > 1e-3 * (1 + Math.abs(a[pos * V + v]))) throw new Error('mismatch');
    }
    return rows;
  } catch {
    await rows.release();
    return undefined;
  }
}

/** Shorter shared prefixes cost more to set up than they save. */
const MIN_REUSED_PREFIX = 4;

function presentName(pastName: string): string {
  return pastName.replace(/^past_key_values\./, 'present.');
}

function tile<T extends Float32Array | Uint16Array>(one: T, times: number): T {
  const out = new (one.constructor as new (n: number) => T)(one.length * times);
  for (let i = 0; i < times; i++) out.set(one, i * one.length);
  return out;
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
