/**
 * GradientBackend on onnxruntime-node: builds (or loads from the cache) the augmented "score + gradient"
 * graph from src/onnx and runs batched forward+backward passes with it.
 *
 * The graph is built from the model's weight-free skeleton (src/onnx/modelSkeleton.ts): its weights stay external
 * references into the original model file, so the cached graph is a few megabytes and onnxruntime reads the
 * weights from where they already are. Cache layout (cacheDir): <key>.onnx (augmented graph), <key>.json
 * (metadata, including where the embedding matrix sits in the model file), and <key>.embedding.f32 only when the
 * embeddings are not plain fp32 bytes of the file. key = the skeleton's key (sha256 of the graph without weights +
 * size and mtime of the weight files) + target kind + class score + GRADIENT_MODEL_FORMAT: cheap to compute, and a
 * changed model or a new graph format never reuses a stale graph.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  throwIfAborted, type EmbedsForwardItem, type GradientBackend, type GradientItem, type GradientValue, type ModelKind,
} from '../core/modelRunner';
import { buildEmbedsForwardModel, LOGIT_ROWS_INPUT, type EmbedsForwardModel } from '../onnx/embedsForward';
import { buildGradientModel, GRADIENT_MODEL_FORMAT, GRADIENT_OUTPUT } from '../onnx/gradientModel';
import { TARGET_IDS_USED, TARGET_LOGITS } from '../onnx/targetScore';
import { externalRef, readModelSkeleton, type ModelSkeleton } from '../onnx/modelSkeleton';
import { DataType } from '../onnx/tensorData';
import { EmbeddingRows } from './embeddingRows';
import { createSession } from './executionProviders';
import { modelFileBytes, sizedGradientSessionOptions } from './graphSessionOptions';
import { countGraphNodes } from '../onnx/nodeCount';
import { sessionOptions } from './sessionOptions';
import { collectGarbage } from './collectGarbage';

export interface GradientBackendOptions {
  kind: ModelKind;
  /** Folder for cached augmented graphs; omitted = build in memory every time. */
  cacheDir?: string;
  /** Default class score for classifiers when a target does not say. */
  classScore?: 'logit' | 'log-prob';
  /** Threads for the gradient session (default: env PROMPTSCOPE_THREADS, else onnxruntime's choice). */
  intraOpNumThreads?: number;
  /** The model's skeleton when the caller already read it (its key names the cache entry). */
  skeleton?: ModelSkeleton;
  /**
   * Large models: the gradient graph and the embedding-input graph are never open at once; opening one releases the
   * other (reopened on demand), so that one copy of the weights is in memory (loadedModel.ts: exclusiveSessionsFor).
   */
  exclusiveSessions?: boolean;
}

interface CachedMeta {
  format: number;
  vocabSize: number;
  hiddenSize: number;
  inputs: { name: string; elemType: number }[];
  /** The embedding matrix as fp32 bytes inside a weight file (relative to the model folder), when it is one. */
  embeddingAt?: { location: string; offset: number; length: number };
  /** If segments of the graph (src/onnx/subgraphSegments.ts); 0 or absent: one graph. */
  segments?: number;
}

type ClassScore = 'logit' | 'log-prob';

/** Largest logits rows answer (floats) kept for the next identical question: 16 MB, e.g. 16 rows of a 256k vocabulary. */
const KEPT_ROWS_FLOATS = 4 * 2 ** 20;

/** Only these two outputs are read (graphs cached by older formats may have more). */
const FETCHES = ['score', GRADIENT_OUTPUT];

interface Built { session: ort.InferenceSession; meta: CachedMeta; embedding: EmbeddingRows }

