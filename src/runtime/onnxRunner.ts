/**
 * ModelRunner on onnxruntime-node: pads a batch of sequences into one run, reads only the logits rows that
 * queries ask for, and turns them into log-probabilities.
 */
import type { LayerGradientBackend } from '../core/layerGradients';
import type { LogitLensBackend } from '../core/logitLens';
import * as ort from 'onnxruntime-node';
import { EngineError } from '../core/engineProtocol';
import { LOGIT_ROWS_INPUT, logitRowsHeadCheck, ROW_LOGITS_OUTPUT, selectLogitRows } from '../onnx/logitRows';
import { UNPACKED_HEAD_FROM_BYTES } from '../onnx/tiedHeadGemm';
import { WANT_PRESENTS_INPUT } from '../onnx/optionalPresents';
import { readModelSkeleton, type ModelSkeleton } from '../onnx/modelSkeleton';
import { encodeModel } from '../onnx/onnxProto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createSession } from './executionProviders';
import { sessionOptions } from './sessionOptions';
import { PrefixKvCache } from './prefixKvCache';
import { findPastInputs, pastDims, type PastInput, type PastNameTemplates } from './decoderSignature';
import { conformIntFeeds, emptyFloatTensor, floatData } from './tensorDecoding';
import {
  throwIfAborted,
  type AttentionBackend,
  type ForwardItem,
  type GradientBackend,
  type ModelInfo,
  type ModelRunner,
  type ScoreValue,
  type TopToken,
} from '../core/modelRunner';

export interface DecoderCacheShape {
  /** Past-key-value inputs with their [heads, headDim] and element type (fed with past length 0). */
  pastInputs: PastInput[];
}

export class OnnxRunner implements ModelRunner {
  forwardCount = 0;
  /**
   * Some exports (onnxruntime-genai's builder) accept a past only for one new token at a time; the first
   * failing run with a reused prefix turns reuse off for the session and is retried without it.
   */
  private prefixReuse = true;
  gradients?: GradientBackend;
  attention?: AttentionBackend;
  logitLens?: LogitLensBackend;
  layerGradients?: LayerGradientBackend;
  /** The forward session, opened at load or (deferred loads) on the first batch that needs it. */
  private forward?: Promise<ForwardSession>;
  /**
   * Deferred loads (gradient runs): until the forward session is open, forward passes of one sequence are answered
   * by this graph (the gradient graph, which computes those logits anyway), so that one session maps the weights.
   */
  rowSource?: RowSource;
  /**
   * Deferred loads: batches of forward passes answered without the forward session (the embedding-input graph that
   * Soft-NC / Soft-NS open anyway, embedsBatchRows.ts), so that a gradient run's trust figures map no third copy of
   * the weights. Single sequences go to it too once the gradient graph has been released for it.
   */
  batchRowSource?: { answer(items: ForwardItem[], padId: number, contextLength: number): Promise<{ logits: Float32Array; vocab: number; rowOf: (item: number, position: number) => number }>; gradientSessionOpen: boolean };
  /** The id that pads batches (the forward session's, for batches answered elsewhere). */
  padId = 0;
  /**
   * The explain running has forward methods: they run on the forward session, the prediction too (its keys and
   * values are the slices every batch's shared prefix is read from).
   */
  private forwardMethods = false;
  expectForwardMethods(yes: boolean): void {
    this.forwardMethods = yes;
  }

  constructor(
    readonly info: ModelInfo,
    private readonly openForward: () => Promise<ForwardSession>,
    opened?: ForwardSession,
  ) {
    if (opened) this.forward = Promise.resolve(opened);
  }

  /** Whether the forward session has been opened (a deferred load opens it with its first batch). */
  get forwardSessionOpen(): boolean {
    return this.forward !== undefined;
  }

  private session(): Promise<ForwardSession> {
    this.forward ??= this.openForward();
    return this.forward;
  }

