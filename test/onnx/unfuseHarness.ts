/**
 * Forward checks for un-fusing: the un-fused graph must reproduce onnxruntime's own fused kernels.
 * Every float output of every rewritten node is exposed as a graph output in both the original and the
 * un-fused model, so each fused op is compared on the real activations it sees inside the model.
 */
import * as ort from 'onnxruntime-node';
import { Graph } from '../../src/onnx/graph';
import { ModelProto, encodeModel } from '../../src/onnx/onnxProto';
import { convertHalfToFloat } from '../../src/onnx/fp16ToFp32';
import { upgradeOpset } from '../../src/onnx/opsetUpgrade';
import { UNFUSABLE_CONTRIB_OPS, unfuseContribOps } from '../../src/onnx/contribUnfuse';
import { DataType, halfToFloat, isFloatType } from '../../src/onnx/tensorData';
import { rng } from './fdHarness';

export interface OutputDiff { op: string; node: string; output: string; maxAbsErr: number; maxAbs: number }

const toF32 = (t: ort.Tensor): Float32Array =>
  t.type === 'float16' ? Float32Array.from(t.data as Uint16Array, halfToFloat) : t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>);

/** Runs the model before and after un-fusing on the same feeds and compares every fused node's float outputs. */
export async function compareUnfused(model: ModelProto, feeds: (g: Graph) => Record<string, ort.Tensor>): Promise<OutputDiff[]> {
  const g0 = Graph.fromModelProto(model);
  const floatType = [...g0.initializers.values()].map((t) => t.data_type ?? 0).find(isFloatType) ?? DataType.FLOAT;
  const fused = g0.nodes.filter((n) => n.domain === 'com.microsoft' && UNFUSABLE_CONTRIB_OPS.includes(n.opType));
  const watched = fused.flatMap((n) => n.outputs.map((o, i) => ({ n, o, i }))).filter(({ n, o, i }) => o && !(n.opType === 'EmbedLayerNormalization' && i === 1));
  const expose = (g: Graph, type: number): void => {
    const have = new Set(g.outputs.map((o) => o.name));
    for (const { o } of watched) if (!have.has(o)) g.outputs.push({ name: o, elemType: type, dims: undefined });
  };
  expose(g0, floatType);
  const g1 = Graph.fromModelProto(model);
  convertHalfToFloat(g1);
  upgradeOpset(g1);
  unfuseContribOps(g1);
  for (const o of g1.outputs) if (isFloatType(o.elemType)) o.elemType = DataType.FLOAT;
  expose(g1, DataType.FLOAT);
  const s0 = await ort.InferenceSession.create(encodeModel(g0.toModelProto()), { graphOptimizationLevel: 'disabled' });
  const s1 = await ort.InferenceSession.create(encodeModel(g1.toModelProto()), { graphOptimizationLevel: 'disabled' });
  const f0 = feeds(g0);
  const f1: Record<string, ort.Tensor> = {};
  for (const [k, t] of Object.entries(f0)) f1[k] = t.type === 'float16' ? new ort.Tensor('float32', toF32(t), t.dims) : t;
  const [r0, r1] = [await s0.run(f0), await s1.run(f1)];
  return watched.map(({ n, o }) => {
    const a = toF32(r0[o]), b = toF32(r1[o]);
    if (a.length !== b.length) throw new Error(`${n.opType} output ${o}: ${a.length} vs ${b.length} elements`);
    let err = 0, mx = 0;
    for (let k = 0; k < a.length; k++) { err = Math.max(err, Math.abs(a[k] - b[k])); mx = Math.max(mx, Math.abs(a[k])); }
    return { op: n.opType, node: n.name, output: o, maxAbsErr: err, maxAbs: mx };
  });
}

/** Feeds for a decoder export: ids, full attention mask, positions past..past+S-1, random past of length `past`. */
export function decoderFeeds(g: Graph, ids: number[], past: number, seed = 3): Record<string, ort.Tensor> {
  const rand = rng(seed);
  const S = ids.length, out: Record<string, ort.Tensor> = {};
  for (const inp of g.inputs) {
    const ints = (v: number[]): ort.Tensor => (inp.elemType === DataType.INT32 ? new ort.Tensor('int32', Int32Array.from(v), [1, v.length]) : new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), [1, v.length]));
    if (inp.name === 'input_ids') out[inp.name] = ints(ids);
    else if (inp.name === 'attention_mask') out[inp.name] = ints(Array(S + past).fill(1));
    else if (inp.name === 'position_ids') out[inp.name] = ints(ids.map((_, i) => past + i));
    else {
      const dims = (inp.dims ?? []).map((d, i) => (typeof d === 'number' ? d : /batch/.test(String(d)) || (i === 0 && d === undefined) ? 1 : past));
      const n = dims.reduce((a, b) => a * b, 1);
      const data = Float32Array.from({ length: n }, () => rand() * 2 - 1);
      out[inp.name] = inp.elemType === DataType.FLOAT16 ? new ort.Tensor('float16', toHalf(data), dims) : new ort.Tensor('float32', data, dims);
    }
  }
  return out;
}

function toHalf(a: Float32Array): Uint16Array {
  const f = new Float32Array(1), u = new Uint32Array(f.buffer);
  return Uint16Array.from(a, (x) => {
    f[0] = x;
    const b = u[0], s = (b >>> 16) & 0x8000, e = ((b >>> 23) & 0xff) - 127 + 15, m = b & 0x7fffff;
    if (e <= 0) return s;
    if (e >= 31) return s | 0x7c00;
    return s | (e << 10) | Math.round(m / 8192);
  });
}