/**
 * What differs for gradient sessions (measured on the 135M Llama shape's gradient graph, 10.6k nodes):
 * - the parallel executor: onnxruntime's sequential memory planner is quadratic in the values a gradient graph keeps
 *   alive for the backward pass (about 5 s of CPU at load, against 0.2 s); it needs two inter-op threads (with one,
 *   onnxruntime silently falls back to the sequential executor). It also plans without buffer reuse, which peaks
 *   lower on large batches (512 tokens: 1.6 GB against 2.5 GB). Execution costs about 20-40 % more CPU.
 * - no weight prepacking: every weight feeds a forward MatMul and a backward Gemm(transB), so prepacking keeps two
 *   repacked copies of all weights (1.1 GB against 0.2 GB after load) and costs 3-5 s of load; unpacked weights
 *   are read straight from the mapped model file.
 */
export function gradientSessionOptions(base: ort.InferenceSession.SessionOptions): ort.InferenceSession.SessionOptions {
  const extra = (base.extra ?? {}) as { session?: Record<string, unknown> };
  const session: Record<string, unknown> = { ...(extra.session ?? {}), disable_prepacking: '1' };
  if (process.env.PROMPTSCOPE_SPIN !== '1') session.inter_op = { allow_spinning: '0' };
  return { ...base, executionMode: 'parallel', interOpNumThreads: 2, extra: { ...extra, session } };
}

/**
 * A gradient graph cut into If segments (src/onnx/subgraphSegments.ts) runs on the sequential executor, whose plan
 * reuses dead buffers (each segment is planned on its own, in milliseconds), still without prepacking (see above), and
 * with basic rewrites. Llama-135M shape, 32 tokens: per-pass CPU 0.30 s against the parallel executor's 0.46 s at
 * batch 1, 0.18 against 0.25 s per item at batch 4; session creation 1.1 s of CPU as before. No memory pattern: the
 * pattern's one block per shape peaked higher (128 tokens: 1371 MB against 1039 MB, 950 MB on the parallel executor)
 * at the same CPU (0.73 s against 0.68 s).
 */
export function segmentedGradientSessionOptions(base: ort.InferenceSession.SessionOptions): ort.InferenceSession.SessionOptions {
  const extra = (base.extra ?? {}) as { session?: Record<string, unknown> };
  return {
    ...base, executionMode: 'sequential', graphOptimizationLevel: 'basic', enableMemPattern: false,
    extra: { ...extra, session: { ...(extra.session ?? {}), disable_prepacking: '1' } },
  };
}

