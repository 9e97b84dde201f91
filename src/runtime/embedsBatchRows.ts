/**
 * Batches of forward passes answered by the embedding-input graph that a gradient load opens anyway for Soft-NC /
 * Soft-NS (gradientBackend.ts): the trust figures of a gradient run (faithfulness curves) then need no forward
 * session of their own, a third copy of the weights beside the gradient graph's and this graph's. The token
 * embeddings are looked up from the model file (the rows the graph's Gather would pick); sequences are right-padded
 * with the pad token and a zero mask, as the forward session's batches are, and the head runs only at the asked rows.
 */
import * as ort from 'onnxruntime-node';
import type { ForwardItem } from '../core/modelRunner';
import type { OnnxGradientBackend } from './gradientBackend';
import { LOGIT_ROWS_INPUT } from '../onnx/embedsForward';
import { DataType } from '../onnx/tensorData';
import { floatData } from './tensorDecoding';

export interface BatchRows {
  logits: Float32Array;
  vocab: number;
  rowOf: (item: number, position: number) => number;
}

export async function embedsBatchRows(backend: OnnxGradientBackend, items: readonly ForwardItem[], padId: number, contextLength: number): Promise<BatchRows> {
  const { model } = await backend.embedsForwardSession();
  const batch = items.length;
  const width = Math.max(...items.map((i) => i.inputIds.length));
  const h = backend.hiddenSize;
  const embeds = new Float32Array(batch * width * h);
  const ids: number[][] = items.map((it) => Array.from({ length: width }, (_, t) => (t < it.inputIds.length ? it.inputIds[t] : padId)));
  ids.forEach((row, b) => embeds.set(backend.embed(row), b * width * h));
  const mask = (b: number, t: number): number => (t < items[b].inputIds.length ? (items[b].attentionMask?.[t] ?? 1) : 0);
  const position = (b: number, t: number): number => (t < items[b].inputIds.length ? (items[b].positionIds?.[t] ?? t) : Math.min(t, contextLength - 1));
  const ints = (elemType: number, get: (b: number, t: number) => number): ort.Tensor => {
    if (elemType === DataType.INT32) return new ort.Tensor('int32', Int32Array.from({ length: batch * width }, (_, i) => get(Math.floor(i / width), i % width)), [batch, width]);
    return new ort.Tensor('int64', BigInt64Array.from({ length: batch * width }, (_, i) => BigInt(get(Math.floor(i / width), i % width))), [batch, width]);
  };
  const rows = items.map((it) => [...new Set(it.queries.map((q) => q.position))].sort((a, b) => a - b));
  const R = Math.max(1, ...rows.map((r) => r.length));
  const feeds: Record<string, ort.Tensor> = {};
  for (const inp of model.inputs) {
    switch (inp.name) {
      case 'inputs_embeds': feeds[inp.name] = new ort.Tensor('float32', embeds, [batch, width, h]); break;
      case 'attention_mask': feeds[inp.name] = ints(inp.elemType, mask); break;
      case 'position_ids': feeds[inp.name] = ints(inp.elemType, position); break;
      case 'token_type_ids': feeds[inp.name] = ints(inp.elemType, () => 0); break;
      case 'input_ids': feeds[inp.name] = ints(inp.elemType, (b, t) => ids[b][t]); break;
      case LOGIT_ROWS_INPUT: {
        const data = new BigInt64Array(batch * R);
        rows.forEach((r, b) => {
          for (let j = 0; j < R; j++) data[b * R + j] = BigInt(r[Math.min(j, r.length - 1)] ?? 0);
        });
        feeds[inp.name] = new ort.Tensor('int64', data, [batch, R]);
        break;
      }
      default: throw new Error(`The embedding-input graph needs an input Promptscope cannot provide: ${inp.name}.`);
    }
  }
  const out = await backend.runEmbedsForward(feeds, [model.output]);
  const t = out[model.output];
  const vocab = t.dims[t.dims.length - 1];
  const logits = floatData(t);
  const rowOf = model.rows
    ? (b: number, p: number) => (b * R + rows[b].indexOf(p)) * vocab
    : (b: number, p: number) => (b * width + p) * vocab;
  return { logits, vocab, rowOf };
}
