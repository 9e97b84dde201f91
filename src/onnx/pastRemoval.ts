/**
 * Decoder exports take a KV cache (past_key_values.* / past_N). For attribution the whole prompt is one pass,
 * so each past input is replaced by an empty tensor built in-graph: symbolic batch dim → the batch size of
 * `inputs_embeds`, other symbolic dims (past length) → 0. Present outputs are dropped by the caller.
 */
import { Graph, I } from './graph';
import { DataType } from './tensorData';

export function isPastInput(name: string): boolean {
  return /^past[._]|past_key_values|^past$|cache/i.test(name);
}

export function removePastInputs(g: Graph, batchFrom: string, batchSymbols: Set<string>): string[] {
  const removed: string[] = [];
  for (const inp of [...g.inputs]) {
    if (!isPastInput(inp.name)) continue;
    if (!inp.dims) throw new Error(`Past input ${inp.name} has no declared shape; cannot substitute an empty cache.`);
    const batch = g.op('Slice', [g.op('Shape', [batchFrom]), g.constI64([0]), g.constI64([1])]);
    const parts = inp.dims.map((d) => (typeof d === 'number' ? g.constI64([d]) : d !== undefined && batchSymbols.has(d) ? batch : g.constI64([0])));
    const shape = g.op('Concat', parts, { axis: I(0) });
    const value = { kind: 'tensor' as const, value: { data_type: inp.elemType, dims: [1], raw_data: new Uint8Array(inp.elemType === DataType.INT64 ? 8 : 4) } };
    g.add('ConstantOfShape', [shape], { value }, { outputs: [inp.name] });
    g.inputs = g.inputs.filter((i) => i !== inp);
    removed.push(inp.name);
  }
  g.invalidate();
  return removed;
}