async function buildOrLoad(onnxPath: string, kind: ModelKind, classScore: ClassScore, opts: GradientBackendOptions, key0: string): Promise<Built> {
  const dir = path.dirname(onnxPath);
  const options = sessionOptions({ weightsDir: dir });
  // Same threading as the forward runner: PROMPTSCOPE_THREADS unless the caller says otherwise.
  if (opts.intraOpNumThreads) options.intraOpNumThreads = opts.intraOpNumThreads;
  // Executor and prepacking by the graph's size (graphSessionOptions.ts). Large graphs get basic rewrites only
  // (constant folding, redundant nodes): the extended fusions find little to fuse where forward intermediates feed
  // the backward pass, and cost load time. Llama-135M shape: session creation 2.2-2.6 s of CPU → 1.6-1.8 s, passes
  // alike (1 × 32 and 4 × 32 tokens), same scores; GPT-2 shape: no change.
  const sized = (bytes: Uint8Array, segments = 0): ort.InferenceSession.SessionOptions => {
    if (segments > 0) return segmentedGradientSessionOptions(options);
    const o = sizedGradientSessionOptions(options, { nodes: countGraphNodes(bytes), weightBytes: modelFileBytes(onnxPath) });
    return o.executionMode === 'parallel' ? { ...o, graphOptimizationLevel: 'basic' } : o;
  };
  const key = `${key0.slice(0, 32)}-${kind}-${kind === 'causal-lm' ? 'logprob' : classScore}-v${GRADIENT_MODEL_FORMAT}`;
  if (opts.cacheDir) {
    const base = path.join(opts.cacheDir, key);
    try {
      const meta = JSON.parse(fs.readFileSync(`${base}.json`, 'utf8')) as CachedMeta;
      if (meta.format === GRADIENT_MODEL_FORMAT) {
        let embedding: EmbeddingRows;
        if (meta.embeddingAt) embedding = EmbeddingRows.inFile(path.resolve(dir, meta.embeddingAt.location), meta.embeddingAt.offset, meta.vocabSize, meta.hiddenSize);
        else {
          const raw = fs.readFileSync(`${base}.embedding.f32`);
          embedding = EmbeddingRows.inMemory(new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)), meta.vocabSize, meta.hiddenSize);
        }
        const bytes = fs.readFileSync(`${base}.onnx`);
        const session = await createSession(bytes, sized(bytes, meta.segments));
        return { session, meta, embedding };
      }
    } catch {
      /* cache miss or corrupt entry: rebuild below */
    }
  }
  // A fresh skeleton: graph rewrites may change the decoded messages they are given.
  const skeleton = readModelSkeleton(onnxPath);
  let m = buildGradientModel(skeleton.model, { kind, classScore });
  let session: ort.InferenceSession;
  try {
    session = await createSession(m.bytes, sized(m.bytes, m.segments));
  } catch (e) {
    // A segmented graph onnxruntime does not take (a value typed wrongly by the cut) runs uncut, as before.
    if (m.segments === 0) throw e;
    m = buildGradientModel(readModelSkeleton(onnxPath).model, { kind, classScore, segmentFrom: Infinity });
    session = await createSession(m.bytes, sized(m.bytes, 0));
  }
  const embTensor = skeleton.model.graph?.initializer?.find((t) => t.name === m.embeddingName);
  const ref = embTensor && embTensor.data_type === DataType.FLOAT ? externalRef(embTensor) : undefined;
  const meta: CachedMeta = {
    format: GRADIENT_MODEL_FORMAT, vocabSize: m.vocabSize, hiddenSize: m.hiddenSize, inputs: m.inputs, segments: m.segments,
    ...(ref && ref.length === m.vocabSize * m.hiddenSize * 4 ? { embeddingAt: { location: path.relative(dir, ref.file), offset: ref.offset, length: ref.length } } : {}),
  };
  if (opts.cacheDir) {
    fs.mkdirSync(opts.cacheDir, { recursive: true });
    const base = path.join(opts.cacheDir, key);
    // Write data first and metadata last, each via rename, so a crash never leaves a half entry that loads.
    const write = (file: string, data: Uint8Array | string): void => {
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, data);
      fs.renameSync(tmp, file);
    };
    write(`${base}.onnx`, m.bytes);
    if (!meta.embeddingAt) write(`${base}.embedding.f32`, new Uint8Array(m.embedding.buffer, m.embedding.byteOffset, m.embedding.byteLength));
    write(`${base}.json`, JSON.stringify(meta));
  }
  const embedding = meta.embeddingAt
    ? EmbeddingRows.inFile(path.resolve(dir, meta.embeddingAt.location), meta.embeddingAt.offset, meta.vocabSize, meta.hiddenSize)
    : EmbeddingRows.inMemory(m.embedding, m.vocabSize, m.hiddenSize);
  return { session, meta, embedding };
}

export class OnnxGradientBackend implements GradientBackend {
  private count = 0;
  private mean?: Float32Array;
  private readonly sessions = new Map<ClassScore, Promise<Built>>();

  constructor(
    private readonly onnxPath: string,
    private readonly opts: GradientBackendOptions,
    private readonly key: string,
    first: Built,
    private readonly defaultClassScore: ClassScore,
  ) {
    this.sessions.set(defaultClassScore, Promise.resolve(first));
    this.built = first;
    this.answersForward = first.session.outputNames.includes(TARGET_LOGITS);
  }
  private readonly built: Built;

  get hiddenSize(): number { return this.built.meta.hiddenSize; }
  get vocabSize(): number { return this.built.meta.vocabSize; }
  get backwardCount(): number { return this.count; }