  /**
   * One session per model. Causal LMs get the logit-row variant (src/onnx/logitRows.ts) built from the weight-free
   * skeleton, whose weights onnxruntime reads from the original file: no second copy, no protobuf re-encoding of
   * the weights. The variant is checked once against the original graph on a probe input; the verdict is cached.
   * `opts.deferSession` (loads for gradient methods) opens it only when forward passes first need it.
   */
  static async create(info: ModelInfo, onnxPath: string, padId: number, config: Record<string, unknown>, pastTemplates?: PastNameTemplates, opts: RunnerOptions = {}): Promise<OnnxRunner> {
    let skeleton: ModelSkeleton;
    try {
      skeleton = opts.skeleton ?? readModelSkeleton(onnxPath);
    } catch (err) {
      throw loadError(onnxPath, err);
    }
    const outputNames = (skeleton.model.graph?.output ?? []).map((o) => o.name ?? '');
    if (info.kind === 'causal-lm' && !outputNames.includes('logits')) {
      throw new EngineError('unsupported-model', `${onnxPath} has no "logits" output. Export the model for text generation (causal LM with logits).`);
    }
    const open = async (): Promise<ForwardSession> => {
      const rows = info.kind === 'causal-lm' && process.env.PROMPTSCOPE_FULL_LOGITS !== '1'
        ? await rowSelectingSession(onnxPath, skeleton, (s) => findPastInputs(s, pastShape(config), pastTemplates), opts.cacheDir)
        : undefined;
      let session = rows;
      if (!session) {
        try {
          session = await createSession(onnxPath, sessionOptions());
        } catch (err) {
          throw loadError(onnxPath, err);
        }
      }
      const pastInputs = findPastInputs(session, pastShape(config), pastTemplates);
      if (info.kind === 'causal-lm' && session.inputNames.some((n) => n.startsWith('past')) && pastInputs.length === 0) {
        throw new EngineError('unsupported-model', `${onnxPath} has past-key inputs Promptscope does not recognise. Export it with the Hugging Face decoder signature (past_key_values.N.key/value → present.N.key/value).`);
      }
      return { session, cache: { pastInputs }, padId, rowSelect: !!rows, inputNames: new Set(session.inputNames) };
    };
    const runner = new OnnxRunner(info, open, opts.deferSession ? undefined : await open());
    runner.skeleton = skeleton;
    runner.padId = padId;
    return runner;
  }

  /** The model's graph without weights (shared with the gradient builder, so the file is scanned once). */
  skeleton?: ModelSkeleton;

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

  async topTokens(inputIds: number[], k: number, signal?: AbortSignal, alongside?: ForwardItem[]): Promise<TopToken[]> {
    throwIfAborted(signal);
    this.precomputed = undefined;
    const prompt: ForwardItem = { inputIds, queries: [{ position: inputIds.length - 1, tokenId: 0 }] };
    const extra = alongside?.length && this.runsAlongside(inputIds, alongside) ? alongside : [];
    // This pass sees the unperturbed prompt: its keys and values are kept, and every shared prefix of the
    // perturbed prompts that follow is a slice of them (see prefixKeysValues).
    const { logits, vocab, rowOf } = await this.run([prompt, ...extra], true);
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
    if (extra.length) {
      // Counted as passes when the method they were run for takes them.
      this.forwardCount -= extra.length;
      this.precomputed = extra.map((item, b) => ({
        item,
        rows: new Map(item.queries.map((q) => [q.position, logits.slice(rowOf(b + 1, q.position), rowOf(b + 1, q.position) + vocab)])),
      }));
    }
    return best;
  }

  /**
   * Items run alongside the prompt in its pass: only on the forward session of a causal LM that keeps the prompt's keys
   * and values, no longer than the prompt (its row is then unpadded and its keys and values are the first of the
   * batch's), and within the memory budget with the prompt (the presents of the whole run are fetched).
   */
  private runsAlongside(inputIds: number[], items: readonly ForwardItem[]): boolean {
    if (this.info.kind !== 'causal-lm' || !this.forward || !this.prefixReuse || this.prefixCache.maxBytes <= 0) return false;
    if (items.some((it) => it.inputIds.length > inputIds.length || it.queries.some((q) => q.position < 0 || q.position >= it.inputIds.length))) return false;
    return this.info.batchTokens === undefined || (items.length + 1) * inputIds.length <= this.info.batchTokens;
  }

