/**
 * AttentionBackend on onnxruntime-node: one session on the attention variant of the model (src/onnx/attention)
 * serves both the attention probabilities and AtMan's suppressed forward passes. The variant is built on first
 * use and cached on disk, keyed by the model files' path, size and modification time (no hashing of weights),
 * and the cached graph references the original weights instead of copying them.
 *
 * Cache layout: <cacheDir>/<key>/model.onnx (the graph; its large tensors are external references named
 * weights.<i>, standing for the original .onnx and external data files listed in meta.json) and meta.json
 * (written last: an entry without it is incomplete and rebuilt).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  throwIfAborted, type AttentionBackend, type AttentionItem, type AttentionMaps, type ScoreValue, type SuppressedItem,
} from '../core/modelRunner';
import { ATTENTION_MODEL_FORMAT, KEY_FACTORS_INPUT, attentionProbsOutput, buildAttentionGraph } from '../onnx/attention/attentionModel';
import { loadModelWithSources, referenceSourceWeights } from '../onnx/attention/weightReferences';
import { LOGIT_ROWS_INPUT, ROW_LOGITS_OUTPUT, selectLogitRows } from '../onnx/logitRows';
import { encodeModel, type ModelProto } from '../onnx/onnxProto';
import { unfuseContribOps } from '../onnx/contribUnfuse';
import { findEmbeddingGather } from '../onnx/embeddingCut';
import { Graph } from '../onnx/graph';
import { loadModel } from '../onnx/modelFile';
import { dimsOf, tensorToFloat32 } from '../onnx/tensorData';

interface Meta {
  format: number;
  layers: number;
  heads: number;
  /** Bytes of weights read from the original files rather than copied. */
  referencedBytes: number;
  buildMs: number;
  /** Original files the graph's external tensors read (absolute paths). */
  sources: string[];
}

export interface AttentionBackendOptions {
  /** The original model file (embedding rows are read from it on demand). */
  onnxPath: string;
  /** Folder for cached graphs; omitted = build in memory. */
  cacheDir?: string;
  /** Called with the number of sequences of every run (feeds the runner's forward-pass count). */
  onPasses?: (n: number) => void;
  padId?: number;
  contextLength?: number;
}