  /** Whether the graph also returns the logits rows at the target positions (causal LMs). */
  readonly answersForward: boolean;
  /** Runs in flight: a session is released only when none is. */
  private busy = 0;
  private async running<T>(run: () => Promise<T>): Promise<T> {
    this.busy += 1;
    try {
      return await run();
    } finally {
      this.busy -= 1;
    }
  }
  /** Whether a gradient graph session is open (with exclusiveSessions, the embedding-input graph may hold the weights instead). */
  get gradientSessionOpen(): boolean { return this.sessions.size > 0; }
  /** Releases the gradient graph sessions (reopened from the cache when next needed). */
  private async releaseGradientSessions(): Promise<void> {
    if (this.busy > 0 || this.sessions.size === 0) return;
    const open = [...this.sessions.values()];
    this.sessions.clear();
    for (const s of open) await (await s).session.release();
  }
  private async releaseEmbedsForward(): Promise<void> {
    if (this.busy > 0 || !this.embedsForward) return;
    const open = this.embedsForward;
    this.embedsForward = undefined;
    await (await open).session.release();
  }

  /**
   * The full logits rows of one sequence at these positions, from the gradient graph (its forward part computes
   * them for the score anyway, and the backward part runs too). Lets a gradient run answer its few single-sequence
   * forward questions (the prediction, the target) without a second session mapping the weights. The backward part
   * is not wasted: the run scores the top token at the last position (target id −1, targetScore.ts), and that
   * gradient is kept for a next-token question on the same prompt (`topTokenGradient`), the one a gradient method
   * asks right after the prediction.
   */
  async logitRows(item: { inputIds: number[]; attentionMask?: number[]; positionIds?: number[] }, positions: number[], signal?: AbortSignal): Promise<{ logits: Float32Array; vocab: number }> {
    throwIfAborted(signal);
    const built = await this.session(this.defaultClassScore);
    const seq = item.inputIds.length;
    for (const p of positions) if (p < 0 || p >= seq) throw new Error(`Query position ${p} outside a sequence of ${seq}.`);
    // The prediction and the target ask for the same rows of the same prompt one after the other: each answer is a
    // whole forward and backward pass of this graph, so the last one is kept and given again.
    const key = JSON.stringify([item.inputIds, item.attentionMask ?? null, item.positionIds ?? null, positions]);
    if (this.lastRows?.key === key) return { logits: this.lastRows.logits.slice(), vocab: this.lastRows.vocab };
    const top = built.session.outputNames.includes(TARGET_IDS_USED);
    const last = positions.length - 1;
    const gi: GradientItem = {
      ...item, inputsEmbeds: this.embed(item.inputIds),
      target: { tokenIds: positions.map((_, t) => (top && t === last ? -1 : 0)), positions, weights: positions.map((_, t) => (top && t === last ? 1 : 0)) },
    };
    const res = await this.running(() => built.session.run(this.feeds(built.meta, [gi], seq), top ? [TARGET_LOGITS, TARGET_IDS_USED, ...FETCHES] : [TARGET_LOGITS]));
    this.graphRuns += 1;
    const t = res[TARGET_LOGITS];
    const out = { logits: (t.data as Float32Array).slice(), vocab: t.dims[2] };
    this.topTokenGradient = top
      ? {
        key: JSON.stringify([item.inputIds, item.attentionMask ?? null, item.positionIds ?? null]), position: positions[last],
        tokenId: Number((res[TARGET_IDS_USED].data as BigInt64Array)[last]), embeds: gi.inputsEmbeds,
        value: { score: (res.score.data as Float32Array)[0], grad: (res[GRADIENT_OUTPUT].data as Float32Array).slice() },
      }
      : undefined;
    for (const v of Object.values(res)) v.dispose?.();
    // Kept only when small (a few rows of the vocabulary): a copy of many rows would double a large call's memory.
    this.lastRows = out.logits.length <= KEPT_ROWS_FLOATS ? { key, logits: out.logits.slice(), vocab: out.vocab } : undefined;
    return out;
  }

