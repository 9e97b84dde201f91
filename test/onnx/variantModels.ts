/**
 * Test fixtures: the hub's variants of one fp32 decoder, built the way the exporters lay them out —
 * model_q4 (MatMulNBits, 4-bit blocks along K), model_q4f16 (the same weights with fp16 scales, run on fp16
 * activations), model_bnb4 (MatMulBnb4, NF4), model_int8 (int8 weights + DequantizeLinear), model_fp16 — and
 * a writer that moves initializers into external data files (.onnx_data, .onnx_data_1 …).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Graph, I, Node } from '../../src/onnx/graph';
import { ModelProto, encodeModel } from '../../src/onnx/onnxProto';
import { DataType, dimsOf, makeTensor, tensorToFloat32 } from '../../src/onnx/tensorData';
import { floatToHalf } from '../../src/runtime/tensorDecoding';
import { toHalfPrecision } from './halfModel';
import { quantizeMatMulWeightsInt8 } from './quantizeModel';

/** 2-D fp32 MatMul weights [K, N] worth quantising (the LM head and every projection). */
function matMulWeights(g: Graph): { node: Node; name: string; K: number; N: number; w: Float32Array }[] {
  const out: { node: Node; name: string; K: number; N: number; w: Float32Array }[] = [];
  for (const n of g.nodes) {
    const t = n.opType === 'MatMul' ? g.initializers.get(n.inputs[1]) : undefined;
    if (!t || t.data_type !== DataType.FLOAT || dimsOf(t).length !== 2) continue;
    const [K, N] = dimsOf(t);
    if (K % 2) continue;
    out.push({ node: n, name: n.inputs[1], K, N, w: tensorToFloat32(t) });
  }
  return out;
}

/** Symmetric 4-bit blocks of Wᵀ along K (zero point 8), two codes per byte, low nibble first. */
function packQ4(w: Float32Array, K: number, N: number, block: number) {
  const kb = Math.ceil(K / block), blob = block / 2;
  const packed = new Uint8Array(N * kb * blob), scales = new Float32Array(N * kb);
  for (let n = 0; n < N; n++) for (let b = 0; b < kb; b++) {
    let m = 0;
    for (let k = b * block; k < Math.min(K, (b + 1) * block); k++) m = Math.max(m, Math.abs(w[k * N + n]));
    const s = m > 0 ? m / 7 : 1;
    scales[n * kb + b] = s;
    for (let j = 0; j < block; j++) {
      const k = b * block + j;
      const v = k < K ? Math.min(15, Math.max(0, Math.round(w[k * N + n] / s) + 8)) : 8;
      packed[(n * kb + b) * blob + (j >> 1)] |= v << ((j & 1) * 4);
    }
  }
  return { kb, blob, packed, scales };
}

export function quantizeQ4(model: ModelProto, opts: { halfActivations?: boolean; block?: number } = {}): ModelProto {
  const g = Graph.fromModelProto(model);
  const block = opts.block ?? 32;
  g.opsets.set('com.microsoft', 1);
  const replaced = new Map<Node, Node[]>();
  for (const { node, name, K, N, w } of matMulWeights(g)) {
    const q = packQ4(w, K, N, block);
    const scaleType = opts.halfActivations ? DataType.FLOAT16 : DataType.FLOAT;
    const scales = opts.halfActivations ? Uint16Array.from(q.scales, floatToHalf) : q.scales;
    g.initializers.set(`${name}_q4`, makeTensor(`${name}_q4`, DataType.UINT8, [N, q.kb, q.blob], q.packed));
    g.initializers.set(`${name}_q4_scales`, makeTensor(`${name}_q4_scales`, scaleType, [N * q.kb], scales));
    const attrs = { K: I(K), N: I(N), bits: I(4), block_size: I(block) };
    const a = node.inputs[0], y = node.outputs[0];
    if (!opts.halfActivations) {
      replaced.set(node, [{ opType: 'MatMulNBits', domain: 'com.microsoft', inputs: [a, `${name}_q4`, `${name}_q4_scales`], outputs: [y], attrs, name: `${node.name}_q4` }]);
    } else {
      replaced.set(node, [
        { opType: 'Cast', domain: '', inputs: [a], outputs: [`${y}_a16`], attrs: { to: I(DataType.FLOAT16) }, name: `${node.name}_a16` },
        { opType: 'MatMulNBits', domain: 'com.microsoft', inputs: [`${y}_a16`, `${name}_q4`, `${name}_q4_scales`], outputs: [`${y}_y16`], attrs, name: `${node.name}_q4` },
        { opType: 'Cast', domain: '', inputs: [`${y}_y16`], outputs: [y], attrs: { to: I(DataType.FLOAT) }, name: `${node.name}_y32` },
      ]);
    }
  }
  g.nodes = g.nodes.flatMap((n) => replaced.get(n) ?? [n]);
  g.topoSortAndPrune();
  g.valueInfo.clear();
  return g.toModelProto();
}

