/**
 * LogitLensBackend on onnxruntime-node: one session on the logit-lens variant of the model (src/onnx/logitLens),
 * built in memory on first use. One run per read: the prompt (and continuation) without past, every layer's
 * lens logits at the position asked for.
 */
import * as ort from 'onnxruntime-node';
import { throwIfAborted } from '../core/modelRunner';
import type { LensReading, LogitLensBackend } from '../core/logitLens';
import { Graph } from '../onnx/graph';
import { addLogitLens, logitLensOutput } from '../onnx/logitLens';
import { loadModel } from '../onnx/modelFile';
import { encodeModel } from '../onnx/onnxProto';
import { DataType, halfToFloat } from '../onnx/tensorData';
import { sessionOptions } from './sessionOptions';
import * as path from 'node:path';

export async function createLogitLensBackend(onnxPath: string, layers: number): Promise<LogitLensBackend> {
  const g = Graph.fromModelProto(loadModel(onnxPath));
  addLogitLens(g, layers);
  const inputs = g.inputs.map((i) => ({ name: i.name, elemType: i.elemType, dims: i.dims }));
  const session = await ort.InferenceSession.create(encodeModel(g.toModelProto()), sessionOptions({ weightsDir: path.dirname(onnxPath) }));
  const outputs = Array.from({ length: layers + 1 }, (_, l) => logitLensOutput(l));
  return {
    layers,
    async read(inputIds, position, tokenIds, k, signal): Promise<LensReading> {
      throwIfAborted(signal);
      const feeds: Record<string, ort.Tensor> = {};
      for (const inp of inputs) {
        const ints = (v: number[]): ort.Tensor => (inp.elemType === DataType.INT32 ? new ort.Tensor('int32', Int32Array.from(v), [1, v.length]) : new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), [1, v.length]));
        if (inp.name === 'input_ids') feeds[inp.name] = ints(inputIds);
        else if (inp.name === 'attention_mask') feeds[inp.name] = ints(inputIds.map(() => 1));
        else if (inp.name === 'position_ids') feeds[inp.name] = ints(inputIds.map((_, i) => i));
        else {
          // Past keys / values: empty (length 0 along the sequence axis).
          const dims = (inp.dims ?? []).map((d, i) => (typeof d === 'number' ? d : i === 0 ? 1 : 0));
          feeds[inp.name] = inp.elemType === DataType.FLOAT16 ? new ort.Tensor('float16', new Uint16Array(0), dims) : new ort.Tensor('float32', new Float32Array(0), dims);
        }
      }
      const out = await session.run(feeds, outputs);
      return {
        layers: outputs.map((name) => {
          const t = out[name];
          const V = t.dims[t.dims.length - 1];
          const data = t.type === 'float16' ? Float32Array.from(t.data as Uint16Array, halfToFloat) : (t.data as Float32Array);
          const row = data.subarray(position * V, (position + 1) * V);
          let max = -Infinity;
          for (const v of row) if (v > max) max = v;
          let sum = 0;
          for (const v of row) sum += Math.exp(v - max);
          const lse = max + Math.log(sum);
          const top: { tokenId: number; logProb: number }[] = [];
          for (let v = 0; v < V; v++) {
            const lp = row[v] - lse;
            if (top.length < k || lp > top[top.length - 1].logProb) {
              top.push({ tokenId: v, logProb: lp });
              top.sort((a, b) => b.logProb - a.logProb);
              if (top.length > k) top.pop();
            }
          }
          return { top, logProbs: tokenIds.map((id) => row[id] - lse) };
        }),
      };
    },
  };
}