  /** The gradient of the last logitRows run: log p(its top token at its last position), weight 1, default class score. */
  private topTokenGradient?: { key: string; position: number; tokenId: number; embeds: Float32Array; value: GradientValue };

  /** The kept top-token gradient when this item asks exactly that question (same prompt, embeddings and target). */
  private keptGradient(it: GradientItem): GradientValue | undefined {
    const k = this.topTokenGradient, t = it.target;
    if (!k || t.tokenIds.length !== 1 || t.tokenIds[0] !== k.tokenId || t.positions[0] !== k.position || t.weights[0] !== 1) return undefined;
    if ((t.classScore ?? this.defaultClassScore) !== this.defaultClassScore) return undefined;
    if (JSON.stringify([it.inputIds, it.attentionMask ?? null, it.positionIds ?? null]) !== k.key) return undefined;
    const e = it.inputsEmbeds;
    if (e.length !== k.embeds.length) return undefined;
    for (let i = 0; i < e.length; i++) if (e[i] !== k.embeds[i] && !(Number.isNaN(e[i]) && Number.isNaN(k.embeds[i]))) return undefined;
    return { score: k.value.score, grad: k.value.grad.slice() };
  }

  private lastRows?: { key: string; logits: Float32Array; vocab: number };
  /** Runs of the gradient graph (gradient batches and forward answers alike): what a run costs. */
  graphRuns = 0;
  /** Gradients given from the last forward answer's run instead of a run of their own. */
  keptServed = 0;
  /** Row-major [vocab, hidden] token-embedding matrix. */
  get embeddingMatrix(): Float32Array { return this.built.embedding.all(); }

  embed(inputIds: number[]): Float32Array {
    return this.built.embedding.lookup(inputIds);
  }

  meanEmbedding(): Float32Array {
    this.mean ??= this.built.embedding.mean();
    return this.mean;
  }

  private session(cs: ClassScore): Promise<Built> {
    if (this.opts.kind === 'causal-lm') cs = this.defaultClassScore;
    let s = this.sessions.get(cs);
    if (!s) {
      const free = this.opts.exclusiveSessions ? this.releaseEmbedsForward() : Promise.resolve();
      s = free.then(() => {
        if (this.opts.exclusiveSessions) collectGarbage();
        return buildOrLoad(this.onnxPath, this.opts.kind, cs, this.opts, this.key);
      });
      this.sessions.set(cs, s);
    }
    return s;
  }

  async scoreAndGradient(items: GradientItem[], signal?: AbortSignal): Promise<GradientValue[]> {
    throwIfAborted(signal);
    if (items.length === 0) return [];
    const seq = items[0].inputIds.length;
    const h = this.hiddenSize;
    for (const it of items) {
      if (it.inputIds.length !== seq) throw new Error('All items in one gradient call must share a sequence length.');
      if (it.inputsEmbeds.length !== seq * h) throw new Error(`inputsEmbeds has ${it.inputsEmbeds.length} values; expected ${seq}×${h}.`);
      const t = it.target;
      if (t.tokenIds.length !== t.positions.length || t.tokenIds.length !== t.weights.length) throw new Error('Gradient target arrays differ in length.');
    }
    const out: GradientValue[] = new Array(items.length);
    // One session per class score: group items so each group runs in one batch. An item whose gradient the last
    // forward answer already computed (the prompt itself, its top token) is not run again.
    const groups = new Map<ClassScore, number[]>();
    items.forEach((it, i) => {
      const kept = this.keptGradient(it);
      if (kept) {
        out[i] = kept;
        this.keptServed += 1;
        return;
      }
      const cs = it.target.classScore ?? this.defaultClassScore;
      (groups.get(cs) ?? groups.set(cs, []).get(cs)!).push(i);
    });
    for (const [cs, idx] of groups) {
      const built = await this.session(cs);
      throwIfAborted(signal);
      const res = await this.running(() => built.session.run(this.feeds(built.meta, idx.map((i) => items[i]), seq), FETCHES));
      this.graphRuns += 1;
      const score = res.score.data as Float32Array;
      const grad = res[GRADIENT_OUTPUT].data as Float32Array;
      idx.forEach((i, b) => {
        out[i] = { score: score[b], grad: grad.slice(b * seq * h, (b + 1) * seq * h) };
      });
      for (const t of Object.values(res)) t.dispose?.();
    }
    this.count += items.length;
    return out;
  }