  takePrecomputed(items: readonly ForwardItem[]): ScoreValue[][] {
    const kept = this.precomputed;
    this.precomputed = undefined;
    if (!kept) return [];
    const out: ScoreValue[][] = [];
    for (const [b, item] of items.entries()) {
      const k = kept[b];
      if (!k || !sameSequence(k.item, item) || !item.queries.every((q) => k.rows.has(q.position))) break;
      out.push(item.queries.map((q) => {
        const row = k.rows.get(q.position)!;
        const logit = row[q.tokenId];
        return { logit, logProb: logit - logSumExp(row, 0, row.length) };
      }));
    }
    this.forwardCount += kept.length;
    return out;
  }
  /** Logits rows of the items the last topTokens ran alongside the prompt, by query position. */
  private precomputed?: { item: ForwardItem; rows: Map<number, Float32Array> }[];

  /**
   * One onnxruntime run over right-padded sequences. When every item starts with the same unmasked prefix
   * (occlusion of later tokens), the prefix's keys and values are computed once and fed as past, and only
   * the suffixes run: rows of the returned logits are then relative to the prefix end (see `offset`).
   */
  private async run(items: ForwardItem[], keepPrompt = false): Promise<{ logits: Float32Array; vocab: number; rowOf: (item: number, position: number) => number }> {
    const batch = items.length;
    for (const it of items) for (const id of it.inputIds) if (id >= this.info.vocabSize) throw outOfVocabulary(id, this.info);
    if (!this.forward && this.batchRowSource && !this.forwardMethods && (batch > 1 || !this.batchRowSource.gradientSessionOpen || !this.rowSource)) {
      const answer = await this.batchRowSource.answer(items, this.padId, this.info.contextLength);
      this.forwardCount += batch;
      return answer;
    }
    if (!this.forward && this.rowSource && batch === 1 && !this.forwardMethods) {
      // One sequence before any batch has opened the forward session: the gradient graph answers it.
      const positions = [...new Set(items[0].queries.map((q) => q.position))].sort((a, b) => a - b);
      const { logits, vocab } = await this.rowSource.logitRows(items[0], positions);
      this.forwardCount += 1;
      return { logits, vocab, rowOf: (_b, position) => positions.indexOf(position) * vocab };
    }
    const f = await this.session();
    // A prompt run with items alongside (keepPrompt) starts at position 0: its keys and values are kept whole.
    const prefix = this.prefixReuse && !keepPrompt ? this.reusablePrefix(f, items) : 0;
    const past = prefix > 0 ? await this.prefixKeysValues(f, items[0].inputIds.slice(0, prefix)) : undefined;
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
          ids[o] = BigInt(f.padId);
          pos[o] = BigInt(Math.min(src, this.info.contextLength - 1));
        }
      }
    });
    const dims = [batch, width];
    const feeds: Record<string, ort.Tensor> = { input_ids: new ort.Tensor('int64', ids, dims) };
    if (f.inputNames.has('attention_mask')) feeds.attention_mask = new ort.Tensor('int64', maskData, [batch, maskWidth]);
    if (f.inputNames.has('position_ids')) feeds.position_ids = new ort.Tensor('int64', pos, dims);
    if (f.inputNames.has('token_type_ids')) feeds.token_type_ids = new ort.Tensor('int64', new BigInt64Array(batch * width), dims);
    const keep = keepPrompt && prefix === 0 && this.prefixReuse && reusesPrefixes(this.info, f) && this.prefixCache.maxBytes > 0;
    if (f.inputNames.has(WANT_PRESENTS_INPUT)) feeds[WANT_PRESENTS_INPUT] = new ort.Tensor('bool', [keep], []);
    for (const p of f.cache.pastInputs) {
      const one = past?.values.get(p.name);
      feeds[p.name] = one
        ? new ort.Tensor(p.type as 'float32', this.tiled(p.name, one, p.heads, past!.length, prefix, p.headDim, batch, maskWidth), [batch, p.heads, prefix, p.headDim])
        : emptyFloatTensor(p.type, pastDims(p, batch, 0));
    }
    let rows: number[][] | undefined;
    if (f.rowSelect) {
      rows = items.map((it) => [...new Set(it.queries.map((q) => q.position - prefix))].sort((a, b) => a - b));
      const R = Math.max(1, ...rows.map((r) => r.length));
      const data = new BigInt64Array(batch * R);
      rows.forEach((r, b) => {
        for (let j = 0; j < R; j++) data[b * R + j] = BigInt(r[Math.min(j, r.length - 1)] ?? 0);
      });
      feeds[LOGIT_ROWS_INPUT] = new ort.Tensor('int64', data, [batch, R]);
    }
    const outName = f.rowSelect ? ROW_LOGITS_OUTPUT : 'logits';
    const presents = keep ? f.cache.pastInputs.map((p) => p.present) : [];
    let out: ort.InferenceSession.OnnxValueMapType;
    try {
      out = await f.session.run(conformIntFeeds(f.session, feeds), [outName, ...presents], prefix > 0 ? QUIET_RUN : {});
    } catch (err) {
      if (prefix === 0) throw err;
      this.prefixReuse = false;
      return this.run(items);
    }
    if (keep) {
      // The prompt is the first and longest item: its keys and values are the first [heads, length, headDim] of each
      // present (a session with optional presents returns only those).
      const one = (p: PastInput) => p.heads * items[0].inputIds.length * p.headDim;
      const own = (a: Float32Array | Uint16Array, n: number) => (a.length === n ? a : a.slice(0, n));
      this.prefixCache.set(items[0].inputIds, new Map(f.cache.pastInputs.map((p) => [p.name, own(out[p.present].data as Float32Array | Uint16Array, one(p))])));
    }
    this.forwardCount += batch;
    const t = out[outName];
    const vocab = t.dims[t.dims.length - 1];
    const logits = floatData(t);
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
  private reusablePrefix(f: ForwardSession, items: ForwardItem[]): number {
    if (!reusesPrefixes(this.info, f) || items.length < 2) return 0;
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

  /**
   * Keys and values whose first positions are a prefix's, [1, heads, length, headDim] per past input (length ≥ the
   * prefix's). A causal model's keys and values at a position depend only on the tokens up to it, so a prefix of a
   * sequence already run (the unperturbed prompt, kept by topTokens) is a slice of that sequence's, and needs no pass
   * of its own; the slice is read straight into the batch's past (tiled), not kept as a copy of its own.
   */
  private async prefixKeysValues(f: ForwardSession, prefixIds: number[]): Promise<{ values: Map<string, Float32Array | Uint16Array>; length: number }> {
    const cached = this.prefixCache.get(prefixIds);
    if (cached) return { values: cached, length: prefixIds.length };
    const longer = this.prefixCache.extending(prefixIds);
    if (longer) return longer;
    const n = prefixIds.length;
    const one = (v: (t: number) => number) => new ort.Tensor('int64', BigInt64Array.from({ length: n }, (_, t) => BigInt(v(t))), [1, n]);
    const feeds: Record<string, ort.Tensor> = { input_ids: one((t) => prefixIds[t]) };
    if (f.inputNames.has('attention_mask')) feeds.attention_mask = one(() => 1);
    if (f.inputNames.has('position_ids')) feeds.position_ids = one((t) => t);
    for (const p of f.cache.pastInputs) feeds[p.name] = emptyFloatTensor(p.type, pastDims(p, 1, 0));
    if (f.rowSelect) feeds[LOGIT_ROWS_INPUT] = new ort.Tensor('int64', BigInt64Array.from([BigInt(n - 1)]), [1, 1]);
    if (f.inputNames.has(WANT_PRESENTS_INPUT)) feeds[WANT_PRESENTS_INPUT] = new ort.Tensor('bool', [true], []);
    const names = f.cache.pastInputs.map((p) => p.present);
    const out = await f.session.run(conformIntFeeds(f.session, feeds), names);
    this.forwardCount += 1;
    // Kept in the session's own element type (fp16 bits stay bits): they are fed straight back.
    const values = new Map(f.cache.pastInputs.map((p) => [p.name, out[p.present].data as Float32Array | Uint16Array]));
    this.prefixCache.set(prefixIds, values);
    return { values, length: n };
  }

  /**
   * The first `prefix` positions of `src` ([1, heads, length, headDim]) repeated for each batch item, in a buffer
   * reused across runs (one per past input; onnxruntime reads feeds only during the run): a batch's past is written
   * once, and no per-run copies wait for the garbage collector (Llama-135M shape, 128 tokens: up to 130 MB). The buffer
   * is sized for a prefix as long as the batch's longest item (`room` positions), so that the growing prefixes of an
   * occlusion's later batches fit it too, and at least doubles when a batch of more items needs more: sized to each
   * prefix, every run replaced all of them, and the garbage collector let tens of MB of the old ones wait (GPT-2 shape,
   * 128 tokens: 15 MB of the whole call's peak).
   */
  private tiled<T extends Float32Array | Uint16Array>(name: string, src: T, heads: number, length: number, prefix: number, headDim: number, batch: number, room: number): T {
    const n = batch * heads * prefix * headDim;
    let buf = this.pastScratch.get(name) as T | undefined;
    if (!buf || buf.length < n || buf.constructor !== src.constructor) {
      const grown = buf && buf.constructor === src.constructor ? 2 * buf.length : 0;
      buf = new (src.constructor as new (n: number) => T)(Math.max(n, batch * heads * room * headDim, grown));
      this.pastScratch.set(name, buf);
    }
    const out = buf.subarray(0, n) as T;
    const run = prefix * headDim;
    for (let h = 0; h < heads; h++) out.set(src.subarray(h * length * headDim, h * length * headDim + run), h * run);
    const one = heads * run;
    for (let b = 1; b < batch; b++) out.copyWithin(b * one, 0, one);
    return out;
  }
  private readonly pastScratch = new Map<string, Float32Array | Uint16Array>();

  /** Shared-prefix keys and values, kept across runs (a re-run after an edit at the end finds its prefixes). */
  readonly prefixCache = new PrefixKvCache();
}

