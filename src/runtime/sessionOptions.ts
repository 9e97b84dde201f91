/** onnxruntime session options shared by every Promptscope session (forward, logit rows, gradients); providers: executionProviders.ts. */
import type * as ort from 'onnxruntime-node';

export interface SessionSettings {
  /** Folder that external-data locations of a graph loaded from bytes are relative to (the model's folder). */
  weightsDir?: string;
}

export function sessionOptions(s: SessionSettings = {}): ort.InferenceSession.SessionOptions {
  const session: Record<string, unknown> = {};
  // Idle worker threads sleep instead of spinning, so the editor keeps its CPU between runs.
  if (process.env.PROMPTSCOPE_SPIN !== '1') session.intra_op = { allow_spinning: '0' };
  // Derived graphs are loaded from bytes and read the original model's weights from its folder.
  if (s.weightsDir) session.model_external_initializers_file_folder_path = s.weightsDir;
  return {
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: Number(process.env.PROMPTSCOPE_THREADS) || 0,
    extra: { session },
  };
}