const NF4 = [
  -1, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0,
  0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1,
];

export function quantizeBnb4(model: ModelProto, block = 64): ModelProto {
  const g = Graph.fromModelProto(model);
  g.opsets.set('com.microsoft', 1);
  const replaced = new Map<Node, Node>();
  for (const { node, name, K, N, w } of matMulWeights(g)) {
    const numel = K * N, blocks = Math.ceil(numel / block);
    const wt = (i: number) => w[(i % K) * N + Math.floor(i / K)];
    const absmax = new Float32Array(blocks);
    for (let i = 0; i < numel; i++) absmax[Math.floor(i / block)] = Math.max(absmax[Math.floor(i / block)], Math.abs(wt(i)));
    const packed = new Uint8Array(Math.ceil(numel / 2));
    for (let i = 0; i < numel; i++) {
      const a = absmax[Math.floor(i / block)] || 1;
      let code = 0;
      for (let c = 1; c < 16; c++) if (Math.abs(NF4[c] - wt(i) / a) < Math.abs(NF4[code] - wt(i) / a)) code = c;
      packed[i >> 1] |= i & 1 ? code : code << 4;
    }
    g.initializers.set(`${name}_bnb4`, makeTensor(`${name}_bnb4`, DataType.UINT8, [packed.length], packed));
    g.initializers.set(`${name}_absmax`, makeTensor(`${name}_absmax`, DataType.FLOAT, [blocks], absmax));
    replaced.set(node, {
      opType: 'MatMulBnb4', domain: 'com.microsoft', inputs: [node.inputs[0], `${name}_bnb4`, `${name}_absmax`], outputs: node.outputs,
      attrs: { K: I(K), N: I(N), block_size: I(block), quant_type: I(1) }, name: `${node.name}_bnb4`,
    });
  }
  g.nodes = g.nodes.map((n) => replaced.get(n) ?? n);
  g.topoSortAndPrune();
  g.valueInfo.clear();
  return g.toModelProto();
}

/**
 * Writes a model with every initializer of at least `minBytes` in external data files named
 * `<file>_data`, `<file>_data_1` … of at most `chunkBytes` each, as large hub exports are split.
 */
export function saveWithExternalData(model: ModelProto, onnxPath: string, opts: { minBytes?: number; chunkBytes?: number } = {}): string[] {
  const minBytes = opts.minBytes ?? 1024, chunk = opts.chunkBytes ?? 4 << 20;
  const base = path.basename(onnxPath);
  const files: { name: string; parts: Uint8Array[]; size: number }[] = [];
  for (const t of model.graph?.initializer ?? []) {
    const raw = t.raw_data;
    if (!raw || raw.length < minBytes) continue;
    let f = files[files.length - 1];
    if (!f || (f.size > 0 && f.size + raw.length > chunk)) {
      f = { name: files.length === 0 ? `${base}_data` : `${base}_data_${files.length}`, parts: [], size: 0 };
      files.push(f);
    }
    t.external_data = [{ key: 'location', value: f.name }, { key: 'offset', value: String(f.size) }, { key: 'length', value: String(raw.length) }];
    t.data_location = 1;
    t.raw_data = undefined;
    f.parts.push(raw);
    f.size += raw.length;
  }
  const dir = path.dirname(onnxPath);
  for (const f of files) fs.writeFileSync(path.join(dir, f.name), Buffer.concat(f.parts));
  fs.writeFileSync(onnxPath, encodeModel(model));
  return files.map((f) => f.name);
}

export type BuiltVariant = 'fp32' | 'fp16' | 'q4' | 'q4f16' | 'int8' | 'bnb4';

/** Every variant above of one fp32 model, as hub file names → models. */
export function buildVariants(fp32: () => ModelProto): Record<BuiltVariant, ModelProto> {
  return {
    fp32: fp32(),
    fp16: toHalfPrecision(fp32()),
    q4: quantizeQ4(fp32()),
    q4f16: toHalfPrecision(quantizeQ4(fp32(), { halfActivations: true })),
    int8: quantizeMatMulWeightsInt8(fp32()),
    bnb4: quantizeBnb4(fp32()),
  };
}