/** The forward session and what runs on it need to know about its inputs. */
interface ForwardSession {
  session: ort.InferenceSession;
  cache: DecoderCacheShape;
  padId: number;
  /** The session computes logits only at requested rows (see src/onnx/logitRows.ts). */
  rowSelect: boolean;
  inputNames: Set<string>;
}

/** Full logits rows of one sequence at some positions, [positions, vocab] row-major (the gradient backend). */
export interface RowSource {
  logitRows(item: { inputIds: number[]; attentionMask?: number[]; positionIds?: number[] }, positions: number[], signal?: AbortSignal): Promise<{ logits: Float32Array; vocab: number }>;
}

export interface RunnerOptions {
  /** Open the forward session only when forward passes first need it (loads for gradient methods). */
  deferSession?: boolean;
  /** The model's skeleton when the caller already read it. */
  skeleton?: ModelSkeleton;
  /** Where the logit-row check's verdict is remembered (omitted: checked on every load). */
  cacheDir?: string;
}

/** Bump when the logit-row rewrite changes, so cached verdicts are redone. */
const LOGIT_ROWS_FORMAT = 1;

function loadError(onnxPath: string, err: unknown): EngineError {
  return new EngineError('model-load', `The ONNX file ${onnxPath} could not be loaded (${firstLine(err)}). It may be corrupt or truncated: export or download it again.`);
}

