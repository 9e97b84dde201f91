/** Placeholder pass: quantised-weight folding (DequantizeLinear of constants, MatMulNBits) lands here. */
import { Graph } from './graph';

export function foldQuantizedConstants(_g: Graph): void {
  /* filled in below when quantised models are supported */
}
