/**
 * Session options for a differentiated graph by its size. onnxruntime's sequential executor plans memory in time
 * quadratic in the values a gradient graph keeps alive (seconds to minutes at 10 thousand nodes), and weight
 * prepacking keeps repacked copies of weights that feed both a forward MatMul and a backward Gemm; the parallel
 * executor without prepacking loads such graphs in a fraction of the time (gradientSessionOptions). On small graphs
 * of small models planning takes milliseconds and the copies are small, and the sequential executor with prepacked
 * weights runs a pass several times faster (the tiny classifier's layer graph, 64 tokens: about 2.5 ms against 22 ms).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as ort from 'onnxruntime-node';
import { gradientSessionOptions } from './gradientBackend';

/** From this many nodes, or this many bytes of weights, a differentiated graph gets the large graphs' session. */
export const LARGE_GRAPH = { nodes: 2000, weightBytes: 64 * 2 ** 20 };

export function sizedGradientSessionOptions(base: ort.InferenceSession.SessionOptions, size: { nodes: number; weightBytes: number }, large = LARGE_GRAPH): ort.InferenceSession.SessionOptions {
  return size.nodes >= large.nodes || size.weightBytes >= large.weightBytes ? gradientSessionOptions(base) : { ...base, executionMode: 'sequential' };
}

/** Bytes of a model file and its external data files beside it (model.onnx_data, model.onnx.data, …). */
export function modelFileBytes(onnxPath: string): number {
  const dir = path.dirname(onnxPath), name = path.basename(onnxPath);
  try {
    return fs.readdirSync(dir).filter((f) => f.startsWith(name)).reduce((sum, f) => sum + fs.statSync(path.join(dir, f)).size, 0);
  } catch {
    return Infinity;
  }
}