/**
 * A session on the logit-row variant of the model, or undefined when the head cannot be rewritten or the variant
 * disagrees with the original graph on a probe (the original graph is used then). The check runs once per model
 * file and its verdict is cached beside the gradient graphs. It compares the rewritten head with the original
 * tail on the same hidden states, in a session of the head alone (src/onnx/logitRows.ts: nothing before the head
 * is rewritten); only when that cannot be cut out (unknown hidden rank, contrib-op exports) does it run the whole
 * original graph, released before the variant opens, so that one model's weights are in memory at a time.
 */
async function rowSelectingSession(onnxPath: string, skeleton: ModelSkeleton, pastOf: (s: ort.InferenceSession) => PastInput[], cacheDir: string | undefined): Promise<ort.InferenceSession | undefined> {
  // PROMPTSCOPE_PACKED_HEAD=1 keeps a tied head's packed transposed copy (for side-by-side measurements).
  const variant = (optionalPresents: boolean): Uint8Array | undefined => {
    try {
      const proto = selectLogitRows(skeleton.model, 'logits', { unpackedHeadFromBytes: process.env.PROMPTSCOPE_PACKED_HEAD === '1' ? Infinity : UNPACKED_HEAD_FROM_BYTES, optionalPresents });
      return proto && encodeModel(proto);
    } catch {
      return undefined;
    }
  };
  // Present keys and values returned only when asked (optionalPresents.ts); PROMPTSCOPE_OPTIONAL_PRESENTS=0 keeps them
  // plain outputs, and so does a graph onnxruntime refuses in that form.
  let bytes = variant(process.env.PROMPTSCOPE_OPTIONAL_PRESENTS !== '0');
  if (!bytes) return undefined;
  const verdictFile = cacheDir ? path.join(cacheDir, 'logit-rows', `${skeleton.key.slice(0, 32)}-v${LOGIT_ROWS_FORMAT}.json`) : undefined;
  let verdict: boolean | undefined;
  try {
    if (verdictFile) verdict = (JSON.parse(fs.readFileSync(verdictFile, 'utf8')) as { ok: boolean }).ok;
  } catch {
    /* not checked yet */
  }
  if (verdict === false) return undefined;
  const head = verdict === undefined ? await headCheck(skeleton) : undefined;
  // The whole graph's reference logits come first, from a session released before the variant loads.
  const rowsAsked = [4, 1];
  let reference: Float32Array | undefined;
  let vocab = 0;
  if (verdict === undefined && head === undefined) {
    const original = await createSession(encodeModel(skeleton.model), sessionOptions({ weightsDir: skeleton.dir }));
    try {
      const full = (await original.run(probeFeeds(original, pastOf(original), {}), ['logits'])).logits;
      vocab = full.dims[2];
      reference = floatData(full);
    } finally {
      await original.release();
    }
  }
  if (head === false) {
    saveVerdict(verdictFile, false, onnxPath);
    return undefined;
  }
  let rows: ort.InferenceSession;
  try {
    // Errors only: an unpacked tied head (tiedHeadGemm.ts) declares its table a graph input on purpose, which
    // onnxruntime reports as a warning on every load.
    const open = (b: Uint8Array) => createSession(b, { ...sessionOptions({ weightsDir: skeleton.dir }), logSeverityLevel: 3 });
    rows = await open(bytes).catch(async (err) => {
      const plain = process.env.PROMPTSCOPE_OPTIONAL_PRESENTS !== '0' ? variant(false) : undefined;
      if (!plain) throw err;
      bytes = plain;
      return open(plain);
    });
  } catch {
    return undefined;
  }
  if (head === true) saveVerdict(verdictFile, true, onnxPath);
  if (!reference) return rows;
  let ok = false;
  try {
    const extra = { [LOGIT_ROWS_INPUT]: new ort.Tensor('int64', BigInt64Array.from(rowsAsked.map(BigInt)), [1, rowsAsked.length]) };
    const b = floatData((await rows.run(probeFeeds(rows, pastOf(rows), extra), [ROW_LOGITS_OUTPUT]))[ROW_LOGITS_OUTPUT]);
    ok = rowsAgree(reference, b, rowsAsked, vocab);
  } catch {
    ok = false;
  }
  saveVerdict(verdictFile, ok, onnxPath);
  if (ok) return rows;
  await rows.release();
  return undefined;
}

