/**
 * Gradients inside the model: the residual stream after a block as the variable instead of the token embeddings.
 * Stream s is the value after s blocks (s = 0: the embeddings as the first block reads them; s = layers: the last
 * block's output). Implemented by the runtime on the layer-cut gradient graph (src/onnx/layerGradientModel.ts).
 */
import type { GradientItem } from './modelRunner';

export interface LayerGradientItem extends GradientItem {
  /** Added to the stream at one depth (row-major [seq, hidden]); absent = the model's own value everywhere. */
  delta?: { stream: number; values: Float32Array };
}

export interface LayerGradientValue {
  score: number;
  /** Per stream asked for, row-major [seq, hidden]: ∂score/∂stream (blocks before it held fixed). */
  grads: Float32Array[];
  /** Per stream asked for, row-major [seq, hidden]: the stream as the blocks before computed it (before any delta). */
  activations: Float32Array[];
}

export interface LayerGradientBackend {
  /** Blocks of the model; streams are 0 … layers. */
  readonly layers: number;
  /** Batched score + gradients at the given streams. All items in one call share a sequence length. */
  scoreAndLayerGradients(items: LayerGradientItem[], streams: number[], signal?: AbortSignal): Promise<LayerGradientValue[]>;
  /** Backward passes (sequences) run so far. */
  readonly backwardCount: number;
}

/** What `--layer` names: a block index, or the middle / last block. */
export type LayerChoice = number | 'middle' | 'last';

/**
 * The stream a layer choice reads: the output of block ℓ (stream ℓ + 1), or its input (stream ℓ) with `input`.
 * Block indices are 0-based like the attention methods' --layer; `middle` is block ⌊(L − 1)/2⌋.
 */
export function streamOfLayer(choice: LayerChoice | undefined, layers: number, input = false): number {
  const block = choice === undefined || choice === 'middle' ? Math.floor((layers - 1) / 2) : choice === 'last' ? layers - 1 : choice;
  if (!Number.isInteger(block) || block < 0 || block >= layers) {
    throw new RangeError(`Layer ${choice} does not exist: this model has ${layers} blocks (0–${layers - 1}, or middle / last).`);
  }
  return input ? block : block + 1;
}

/** Human name of a stream: "embeddings" or "after block ℓ". */
export function streamName(stream: number): string {
  return stream === 0 ? 'the embeddings (input of block 0)' : `the output of block ${stream - 1}`;
}
