/**
 * A test-built classifier whose true attributions are known: logits = Σ_tokens E[id] · W + b, so the class-1
 * logit margin is a sum of one contribution per token, and the [MASK] row of E is zero (masking a token
 * removes exactly its contribution). Optionally stores E and W as float16 read through Cast (the compact
 * layout of the bundled seed variants).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Graph, I } from '../../src/onnx/graph';
import { encodeModel } from '../../src/onnx/onnxProto';
import { DataType, makeTensor } from '../../src/onnx/tensorData';
import type { ModelInfo } from '../../src/core/modelRunner';
import type { EncodedToken, PromptTokenizer } from '../../src/core/tokenizer';
import { mulberry32 } from '../../src/core/methods/smoothGrad';

export const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel'];
export const PAD = 0, CLS = 1, SEP = 2, MASK = 3;
export const VOCAB = 4 + WORDS.length;
export const HIDDEN = 4;

export interface AdditiveModel {
  dir: string;
  onnxPath: string;
  E: Float32Array;
  W: Float32Array;
  bias: [number, number];
  info: ModelInfo;
  tokenizer: PromptTokenizer;
  /** Class logits for ids (masked entries excluded), computed in float64. */
  logits(ids: readonly number[], mask?: readonly number[]): [number, number];
}

function toHalfBits(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = ((u >>> 23) & 0xff) - 127 + 15;
  const mant = u & 0x7fffff;
  if (exp <= 0) return sign;
  if (exp >= 31) return sign | 0x7c00;
  return sign | ((exp << 10) + Math.round(mant / 8192));
}

/** perturb: the same model with seeded noise of this scale added to its embeddings (a "seed variant"). */
export function buildAdditiveModel(opts: { seed?: number; fp16?: boolean; perturb?: { seed: number; scale: number } } = {}): AdditiveModel {
  const rand = mulberry32(opts.seed ?? 7);
  const E = new Float32Array(VOCAB * HIDDEN);
  for (let v = 4; v < VOCAB; v++) for (let k = 0; k < HIDDEN; k++) E[v * HIDDEN + k] = rand() * 2 - 1;
  const W = Float32Array.from({ length: HIDDEN * 2 }, () => rand() * 2 - 1);
  if (opts.perturb) {
    const noise = mulberry32(opts.perturb.seed);
    for (let i = 4 * HIDDEN; i < E.length; i++) E[i] += opts.perturb.scale * (noise() * 2 - 1);
  }
  const bias: [number, number] = [0.3, -0.2];
  if (opts.fp16) {
    // Round to what float16 stores, so the float64 reference matches the model's numbers.
    for (const a of [E, W]) for (let i = 0; i < a.length; i++) a[i] = halfToFloat(toHalfBits(a[i]));
  }
  const g = new Graph();
  g.opsets.set('', 17);
  g.inputs.push({ name: 'input_ids', elemType: DataType.INT64, dims: ['batch_size', 'sequence_length'] });
  g.inputs.push({ name: 'attention_mask', elemType: DataType.INT64, dims: ['batch_size', 'sequence_length'] });
  const weight = (name: string, dims: number[], data: Float32Array): string => {
    if (!opts.fp16) {
      g.initializers.set(name, makeTensor(name, DataType.FLOAT, dims, data));
      return name;
    }
    const bits = Uint16Array.from(data, toHalfBits);
    g.initializers.set(`${name}.fp16`, { name: `${name}.fp16`, data_type: DataType.FLOAT16, dims, raw_data: new Uint8Array(bits.buffer) });
    g.add('Cast', [`${name}.fp16`], { to: I(DataType.FLOAT) }, { outputs: [name] });
    return name;
  };
  const emb = g.op('Gather', [weight('embeddings', [VOCAB, HIDDEN], E), 'input_ids']);
  const m = g.op('Unsqueeze', [g.op('Cast', ['attention_mask'], { to: I(DataType.FLOAT) }), g.constI64([-1])]);
  const pooled = g.op('ReduceSum', [g.op('Mul', [emb, m]), g.constI64([1])], { keepdims: I(0) });
  const logits = g.op('Add', [g.op('MatMul', [pooled, weight('classifier', [HIDDEN, 2], W)]), g.constF32(bias)]);
  g.add('Identity', [logits], {}, { outputs: ['logits'] });
  g.outputs = [{ name: 'logits', elemType: DataType.FLOAT, dims: ['batch_size', 2] }];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ps-additive-'));
  const onnxPath = path.join(dir, 'model.onnx');
  fs.writeFileSync(onnxPath, encodeModel(g.toModelProto()));

  const info: ModelInfo = {
    id: dir, kind: 'sequence-classifier', architecture: 'additive', contextLength: 64, vocabSize: VOCAB,
    labels: ['negative', 'positive'], special: { pad: PAD, cls: CLS, sep: SEP, mask: MASK }, supportsGradients: false,
  };
  const tokenizer: PromptTokenizer = {
    vocabSize: VOCAB,
    encodePrompt(text: string): EncodedToken[] {
      const out: EncodedToken[] = [{ id: CLS, start: 0, end: 0, special: true }];
      for (const m of text.matchAll(/\S+/g)) {
        const id = WORDS.indexOf(m[0]);
        if (id < 0) throw new Error(`unknown word ${m[0]}`);
        out.push({ id: id + 4, start: m.index!, end: m.index! + m[0].length, special: false });
      }
      out.push({ id: SEP, start: text.length, end: text.length, special: true });
      return out;
    },
    encodeContinuation: () => [],
    decode: (ids) => ids.map((i) => this_tokenText(i)).join(' '),
    tokenText: (id) => this_tokenText(id),
  };
  function this_tokenText(id: number): string {
    return id >= 4 ? WORDS[id - 4] : ['[PAD]', '[CLS]', '[SEP]', '[MASK]'][id];
  }
  return {
    dir, onnxPath, E, W, bias, info, tokenizer,
    logits(ids, mask) {
      const z: [number, number] = [bias[0], bias[1]];
      ids.forEach((id, t) => {
        if (mask && !mask[t]) return;
        for (let c = 0; c < 2; c++) for (let k = 0; k < HIDDEN; k++) z[c] += E[id * HIDDEN + k] * W[k * 2 + c];
      });
      return z;
    },
  };
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** log p(class) from logits, in float64. */
export function logSoftmax2(z: readonly number[], cls: number): number {
  const m = Math.max(...z);
  return z[cls] - m - Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
}