/** Cheap identity of a model: path, size and mtime of the .onnx and its external data files, and the format. */
export function attentionCacheKey(onnxPath: string): string {
  const file = fs.realpathSync(onnxPath);
  const dir = path.dirname(file), base = path.basename(file);
  const parts: unknown[] = [ATTENTION_MODEL_FORMAT];
  for (const f of [base, ...fs.readdirSync(dir).filter((x) => x.startsWith(base) && x !== base).sort()]) {
    const st = fs.statSync(path.join(dir, f));
    parts.push(path.join(dir, f), st.size, st.mtimeMs);
  }
  return crypto.createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

function build(onnxPath: string): { proto: ModelProto; sources: ReturnType<typeof loadModelWithSources>['sources']; meta: Meta } {
  const t0 = performance.now();
  const { model, sources } = loadModelWithSources(onnxPath);
  const a = buildAttentionGraph(model);
  const heads = a.heads.find((h) => h !== undefined) ?? 0;
  let proto = a.graph.toModelProto();
  proto = selectLogitRows(proto) ?? proto;
  return { proto, sources, meta: { format: ATTENTION_MODEL_FORMAT, layers: a.layers, heads, referencedBytes: 0, buildMs: Math.round(performance.now() - t0), sources: [] } };
}

const SESSION_OPTIONS = (): ort.InferenceSession.SessionOptions => ({
  graphOptimizationLevel: 'all',
  executionMode: 'sequential',
  intraOpNumThreads: Number(process.env.PROMPTSCOPE_THREADS) || 0,
  ...(process.env.PROMPTSCOPE_SPIN === '1' ? {} : { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
});

/** The original files the cached graph's external tensors name (weights.<i> = sources[i]). */
function externalData(files: string[]): { path: string; data: Uint8Array }[] {
  return files.map((f, i) => ({ path: `weights.${i}`, data: fs.readFileSync(f) }));
}

/**
 * The session on the attention variant: from the cache, else built (and cached when a folder is given).
 * Cached graphs hold no weights: their external tensors name the original files, which are read and handed
 * to onnxruntime in memory when the session is created.
 */
export async function openAttentionSession(onnxPath: string, cacheDir?: string): Promise<{ session: ort.InferenceSession; meta: Meta; fromCache: boolean }> {
  if (!cacheDir) {
    const b = build(onnxPath);
    return { session: await ort.InferenceSession.create(encodeModel(b.proto), SESSION_OPTIONS()), meta: b.meta, fromCache: false };
  }
  const entry = path.join(cacheDir, attentionCacheKey(onnxPath));
  try {
    const meta = JSON.parse(fs.readFileSync(path.join(entry, 'meta.json'), 'utf8')) as Meta;
    if (meta.format === ATTENTION_MODEL_FORMAT) {
      const bytes = fs.readFileSync(path.join(entry, 'model.onnx'));
      return { session: await ort.InferenceSession.create(bytes, { ...SESSION_OPTIONS(), externalData: externalData(meta.sources) }), meta, fromCache: true };
    }
  } catch {
    /* missing or incomplete entry: rebuild below */
  }
  const b = build(onnxPath);
  b.meta.sources = b.sources.map((s) => s.file);
  b.meta.referencedBytes = referenceSourceWeights(b.proto, b.sources, (i) => `weights.${i}`);
  const bytes = encodeModel(b.proto);
  const tmp = `${entry}.${process.pid}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  fs.writeFileSync(path.join(tmp, 'model.onnx'), bytes);
  fs.writeFileSync(path.join(tmp, 'meta.json'), JSON.stringify(b.meta));
  fs.rmSync(entry, { recursive: true, force: true });
  fs.renameSync(tmp, entry);
  const data = b.sources.map((s, i) => ({ path: `weights.${i}`, data: s.bytes }));
  return { session: await ort.InferenceSession.create(bytes, { ...SESSION_OPTIONS(), externalData: data }), meta: b.meta, fromCache: false };
}

interface PastInput { name: string; heads: number; headDim: number; type: 'float32' | 'float16' }

/** Shorter shared prefixes cost more to set up than they save (as in the forward runner). */
const MIN_REUSED_PREFIX = 4;

export class OnnxAttentionBackend implements AttentionBackend {
  private readonly inputs: Map<string, 'int32' | 'int64' | 'float32' | 'float16'>;
  private readonly past: PastInput[];
  private readonly rowSelect: boolean;
  private prefixCache?: { key: string; values: Map<string, Float32Array | Uint16Array> };

  constructor(private readonly session: ort.InferenceSession, readonly meta: Meta, private readonly opts: AttentionBackendOptions) {
    const md = new Map((session.inputMetadata ?? []).map((m) => [m.name, m as { type?: string; shape?: (number | string)[] }]));
    this.inputs = new Map(session.inputNames.map((n) => [n, (md.get(n)?.type ?? 'int64') as 'int64']));
    this.past = session.inputNames
      .filter((n) => /^past_key_values\.\d+\.(key|value)$/.test(n))
      .map((name) => {
        const shape = md.get(name)?.shape ?? [];
        return { name, heads: Number(shape[1]) || 1, headDim: Number(shape[3]) || 1, type: md.get(name)?.type === 'float16' ? 'float16' as const : 'float32' as const };
      });
    this.rowSelect = session.outputNames.includes(ROW_LOGITS_OUTPUT);
  }

  embed(inputIds: number[]): { data: Float32Array; hidden: number } {
    if (!this.embedding) {
      // The lookup table is read once from the original graph (un-fused, so fused embedding ops have a Gather).
      const g = Graph.fromModelProto(loadModel(this.opts.onnxPath));
      unfuseContribOps(g);
      const cut = findEmbeddingGather(g);
      const t = g.constantValue(cut.matrixName)!;
      this.embedding = { matrix: tensorToFloat32(t), hidden: dimsOf(t)[1] };
    }
    const { matrix, hidden } = this.embedding;
    const data = new Float32Array(inputIds.length * hidden);
    inputIds.forEach((id, i) => data.set(matrix.subarray(id * hidden, (id + 1) * hidden), i * hidden));
    return { data, hidden };
  }
  private embedding?: { matrix: Float32Array; hidden: number };

  get layers(): number { return this.meta.layers; }
  get heads(): number { return this.meta.heads; }

  async attention(item: AttentionItem, signal?: AbortSignal): Promise<AttentionMaps> {
    throwIfAborted(signal);
    const n = item.inputIds.length;
    const feeds = this.feeds([{ ...item, queries: [{ position: n - 1, tokenId: 0 }], keyFactors: item.inputIds.map(() => 1) }], 0, undefined);
    const names = Array.from({ length: this.layers }, (_, l) => attentionProbsOutput(l));
    const out = await this.session.run(feeds.feeds, names);
    this.opts.onPasses?.(1);
    const probs = names.map((k) => out[k].data as Float32Array);
    const heads = out[names[0]].dims[1];
    for (const k of Object.keys(out)) if (!names.includes(k)) out[k].dispose?.();
    return { layers: this.layers, heads, seq: n, probs };
  }

  async scoreSuppressed(items: SuppressedItem[], signal?: AbortSignal): Promise<ScoreValue[][]> {
    throwIfAborted(signal);
    if (items.length === 0) return [];
    // The row minimum runs over every key of the padded batch: run each length on its own, so that padding
    // never changes a score (AtMan items of one target share a length anyway).
    const lengths = [...new Set(items.map((i) => i.inputIds.length))];
    if (lengths.length > 1) {
      const out: ScoreValue[][] = new Array(items.length);
      for (const n of lengths) {
        const idx = items.flatMap((it, k) => (it.inputIds.length === n ? [k] : []));
        const values = await this.scoreSuppressed(idx.map((k) => items[k]), signal);
        idx.forEach((k, j) => (out[k] = values[j]));
      }
      return out;
    }
    const prefix = this.reusablePrefix(items);
    const past = prefix > 0 ? await this.prefixKeysValues(items[0].inputIds.slice(0, prefix)) : undefined;
    const { feeds, rows, width } = this.feeds(items, prefix, past);
    const outName = this.rowSelect ? ROW_LOGITS_OUTPUT : 'logits';
    const out = await this.session.run(feeds, [outName]);
    this.opts.onPasses?.(items.length);
    const t = out[outName];
    const vocab = t.dims[t.dims.length - 1];
    const logits = t.data as Float32Array;
    const R = t.dims[1];
    return items.map((item, b) => item.queries.map((q) => {
      if (q.position < 0 || q.position >= item.inputIds.length) throw new Error(`Query position ${q.position} outside a sequence of ${item.inputIds.length}.`);
      const row = this.rowSelect ? (b * R + rows[b].indexOf(q.position - prefix)) * vocab : (b * width + q.position - prefix) * vocab;
      let max = -Infinity;
      for (let v = 0; v < vocab; v++) if (logits[row + v] > max) max = logits[row + v];
      let sum = 0;
      for (let v = 0; v < vocab; v++) sum += Math.exp(logits[row + v] - max);
      const logit = logits[row + q.tokenId];
      // Same arithmetic as the forward runner, so unmodified passes give identical log-probabilities.
      return { logit, logProb: logit - (max + Math.log(sum)) };
    }));
  }

  /** Prefix every item shares unmasked, at default positions, with unscaled keys and no query in it. */
  private reusablePrefix(items: SuppressedItem[]): number {
    if (this.past.length === 0 || items.length < 2) return 0;
    let limit = Math.min(...items.map((i) => i.inputIds.length)) - 1;
    for (const it of items) for (const q of it.queries) limit = Math.min(limit, q.position);
    const first = items[0].inputIds;
    let p = 0;
    for (; p < limit; p++) {
      const ok = items.every((it) => it.inputIds[p] === first[p] && (it.attentionMask?.[p] ?? 1) === 1 && (it.positionIds?.[p] ?? p) === p && it.keyFactors[p] === 1);
      if (!ok) break;
    }
    return p >= MIN_REUSED_PREFIX ? p : 0;
  }

  private async prefixKeysValues(ids: number[]): Promise<Map<string, Float32Array | Uint16Array>> {
    const key = ids.join(',');
    if (this.prefixCache?.key === key) return this.prefixCache.values;
    const { feeds } = this.feeds([{ inputIds: ids, queries: [{ position: ids.length - 1, tokenId: 0 }], keyFactors: ids.map(() => 1) }], 0, undefined);
    const names = this.past.map((p) => p.name.replace(/^past_key_values\./, 'present.'));
    const out = await this.session.run(feeds, names);
    this.opts.onPasses?.(1);
    const values = new Map(this.past.map((p, i) => [p.name, out[names[i]].data as Float32Array | Uint16Array]));
    this.prefixCache = { key, values };
    return values;
  }

  /** Right-padded feeds for the tokens after `prefix` (whose keys and values are given as past). */
  private feeds(items: SuppressedItem[], prefix: number, past: Map<string, Float32Array | Uint16Array> | undefined): { feeds: Record<string, ort.Tensor>; rows: number[][]; width: number } {
    const B = items.length;
    const width = Math.max(...items.map((i) => i.inputIds.length)) - prefix;
    const total = prefix + width;
    const ctx = this.opts.contextLength ?? Number.MAX_SAFE_INTEGER;
    const ints = (name: string, cols: number, get: (it: SuppressedItem, t: number) => number): ort.Tensor => {
      const type = this.inputs.get(name) === 'int32' ? 'int32' : 'int64';
      const n = B * cols;
      if (type === 'int32') {
        const a = new Int32Array(n);
        items.forEach((it, b) => { for (let t = 0; t < cols; t++) a[b * cols + t] = get(it, t); });
        return new ort.Tensor('int32', a, [B, cols]);
      }
      const a = new BigInt64Array(n);
      items.forEach((it, b) => { for (let t = 0; t < cols; t++) a[b * cols + t] = BigInt(get(it, t)); });
      return new ort.Tensor('int64', a, [B, cols]);
    };
    const pad = this.opts.padId ?? 0;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: ints('input_ids', width, (it, t) => it.inputIds[prefix + t] ?? pad),
    };
    if (this.inputs.has('attention_mask')) feeds.attention_mask = ints('attention_mask', total, (it, t) => (t < it.inputIds.length ? (it.attentionMask?.[t] ?? 1) : 0));
    if (this.inputs.has('position_ids')) feeds.position_ids = ints('position_ids', width, (it, t) => it.positionIds?.[prefix + t] ?? Math.min(prefix + t, ctx - 1));
    if (this.inputs.has('token_type_ids')) feeds.token_type_ids = ints('token_type_ids', width, () => 0);
    const factors = new Float32Array(B * total).fill(1);
    items.forEach((it, b) => it.keyFactors.forEach((f, t) => (factors[b * total + t] = f)));
    feeds[KEY_FACTORS_INPUT] = new ort.Tensor('float32', factors, [B, total]);
    for (const p of this.past) {
      const one = past?.get(p.name);
      if (one) {
        const data = new (one.constructor as new (n: number) => Float32Array | Uint16Array)(one.length * B);
        for (let b = 0; b < B; b++) data.set(one, b * one.length);
        feeds[p.name] = new ort.Tensor(p.type, data, [B, p.heads, prefix, p.headDim]);
      } else {
        feeds[p.name] = new ort.Tensor(p.type, p.type === 'float16' ? new Uint16Array(0) : new Float32Array(0), [B, p.heads, 0, p.headDim]);
      }
    }
    const rows = items.map((it) => [...new Set(it.queries.map((q) => q.position - prefix))].sort((a, b) => a - b));
    if (this.rowSelect) {
      const R = Math.max(1, ...rows.map((r) => r.length));
      const data = new BigInt64Array(B * R);
      rows.forEach((r, b) => { for (let j = 0; j < R; j++) data[b * R + j] = BigInt(r[Math.min(j, r.length - 1)] ?? 0); });
      feeds[LOGIT_ROWS_INPUT] = new ort.Tensor('int64', data, [B, R]);
    }
    return { feeds, rows, width };
  }
}

export async function createAttentionBackend(opts: AttentionBackendOptions): Promise<OnnxAttentionBackend> {
  const { session, meta } = await openAttentionSession(opts.onnxPath, opts.cacheDir);
  return new OnnxAttentionBackend(session, meta, opts);
}

