/** Test helpers: build tiny graphs, differentiate them, and compare with central finite differences. */
import * as ort from 'onnxruntime-node';
import { Graph, AttrValue } from '../../src/onnx/graph';
import { encodeModel } from '../../src/onnx/onnxProto';
import { DataType } from '../../src/onnx/tensorData';
import { appendGradients } from '../../src/onnx/gradients';
import { mulberry32 } from '../../src/core/methods/smoothGrad';

/** Deterministic PRNG (the one SmoothGrad uses) so failures reproduce. */
export const rng = mulberry32;

export interface InputSpec {
  dims: number[];
  /** Differentiated graph input (default) or a constant initializer. */
  constant?: boolean;
  /** Value range for random data. */
  range?: [number, number];
  /** Explicit data (int64 arrays for indices). */
  data?: Float32Array | BigInt64Array | Uint8Array;
  type?: number;
  /** An omitted optional input (empty name). */
  skip?: boolean;
}

export async function session(g: Graph): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(encodeModel(g.toModelProto()), { graphOptimizationLevel: 'disabled' });
}

export interface OpCheck {
  maxRelErr: number;
  worst: string;
}

/**
 * Builds `op(inputs)`, score = Σ y·cos(y) (a non-uniform weighting), differentiates w.r.t. every non-constant
 * input, and compares directional derivatives along random directions with central differences.
 */
export async function checkOpGradient(
  op: string,
  inputs: InputSpec[],
  attrs: Record<string, AttrValue> = {},
  opts: { outputs?: number; useOutputs?: number[]; seed?: number; eps?: number; directions?: number; domain?: string; prepare?: (g: Graph) => void } = {},
): Promise<OpCheck> {
  const rand = rng(opts.seed ?? 1);
  const g = new Graph();
  g.opsets.set('', 17);
  const names: string[] = [];
  const feeds: Record<string, Float32Array> = {};
  inputs.forEach((spec, i) => {
    const name = `x${i}`;
    names.push(name);
    if (spec.skip) return;
    const n = spec.dims.reduce((a, b) => a * b, 1);
    const [lo, hi] = spec.range ?? [-1.5, 1.5];
    const data = spec.data ?? Float32Array.from({ length: n }, () => lo + (hi - lo) * rand());
    const type = spec.type ?? (data instanceof BigInt64Array ? DataType.INT64 : data instanceof Uint8Array ? DataType.BOOL : DataType.FLOAT);
    if (spec.constant || type !== DataType.FLOAT) {
      g.initializers.set(name, { name, data_type: type, dims: spec.dims, raw_data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    } else {
      g.inputs.push({ name, elemType: DataType.FLOAT, dims: spec.dims });
      feeds[name] = data as Float32Array;
    }
  });
  const outs = g.add(op, names.map((n, i) => (inputs[i].skip ? '' : n)), attrs, { outputs: opts.outputs ?? 1, domain: opts.domain });
  opts.prepare?.(g);
  const used = (opts.useOutputs ?? outs.map((_, i) => i)).map((i) => outs[i]);
  const parts = used.map((y) => g.op('ReduceSum', [g.op('Mul', [y, g.op('Cos', [g.op('Mul', [y, g.scalarF32(1.3)])])])], { keepdims: { kind: 'int', value: 0 } }));
  const score = parts.length === 1 ? parts[0] : g.op('Sum', parts);
  g.outputs = [{ name: score, elemType: DataType.FLOAT, dims: [] }];
  const fwd = await session(g);
  const wrt = Object.keys(feeds);
  const grads = appendGradients(g, { ys: [score], wrt });
  g.outputs.push(...wrt.map((w) => ({ name: grads.get(w)!, elemType: DataType.FLOAT, dims: undefined })));
  const bwd = await session(g);
  const toFeeds = (f: Record<string, Float32Array>): Record<string, ort.Tensor> =>
    Object.fromEntries(Object.entries(f).map(([k, v]) => [k, new ort.Tensor('float32', v, inputs[Number(k.slice(1))].dims)]));
  const res = await bwd.run(toFeeds(feeds));
  const eps = opts.eps ?? 1e-2;
  let maxRelErr = 0;
  let worst = '';
  for (const w of wrt) {
    const grad = res[grads.get(w)!].data as Float32Array;
    for (let d = 0; d < (opts.directions ?? 3); d++) {
      const v = Float32Array.from(feeds[w], () => rand() * 2 - 1);
      let analytic = 0;
      for (let k = 0; k < v.length; k++) analytic += grad[k] * v[k];
      const at = async (s: number): Promise<number> => {
        const x = Float32Array.from(feeds[w], (a, k) => a + s * v[k]);
        const r = await fwd.run(toFeeds({ ...feeds, [w]: x }));
        return Number((r[score].data as Float32Array)[0]);
      };
      const fd = ((await at(eps)) - (await at(-eps))) / (2 * eps);
      const err = Math.abs(fd - analytic) / Math.max(1, Math.abs(fd));
      if (err > maxRelErr) { maxRelErr = err; worst = `${w}: analytic ${analytic} vs fd ${fd}`; }
    }
  }
  return { maxRelErr, worst };
}
