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

/**
 * Below this much work per pass (tokens in the batch × bytes of weights), a small graph's pass runs faster on one
 * thread: its kernels are too small for a second thread to win back the hand-off (a sleeping worker is woken per
 * parallel kernel). Layer graph, default 2 threads → 1, medians on a 2-core machine: tiny classifier 16 tokens
 * 0.79 → 0.65 ms, 64 tokens 1.74 → 1.61; GPT-2 fixture 16 tokens 1.07 → 0.78, 64 tokens 1.75 → 1.64; tiny LM
 * (10.5 MB) 16 tokens 2.51 → 2.28, but 64 tokens 6.05 → 6.40 and 256 tokens 32.6 → 39.7 (there two threads win).
 */
export const SINGLE_THREAD_WORK = 2 ** 28;
/** Weights up to which a small graph may get a second, single-threaded session (its own copy of the weights). */
export const SINGLE_THREAD_WEIGHT_BYTES = 16 * 2 ** 20;

/** Whether a pass over `tokens` tokens (batch × sequence) of a small graph should run on a single-threaded session. */
export function singleThreadedPass(tokens: number, weightBytes: number): boolean {
  return weightBytes <= SINGLE_THREAD_WEIGHT_BYTES && tokens * weightBytes < SINGLE_THREAD_WORK;
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
