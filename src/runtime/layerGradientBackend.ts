/**
 * LayerGradientBackend on onnxruntime-node: the layer-cut gradient graph (src/onnx/layerGradientModel.ts), built from
 * the model's weight-free skeleton on first use and cached (onnxruntime reads the weights from the model file),
 * one session per class score. Every run returns the gradient at every depth; only the streams asked for are
 * fetched.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { LayerGradientBackend, LayerGradientItem, LayerGradientValue } from '../core/layerGradients';
import { throwIfAborted, type ModelKind } from '../core/modelRunner';
import { buildLayerGradientModel, LAYER_GRADIENT_MODEL_FORMAT, layerDeltaInput, layerFetches, layerOutputOf, type LayerGradientModel } from '../onnx/layerGradientModel';
import { readModelSkeleton } from '../onnx/modelSkeleton';
import { DataType } from '../onnx/tensorData';
import { createSession } from './executionProviders';
import { sessionOptions } from './sessionOptions';
import { LARGE_GRAPH, modelFileBytes, sizedGradientSessionOptions } from './graphSessionOptions';

type ClassScore = 'logit' | 'log-prob';

/** What the session needs of the model (the embedding matrix comes from the embeddings gradient backend). */
type LayerGraph = Omit<LayerGradientModel, 'embedding'>;

interface Built { session: ort.InferenceSession; model: LayerGraph }

export interface LayerGradientBackendOptions {
  kind: ModelKind;
  /** Blocks of the model (its config). */
  layers: number;
  intraOpNumThreads?: number;
  /** Folder for cached layer graphs (a few megabytes each, no weights); omitted = built in memory every time. */
  cacheDir?: string;
  /** Size from which the graph gets a large graph's session (graphSessionOptions.ts; default LARGE_GRAPH). */
  largeGraph?: { nodes: number; weightBytes: number };
}

export class OnnxLayerGradientBackend implements LayerGradientBackend {
  private count = 0;
  private readonly sessions = new Map<ClassScore, Promise<Built>>();

  constructor(private readonly onnxPath: string, private readonly opts: LayerGradientBackendOptions) {}

  get layers(): number { return this.opts.layers; }
  get backwardCount(): number { return this.count; }

  /** Builds the graph now (the engine calls this so that an unrecognised architecture fails before any work). */
  prepare(classScore: ClassScore = this.opts.kind === 'causal-lm' ? 'log-prob' : 'logit'): Promise<void> {
    return this.session(classScore).then(() => undefined);
  }

  private session(cs: ClassScore): Promise<Built> {
    if (this.opts.kind === 'causal-lm') cs = 'log-prob';
    let s = this.sessions.get(cs);
    if (!s) {
      s = (async () => {
        const model = this.cachedOrBuilt(cs);
        const options = sessionOptions({ weightsDir: path.dirname(this.onnxPath) });
        if (this.opts.intraOpNumThreads) options.intraOpNumThreads = this.opts.intraOpNumThreads;
        return { session: await createSession(model.bytes, sizedGradientSessionOptions(options, { nodes: model.nodes, weightBytes: modelFileBytes(this.onnxPath) }, this.opts.largeGraph)), model };
      })();
      s.catch(() => this.sessions.delete(cs));
      this.sessions.set(cs, s);
    }
    return s;
  }