/** Rows `rowsAsked` of full logits [1, seq, vocab] against the picked rows [1, rows, vocab]. */
function rowsAgree(full: Float32Array, picked: Float32Array, rowsAsked: number[], vocab: number): boolean {
  if (picked.length !== rowsAsked.length * vocab) return false;
  for (const [j, pos] of rowsAsked.entries()) {
    for (let v = 0; v < vocab; v++) if (!(Math.abs(full[pos * vocab + v] - picked[j * vocab + v]) <= 1e-3 * (1 + Math.abs(full[pos * vocab + v])))) return false;
  }
  return true;
}

/**
 * The rewritten head against the original tail, both fed the same pseudo-random hidden states, in one session of
 * the head alone (its weights only); undefined when the head cannot be cut out and the whole graph must be checked.
 */
async function headCheck(skeleton: ModelSkeleton): Promise<boolean | undefined> {
  let check: ReturnType<typeof logitRowsHeadCheck>;
  try {
    check = logitRowsHeadCheck(skeleton.model);
  } catch {
    return undefined;
  }
  if (!check) return undefined;
  let session: ort.InferenceSession;
  try {
    // Unoptimised: folding the head's constants (a tied head's transposed embeddings) would cost more than the one run.
    session = await createSession(encodeModel(check.model), { ...sessionOptions({ weightsDir: skeleton.dir }), graphOptimizationLevel: 'disabled' });
  } catch {
    return undefined;
  }
  try {
    const seq = 5, rowsAsked = [4, 1];
    // A fixed-seed sequence in [-2, 2): every row and column of the head is exercised with distinct values.
    let x = 12345;
    const hidden = Float32Array.from({ length: seq * check.width }, () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648) * 4 - 2);
    const feeds: Record<string, ort.Tensor> = {
      [check.hidden]: new ort.Tensor('float32', hidden, [1, seq, check.width]),
      [LOGIT_ROWS_INPUT]: new ort.Tensor('int64', BigInt64Array.from(rowsAsked.map(BigInt)), [1, rowsAsked.length]),
    };
    const ids = BigInt64Array.from([1n, 2n, 3n, 4n, 5n]);
    for (const name of check.inputs) {
      if (name === LOGIT_ROWS_INPUT) continue;
      feeds[name] = new ort.Tensor('int64', name === 'position_ids' ? BigInt64Array.from([0n, 1n, 2n, 3n, 4n]) : name === 'attention_mask' ? ids.map(() => 1n) : ids, [1, seq]);
    }
    const out = await session.run(conformIntFeeds(session, feeds), ['logits', ROW_LOGITS_OUTPUT]);
    const full = out.logits;
    return rowsAgree(floatData(full), floatData(out[ROW_LOGITS_OUTPUT]), rowsAsked, full.dims[full.dims.length - 1]);
  } catch {
    return undefined;
  } finally {
    await session.release();
  }
}