  private embedsForward?: Promise<{ session: ort.InferenceSession; model: EmbedsForwardModel }>;
  private embedsForwardModel?: EmbedsForwardModel;

  /** Forward-only passes from embeddings (built in memory on first use; the cut graph is small to derive). */
  async logProbsFromEmbeds(items: EmbedsForwardItem[], signal?: AbortSignal): Promise<Float32Array[]> {
    throwIfAborted(signal);
    if (items.length === 0) return [];
    const { session, model } = await this.embedsForwardSession();
    throwIfAborted(signal);
    const seq = items[0].inputIds.length;
    const meta: CachedMeta = { format: 0, vocabSize: this.vocabSize, hiddenSize: this.hiddenSize, inputs: model.inputs.filter((i) => i.name !== LOGIT_ROWS_INPUT) };
    const gi = items.map((it) => {
      if (it.inputIds.length !== seq) throw new Error('All items in one embeddings call must share a sequence length.');
      return { ...it, target: { tokenIds: [], positions: [], weights: [] } };
    });
    const feeds = this.feeds(meta, gi, seq);
    if (model.rows) feeds[LOGIT_ROWS_INPUT] = new ort.Tensor('int64', BigInt64Array.from(items.map((it) => BigInt(it.position))), [items.length, 1]);
    const res = await this.running(() => session.run(feeds, [model.output]));
    const logits = res[model.output].data as Float32Array;
    const width = logits.length / items.length;
    const perRow = model.rows || this.opts.kind !== 'causal-lm' ? width : width / seq;
    const out = items.map((it, b) => {
      const off = b * width + (model.rows || this.opts.kind !== 'causal-lm' ? 0 : it.position * perRow);
      return logSoftmax(logits.subarray(off, off + perRow));
    });
    for (const t of Object.values(res)) t.dispose?.();
    return out;
  }

  /**
   * The embedding-input graph (built in memory on first use; the cut graph is small to derive): Soft-NC / Soft-NS and,
   * in gradient loads, batches of forward passes (embedsBatchRows.ts). With exclusiveSessions, opening it releases
   * the gradient graph.
   */
  embedsForwardSession(): Promise<{ session: ort.InferenceSession; model: EmbedsForwardModel }> {
    if (!this.embedsForward) {
      const free = this.opts.exclusiveSessions ? this.releaseGradientSessions() : Promise.resolve();
      this.embedsForward = free.then(async () => {
        // From the skeleton, like the gradient graph: onnxruntime reads the weights from the model file. Kept (a few
        // MB, no weights) for the reopenings exclusive sessions cause: Llama-135M shape, 0.4 s of CPU each.
        this.embedsForwardModel ??= buildEmbedsForwardModel(readModelSkeleton(this.onnxPath).model, { causal: this.opts.kind === 'causal-lm' });
        const model = this.embedsForwardModel;
        const options = sessionOptions({ weightsDir: path.dirname(this.onnxPath) });
        if (this.opts.intraOpNumThreads) options.intraOpNumThreads = this.opts.intraOpNumThreads;
        if (this.opts.exclusiveSessions) collectGarbage();
        const session = await createSession(model.bytes, options);
        return { session, model };
      });
    }
    return this.embedsForward;
  }

  /** One run of the embedding-input graph, counted in flight (a session is not released under a run). */
  async runEmbedsForward(feeds: Record<string, ort.Tensor>, fetches: string[]): Promise<ort.InferenceSession.OnnxValueMapType> {
    const { session } = await this.embedsForwardSession();
    return this.running(() => session.run(feeds, fetches));
  }

