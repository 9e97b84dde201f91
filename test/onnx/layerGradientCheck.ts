/**
 * Layer gradient checks: ∂score/∂(residual stream after s blocks) from the layer gradient graph vs Richardson-
 * extrapolated central differences of the score, perturbing the stream at that depth through its delta input.
 */
import * as ort from 'onnxruntime-node';
import type { GradientModel } from '../../src/onnx/gradientModel';
import { buildLayerGradientModel, layerDeltaInput, layerOutputOf, type LayerGradientGraphOptions, type LayerGradientModel } from '../../src/onnx/layerGradientModel';
import type { ModelProto } from '../../src/onnx/onnxProto';
import { loadModel } from '../../src/onnx/modelFile';
import { embedIds, feedsFor, type ModelCheckInput } from './modelGradientCheck';
import { rng } from './fdHarness';

export interface LayerCheck {
  stream: number;
  maxRelErr: number;
  gradNorm: number;
  /** ‖x_s‖ (0 would make gradient × activation vacuous). */
  activationNorm: number;
  details: string[];
}

export function layerFeeds(m: LayerGradientModel, x: ModelCheckInput, deltas: Map<number, Float32Array> = new Map()): Record<string, ort.Tensor> {
  const base = { ...m, logitsName: 'logits', embeddingName: '', inputs: m.inputs.filter((i) => !i.name.startsWith('layer_delta.')) } as unknown as GradientModel;
  const feeds = feedsFor(base, embedIds(base, x.ids), x);
  const size = x.ids.length * m.hiddenSize;
  for (let s = 0; s <= m.layers; s++) feeds[layerDeltaInput(s)] = new ort.Tensor('float32', deltas.get(s) ?? new Float32Array(size), [1, x.ids.length, m.hiddenSize]);
  return feeds;
}

const norm = (a: Float32Array): number => Math.sqrt(a.reduce((s, v) => s + v * v, 0));

/** The runtime's small-graph bound (graphSessionOptions.ts LARGE_GRAPH.nodes): these models get that graph. */
export const SMALL_GRAPH_NODES = 2000;

export async function checkLayerGradients(
  onnxPath: string,
  opts: LayerGradientGraphOptions,
  x: ModelCheckInput,
  o: { eps?: number; seed?: number; prepare?: (model: ModelProto) => ModelProto; streams?: number[] } = {},
): Promise<{ model: LayerGradientModel; checks: LayerCheck[]; score: number }> {
  const model0 = loadModel(onnxPath);
  const m = buildLayerGradientModel(o.prepare ? o.prepare(model0) : model0, { smallGraphNodes: SMALL_GRAPH_NODES, ...opts });
  const sess = await ort.InferenceSession.create(m.bytes);
  const res = await sess.run(layerFeeds(m, x));
  const score = Number((res.score.data as Float32Array)[0]);
  const f = async (s: number, dir: Float32Array, t: number): Promise<number> => {
    const r = await sess.run(layerFeeds(m, x, new Map([[s, Float32Array.from(dir, (v) => t * v)]])), ['score']);
    return Number((r.score.data as Float32Array)[0]);
  };
  const rand = rng(o.seed ?? 11);
  const checks: LayerCheck[] = [];
  for (const s of o.streams ?? Array.from({ length: m.layers + 1 }, (_, i) => i)) {
    const output = (name: string): Float32Array => res[name].data as Float32Array;
    const size = x.ids.length * m.hiddenSize;
    const grad = layerOutputOf(m.concatenated, output, s, 'grad', 0, 1, size);
    const act = layerOutputOf(m.concatenated, output, s, 'activation', 0, 1, size);
    const gradNorm = norm(grad);
    const details: string[] = [];
    let maxRelErr = 0;
    for (let d = 0; d < 2; d++) {
      // A random unit direction, the second one tilted towards the gradient so it is not nearly orthogonal to it.
      const dir = Float32Array.from(grad, (gv) => rand() * 2 - 1 + (d === 0 ? 0 : (3 * gv / (gradNorm || 1)) * Math.sqrt(grad.length)));
      const dn = norm(dir);
      for (let k = 0; k < dir.length; k++) dir[k] /= dn;
      let analytic = 0;
      for (let k = 0; k < dir.length; k++) analytic += grad[k] * dir[k];
      // The stream's size varies by orders of magnitude (‖x_s‖ from 0.06 on the distilbert fixture to ~150 deep in
      // the tiny LM) and every block reads it through a norm, so the score's curvature along a unit direction falls
      // as 1/‖x_s‖: the step is relative to it, which keeps the O(h⁴) term negligible while the fp32 rounding of f,
      // divided by h, stays below the tolerance (classifiers whose gradient is small next to |f| need a larger eps).
      const h = (o.eps ?? 2e-3) * norm(act);
      const d1 = ((await f(s, dir, h)) - (await f(s, dir, -h))) / (2 * h);
      const d2 = ((await f(s, dir, h / 2)) - (await f(s, dir, -h / 2))) / h;
      const fd = (4 * d2 - d1) / 3;
      // The gradient's relative error as seen along a unit direction (see modelGradientCheck.ts).
      const err = Math.abs(fd - analytic) / Math.max(Math.abs(fd), gradNorm, 1e-9);
      maxRelErr = Math.max(maxRelErr, err);
      details.push(`stream ${s} dir ${d}: analytic ${analytic.toExponential(5)} fd ${fd.toExponential(5)} rel ${err.toExponential(2)}`);
    }
    checks.push({ stream: s, maxRelErr, gradNorm, activationNorm: norm(act), details });
  }
  return { model: m, checks, score };
}