  /**
   * The graph from the cache folder when one is set (<key>.onnx + <key>.json, written data first, metadata last),
   * else built from the skeleton. key = the skeleton's key (graph hash + weight files' size and mtime) + target
   * kind + class score + block count + small-graph variant + LAYER_GRADIENT_MODEL_FORMAT, so a changed model never reuses a stale graph.
   */
  private cachedOrBuilt(cs: ClassScore): LayerGraph {
    const skeleton = readModelSkeleton(this.onnxPath);
    // Small weights: small graphs multiply by transposed weights in the backward pass (layerGradientModel.ts).
    const large = this.opts.largeGraph ?? LARGE_GRAPH;
    const small = modelFileBytes(this.onnxPath) < large.weightBytes ? { smallGraphNodes: large.nodes } : {};
    const build = (): LayerGraph => buildLayerGradientModel(skeleton.model, { kind: this.opts.kind, classScore: cs, layers: this.opts.layers, ...small });
    if (!this.opts.cacheDir) return build();
    const variant = small.smallGraphNodes !== undefined ? `-s${small.smallGraphNodes}` : '';
    const base = path.join(this.opts.cacheDir, `${skeleton.key.slice(0, 32)}-${this.opts.kind}-${cs}-l${this.opts.layers}${variant}-v${LAYER_GRADIENT_MODEL_FORMAT}`);
    try {
      const meta = JSON.parse(fs.readFileSync(`${base}.json`, 'utf8')) as Omit<LayerGraph, 'bytes'> & { format: number };
      if (meta.format === LAYER_GRADIENT_MODEL_FORMAT) return { layers: meta.layers, nodes: meta.nodes, hiddenSize: meta.hiddenSize, vocabSize: meta.vocabSize, concatenated: meta.concatenated === true, inputs: meta.inputs, bytes: fs.readFileSync(`${base}.onnx`) };
    } catch {
      /* cache miss or corrupt entry: build below */
    }
    const model = build();
    fs.mkdirSync(this.opts.cacheDir, { recursive: true });
    const write = (file: string, data: Uint8Array | string): void => {
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, data);
      fs.renameSync(tmp, file);
    };
    write(`${base}.onnx`, model.bytes);
    write(`${base}.json`, JSON.stringify({ format: LAYER_GRADIENT_MODEL_FORMAT, layers: model.layers, nodes: model.nodes, hiddenSize: model.hiddenSize, vocabSize: model.vocabSize, concatenated: model.concatenated, inputs: model.inputs }));
    return model;
  }

  async scoreAndLayerGradients(items: LayerGradientItem[], streams: number[], signal?: AbortSignal): Promise<LayerGradientValue[]> {
    throwIfAborted(signal);
    if (items.length === 0) return [];
    for (const s of streams) if (!Number.isInteger(s) || s < 0 || s > this.layers) throw new RangeError(`Stream ${s} is outside 0–${this.layers}.`);
    const groups = new Map<ClassScore, number[]>();
    items.forEach((it, i) => {
      const cs = it.target.classScore ?? (this.opts.kind === 'causal-lm' ? 'log-prob' : 'logit');
      (groups.get(cs) ?? groups.set(cs, []).get(cs)!).push(i);
    });
    const out: LayerGradientValue[] = new Array(items.length);
    for (const [cs, idx] of groups) {
      const built = await this.session(cs);
      throwIfAborted(signal);
      const group = idx.map((i) => items[i]);
      const seq = group[0].inputIds.length, h = built.model.hiddenSize;
      const fetches = layerFetches(built.model.concatenated, streams);
      const res = await built.session.run(this.feeds(built.model, group, seq), fetches);
      const score = res.score.data as Float32Array;
      const size = seq * h;
      // One item keeps views of the outputs' own arrays (copied out of onnxruntime already); a batch is cut into
      // copies so that no item holds the whole batch's memory.
      const output = (name: string): Float32Array => res[name].data as Float32Array;
      const part = (s: number, which: 'grad' | 'activation', b: number): Float32Array => {
        const v = layerOutputOf(built.model.concatenated, output, s, which, b, group.length, size);
        return group.length === 1 ? v : v.slice();
      };
      idx.forEach((i, b) => {
        out[i] = { score: score[b], grads: streams.map((s) => part(s, 'grad', b)), activations: streams.map((s) => part(s, 'activation', b)) };
      });
      for (const t of Object.values(res)) t.dispose?.();
    }
    this.count += items.length;
    return out;
  }

  private feeds(m: LayerGraph, items: LayerGradientItem[], seq: number): Record<string, ort.Tensor> {
    const B = items.length, h = m.hiddenSize, size = seq * h;
    const T = Math.max(1, ...items.map((it) => it.target.tokenIds.length));
    for (const it of items) {
      if (it.inputIds.length !== seq) throw new Error('All items in one gradient call must share a sequence length.');
      if (it.inputsEmbeds.length !== size) throw new Error(`inputsEmbeds has ${it.inputsEmbeds.length} values; expected ${seq}×${h}.`);
      if (it.delta && (it.delta.values.length !== size || !(it.delta.stream >= 0 && it.delta.stream <= m.layers))) throw new Error(`A layer delta must be ${seq}×${h} values at a stream 0–${m.layers}.`);
      const t = it.target;
      if (t.tokenIds.length !== t.positions.length || t.tokenIds.length !== t.weights.length) throw new Error('Gradient target arrays differ in length.');
    }
    const ints = (elemType: number, get: (it: LayerGradientItem, i: number) => number): ort.Tensor => {
      if (elemType === DataType.INT32) {
        const a = new Int32Array(B * seq);
        items.forEach((it, b) => { for (let i = 0; i < seq; i++) a[b * seq + i] = get(it, i); });
        return new ort.Tensor('int32', a, [B, seq]);
      }
      const a = new BigInt64Array(B * seq);
      items.forEach((it, b) => { for (let i = 0; i < seq; i++) a[b * seq + i] = BigInt(get(it, i)); });
      return new ort.Tensor('int64', a, [B, seq]);
    };
    const targets = (get: (it: LayerGradientItem) => number[], make: 'int64' | 'float32'): ort.Tensor => {
      // Padded to the longest target list with weight 0.
      const a = make === 'int64' ? new BigInt64Array(B * T) : new Float32Array(B * T);
      items.forEach((it, b) => get(it).forEach((v, t) => (a[b * T + t] = (make === 'int64' ? BigInt(v) : v) as never)));
      return new ort.Tensor(make, a, [B, T]);
    };
    const feeds: Record<string, ort.Tensor> = {};
    const zeros = new Float32Array(B * size);
    for (const inp of m.inputs) {
      if (inp.name.startsWith('layer_delta.')) continue;
      switch (inp.name) {
        case 'inputs_embeds': {
          const e = new Float32Array(B * size);
          items.forEach((it, b) => e.set(it.inputsEmbeds, b * size));
          feeds[inp.name] = new ort.Tensor('float32', e, [B, seq, h]);
          break;
        }
        case 'target_ids': feeds[inp.name] = targets((it) => it.target.tokenIds, 'int64'); break;
        case 'target_positions':
          for (const it of items) for (const p of it.target.positions) if (this.opts.kind === 'causal-lm' && (p < 0 || p >= seq)) throw new Error(`Target position ${p} is outside the sequence (length ${seq}).`);
          feeds[inp.name] = targets((it) => it.target.positions, 'int64');
          break;
        case 'target_weights': feeds[inp.name] = targets((it) => it.target.weights, 'float32'); break;
        case 'attention_mask': feeds[inp.name] = ints(inp.elemType, (it, i) => it.attentionMask?.[i] ?? 1); break;
        case 'position_ids': feeds[inp.name] = ints(inp.elemType, (it, i) => it.positionIds?.[i] ?? i); break;
        case 'token_type_ids': feeds[inp.name] = ints(inp.elemType, () => 0); break;
        case 'input_ids': feeds[inp.name] = ints(inp.elemType, (it, i) => it.inputIds[i]); break;
        default: throw new Error(`The layer gradient graph needs an input Promptscope cannot provide: ${inp.name}.`);
      }
    }
    for (let s = 0; s <= m.layers; s++) {
      const moved = items.some((it) => it.delta?.stream === s);
      let data = zeros;
      if (moved) {
        data = new Float32Array(B * size);
        items.forEach((it, b) => { if (it.delta?.stream === s) data.set(it.delta.values, b * size); });
      }
      feeds[layerDeltaInput(s)] = new ort.Tensor('float32', data, [B, seq, h]);
    }
    return feeds;
  }
}

export function createLayerGradientBackend(onnxPath: string, opts: LayerGradientBackendOptions): OnnxLayerGradientBackend {
  return new OnnxLayerGradientBackend(onnxPath, opts);
}
