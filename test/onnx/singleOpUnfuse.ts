/** Builds one-node com.microsoft graphs with random inputs and compares onnxruntime's fused kernel with the un-fused graph. */
import * as ort from 'onnxruntime-node';
import { AttrValue, Graph } from '../../src/onnx/graph';
import { encodeModel } from '../../src/onnx/onnxProto';
import { unfuseContribOps } from '../../src/onnx/contribUnfuse';
import { DataType } from '../../src/onnx/tensorData';
import { rng } from './fdHarness';

export interface OpInput {
  dims: number[];
  /** Integer data (int32 unless type says otherwise); float inputs are random when omitted. */
  ints?: number[];
  type?: number;
  /** Omitted optional input. */
  skip?: boolean;
  /** Put the value in the graph as an initializer (weights, caches), not as a graph input. */
  constant?: boolean;
}

/** `outputs`: element type per output slot (0 = slot left empty); only float outputs are compared. */
export async function compareSingleOp(op: string, inputs: OpInput[], attrs: Record<string, AttrValue>, outputs: number[], opts: { seed?: number; tamper?: (g: Graph) => void } = {}): Promise<number[]> {
  const seed = opts.seed ?? 5;
  const build = (): { g: Graph; feeds: Record<string, ort.Tensor> } => {
    const g = new Graph();
    g.opsets.set('', 17);
    g.opsets.set('com.microsoft', 1);
    const feeds: Record<string, ort.Tensor> = {};
    const r2 = rng(seed);
    const names = inputs.map((spec, i) => {
      if (spec.skip) return '';
      const name = `in${i}`;
      const n = spec.dims.reduce((a, b) => a * b, 1);
      const type = spec.type ?? (spec.ints ? DataType.INT32 : DataType.FLOAT);
      const data = type === DataType.INT64 ? BigInt64Array.from(spec.ints!.map(BigInt)) : type === DataType.INT32 ? Int32Array.from(spec.ints!) : Float32Array.from({ length: n }, () => r2() * 2 - 1);
      if (spec.constant) g.initializers.set(name, { name, data_type: type, dims: spec.dims, raw_data: new Uint8Array(data.buffer) });
      else {
        g.inputs.push({ name, elemType: type, dims: spec.dims });
        feeds[name] = new ort.Tensor(type === DataType.INT64 ? 'int64' : type === DataType.INT32 ? 'int32' : 'float32', data, spec.dims);
      }
      return name;
    });
    const outs = outputs.map((t, k) => (t ? `out${k}` : ''));
    g.add(op, names, attrs, { outputs: outs, domain: 'com.microsoft' });
    g.outputs = outs.map((name, k) => ({ name, elemType: outputs[k], dims: undefined })).filter((o) => o.name);
    return { g, feeds };
  };
  const a = build(), b = build();
  const count = unfuseContribOps(b.g);
  if (count !== 1) throw new Error(`expected one rewrite, got ${count}`);
  opts.tamper?.(b.g);
  const run = async (x: { g: Graph; feeds: Record<string, ort.Tensor> }): Promise<ort.InferenceSession.OnnxValueMapType> =>
    (await ort.InferenceSession.create(encodeModel(x.g.toModelProto()), { graphOptimizationLevel: 'disabled' })).run(x.feeds);
  const [ra, rb] = [await run(a), await run(b)];
  return a.g.outputs.filter((o) => o.elemType === DataType.FLOAT).map(({ name }) => {
    const x = ra[name].data as Float32Array, y = rb[name].data as Float32Array;
    if (x.length !== y.length) throw new Error(`${name}: ${x.length} vs ${y.length} elements`);
    let err = 0;
    for (let k = 0; k < x.length; k++) err = Math.max(err, Math.abs(x[k] - y[k]));
    return err;
  });
}
