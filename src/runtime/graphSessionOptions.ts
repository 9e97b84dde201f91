/**
 * Session options for a differentiated graph by its size. onnxruntime's sequential executor plans memory in time
 * quadratic in the values a gradient graph keeps alive (seconds to minutes at 10 thousand nodes), and weight
 * prepacking keeps repacked copies of weights that feed both a forward MatMul and a backward Gemm; the parallel
 * executor without prepacking loads such graphs in a fraction of the time (gradientSessionOptions). On small graphs
 * planning takes milliseconds either way, and the sequential executor with prepacked weights runs a pass several
 * times faster (the tiny classifier's layer graph, 64 tokens: about 2.5 ms against 22 ms).
 */
import type * as ort from 'onnxruntime-node';
import { gradientSessionOptions } from './gradientBackend';

/** Node count from which a differentiated graph is run on the parallel executor without prepacking. */
export const LARGE_GRAPH_NODES = 2000;

export function sizedGradientSessionOptions(base: ort.InferenceSession.SessionOptions, nodes: number, largeFrom = LARGE_GRAPH_NODES): ort.InferenceSession.SessionOptions {
  return nodes >= largeFrom ? gradientSessionOptions(base) : { ...base, executionMode: 'sequential' };
}