function saveVerdict(verdictFile: string | undefined, ok: boolean, onnxPath: string): void {
  if (!verdictFile) return;
  try {
    fs.mkdirSync(path.dirname(verdictFile), { recursive: true });
    fs.writeFileSync(verdictFile, JSON.stringify({ ok, file: onnxPath }));
  } catch {
    /* an unwritable cache only means checking again next time */
  }
}

function probeFeeds(session: ort.InferenceSession, pastInputs: PastInput[], extra: Record<string, ort.Tensor>): Record<string, ort.Tensor> {
  const n = 5;
  const ids = [1, 2, 3, 4, 5].map((v) => BigInt(v));
  const f: Record<string, ort.Tensor> = { input_ids: new ort.Tensor('int64', BigInt64Array.from(ids), [1, n]), ...extra };
  if (session.inputNames.includes('attention_mask')) f.attention_mask = new ort.Tensor('int64', BigInt64Array.from(ids.map(() => 1n)), [1, n]);
  if (session.inputNames.includes('position_ids')) f.position_ids = new ort.Tensor('int64', BigInt64Array.from([0n, 1n, 2n, 3n, 4n]), [1, n]);
  for (const p of pastInputs) f[p.name] = emptyFloatTensor(p.type, pastDims(p, 1, 0));
  if (session.inputNames.includes(WANT_PRESENTS_INPUT)) f[WANT_PRESENTS_INPUT] = new ort.Tensor('bool', [false], []);
  return conformIntFeeds(session, f);
}

/** A run that may fail by design (the prefix probe above) does not print onnxruntime's error log. */
const QUIET_RUN: ort.InferenceSession.RunOptions = { logSeverityLevel: 4 };

/** Shorter shared prefixes cost more to set up than they save. */
const MIN_REUSED_PREFIX = 4;

/** Whether runs of this session can be fed a computed prefix as past. */
function reusesPrefixes(info: ModelInfo, f: ForwardSession): boolean {
  // A stacked cache ([2, batch, …]) would need tiling along its second axis; such exports are rare and small.
  return info.kind === 'causal-lm' && f.cache.pastInputs.length > 0 && !f.cache.pastInputs.some((p) => p.stacked);
}


/** Same ids, mask, positions and query positions (token ids aside). */
function sameSequence(a: ForwardItem, b: ForwardItem): boolean {
  const same = (x?: readonly number[], y?: readonly number[]) => x === y || (!!x && !!y && x.length === y.length && x.every((v, i) => v === y[i]));
  return same(a.inputIds, b.inputIds) && same(a.attentionMask, b.attentionMask) && same(a.positionIds, b.positionIds) && same(a.queries.map((q) => q.position), b.queries.map((q) => q.position));
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

/** A tokenizer that does not belong to the model yields ids past its embedding table. */
function outOfVocabulary(id: number, info: ModelInfo): EngineError {
  return new EngineError(
    'unsupported-model',
    `The prompt has token id ${id}, but the model's vocabulary has only ${info.vocabSize} entries: the tokenizer in ${info.id} does not match its ONNX model. Use the tokenizer.json exported with the model.`,
  );
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0];
}