  private feeds(meta: CachedMeta, items: GradientItem[], seq: number): Record<string, ort.Tensor> {
    const B = items.length, h = this.hiddenSize;
    const T = Math.max(1, ...items.map((it) => it.target.tokenIds.length));
    const feeds: Record<string, ort.Tensor> = {};
    const ints = (elemType: number, get: (it: GradientItem, i: number) => number): ort.Tensor => {
      const n = B * seq;
      if (elemType === DataType.INT32) {
        const a = new Int32Array(n);
        items.forEach((it, b) => { for (let i = 0; i < seq; i++) a[b * seq + i] = get(it, i); });
        return new ort.Tensor('int32', a, [B, seq]);
      }
      const a = new BigInt64Array(n);
      items.forEach((it, b) => { for (let i = 0; i < seq; i++) a[b * seq + i] = BigInt(get(it, i)); });
      return new ort.Tensor('int64', a, [B, seq]);
    };
    for (const inp of meta.inputs) {
      switch (inp.name) {
        case 'inputs_embeds': {
          const e = new Float32Array(B * seq * h);
          items.forEach((it, b) => e.set(it.inputsEmbeds, b * seq * h));
          feeds[inp.name] = new ort.Tensor('float32', e, [B, seq, h]);
          break;
        }
        case 'target_ids': case 'target_positions': {
          // Pad to the longest target list with weight 0 (id 0, position 0 contribute nothing).
          const a = new BigInt64Array(B * T);
          items.forEach((it, b) => {
            const src = inp.name === 'target_ids' ? it.target.tokenIds : it.target.positions;
            src.forEach((v, t) => {
              if (inp.name === 'target_positions' && this.opts.kind === 'causal-lm' && (v < 0 || v >= seq)) throw new Error(`Target position ${v} is outside the sequence (length ${seq}).`);
              a[b * T + t] = BigInt(v);
            });
          });
          feeds[inp.name] = new ort.Tensor('int64', a, [B, T]);
          break;
        }
        case 'target_weights': {
          const a = new Float32Array(B * T);
          items.forEach((it, b) => it.target.weights.forEach((w, t) => (a[b * T + t] = w)));
          feeds[inp.name] = new ort.Tensor('float32', a, [B, T]);
          break;
        }
        case 'attention_mask': feeds[inp.name] = ints(inp.elemType, (it, i) => it.attentionMask?.[i] ?? 1); break;
        case 'position_ids': feeds[inp.name] = ints(inp.elemType, (it, i) => it.positionIds?.[i] ?? i); break;
        case 'token_type_ids': feeds[inp.name] = ints(inp.elemType, () => 0); break;
        case 'input_ids': feeds[inp.name] = ints(inp.elemType, (it, i) => it.inputIds[i]); break;
        default: throw new Error(`The gradient graph needs an input Promptscope cannot provide: ${inp.name}.`);
      }
    }
    return feeds;
  }
}

/** Indexed loops (not iterators and a mapping callback): a third of a bundled-LM trust call's CPU went here. */
function logSoftmax(row: Float32Array): Float32Array {
  const n = row.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, row[i]);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(row[i] - max);
  const lse = max + Math.log(sum);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = row[i] - lse;
  return out;
}

/** Builds or loads the augmented graph for a model and returns a ready GradientBackend. */
export async function createGradientBackend(
  modelDir: string,
  onnxPath: string,
  opts: GradientBackendOptions,
): Promise<OnnxGradientBackend> {
  const file = path.isAbsolute(onnxPath) ? onnxPath : path.join(modelDir, onnxPath);
  // The skeleton's key is cheap (no weights are read): size, mtime and the graph's hash.
  const key = (opts.skeleton ?? readModelSkeleton(file)).key;
  const cs: ClassScore = opts.classScore ?? (opts.kind === 'causal-lm' ? 'log-prob' : 'logit');
  const first = await buildOrLoad(file, opts.kind, cs, { ...opts, skeleton: undefined }, key);
  return new OnnxGradientBackend(file, { ...opts, skeleton: undefined }, key, first, cs);
}
