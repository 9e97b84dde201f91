/** Feeds for a gradient graph's inputs: two items, the second left-padded by two tokens, a given id and the top token. */
import * as ort from 'onnxruntime-node';
import type { GradientModel } from '../../src/onnx/gradientModel';

export function feedsFor(m: GradientModel, B: number, seq: number): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  const i64 = (v: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), dims);
  for (const inp of m.inputs) {
    switch (inp.name) {
      case 'inputs_embeds': feeds[inp.name] = new ort.Tensor('float32', Float32Array.from({ length: B * seq * m.hiddenSize }, (_, i) => Math.sin(i * 0.37) * 0.3), [B, seq, m.hiddenSize]); break;
      case 'input_ids': feeds[inp.name] = i64(Array.from({ length: B * seq }, (_, i) => (i * 7) % 50), [B, seq]); break;
      case 'target_ids': feeds[inp.name] = i64([3, -1, 5, 9], [B, 2]); break;
      case 'target_positions': feeds[inp.name] = i64([seq - 1, 2, seq - 1, 1], [B, 2]); break;
      case 'target_weights': feeds[inp.name] = new ort.Tensor('float32', Float32Array.from([1, 0.5, 1, -2]), [B, 2]); break;
      // The second item left-padded by two tokens.
      case 'attention_mask': feeds[inp.name] = i64(Array.from({ length: B * seq }, (_, i) => (i >= seq && i < seq + 2 ? 0 : 1)), [B, seq]); break;
      case 'position_ids': feeds[inp.name] = i64(Array.from({ length: B * seq }, (_, i) => Math.max(0, (i % seq) - (i >= seq ? 2 : 0))), [B, seq]); break;
      default: throw new Error(`unexpected input ${inp.name}`);
    }
  }
  return feeds;
}
