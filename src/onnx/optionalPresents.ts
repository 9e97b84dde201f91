/**
 * Present keys and values computed for every run but returned only when asked, and then only the first sequence's:
 * each present output becomes the output of an `If` on a new boolean input, whose then-branch passes on the first
 * sequence's keys and values ([1, …], what a prompt run alongside other items keeps) and whose else-branch returns an
 * empty tensor. A run keeps its graph outputs alive until it ends, fetched or not; runs that read only logits rows
 * (every occlusion batch) then hold no layer's keys and values beyond the layer that uses them (GPT-2-small shape,
 * a run of 4 × 127 tokens: 27 MB at its peak instead of 59).
 */
import { Graph, type Node } from './graph';
import { AttrType, type AttributeProto } from './onnxProto';
import { DataType, makeTensor } from './tensorData';

export const WANT_PRESENTS_INPUT = 'want_presents';

/** Rewrites `g` in place; false (and `g` unchanged) when it has no present outputs of a known element type. */
export function optionalPresents(g: Graph, isPresent: (name: string) => boolean = (n) => n.startsWith('present')): boolean {
  const presents = g.outputs.filter((o) => isPresent(o.name) && o.elemType && g.producerOf(o.name));
  if (presents.length === 0) return false;
  g.inputs.push({ name: WANT_PRESENTS_INPUT, elemType: DataType.BOOL, dims: [] });
  const inner = (name: string): string => `${name}__kv`;
  const names = new Set(presents.map((p) => p.name));
  const ifs = new Map<Node, Node[]>();
  for (const n of g.nodes) {
    n.inputs = n.inputs.map((x) => (names.has(x) ? inner(x) : x));
    const made = n.outputs.filter((o) => names.has(o));
    if (made.length === 0) continue;
    n.outputs = n.outputs.map((o) => (names.has(o) ? inner(o) : o));
    ifs.set(n, made.map((name) => {
      const type = presents.find((p) => p.name === name)!.elemType!;
      const then = new Graph();
      then.name = `${name}_then`;
      const axis = (v: string, value: number) => ({ opType: 'Constant', domain: '', inputs: [], outputs: [`${name}__${v}`], name: `${name}_${v}`, attrs: { value: { kind: 'tensor' as const, value: makeTensor('', DataType.INT64, [1], new BigInt64Array([BigInt(value)])) } } });
      then.nodes = [axis('zero', 0), axis('one', 1), { opType: 'Slice', domain: '', inputs: [inner(name), `${name}__zero`, `${name}__one`, `${name}__zero`], outputs: [`${name}__out`], name: `${name}_first`, attrs: {} }];
      then.outputs = [{ name: `${name}__out`, elemType: type, dims: undefined }];
      const otherwise = new Graph();
      otherwise.name = `${name}_else`;
      otherwise.nodes = [{ opType: 'Constant', domain: '', inputs: [], outputs: [`${name}__none`], name: `${name}_none`, attrs: { value: { kind: 'tensor', value: makeTensor('', type, [0], new Uint8Array(0)) } } }];
      otherwise.outputs = [{ name: `${name}__none`, elemType: type, dims: undefined }];
      const branch = (attr: string, sub: Graph): AttributeProto => ({ name: attr, type: AttrType.GRAPH, g: sub.toModelProto().graph });
      return {
        opType: 'If', domain: '', inputs: [WANT_PRESENTS_INPUT], outputs: [name], name: `${name}_if`,
        attrs: { then_branch: { kind: 'raw', value: branch('then_branch', then) }, else_branch: { kind: 'raw', value: branch('else_branch', otherwise) } },
      };
    }));
  }
  // The Ifs last, the first layer's last of all: onnxruntime orders nodes by a depth-first walk back from the graph's
  // leaves, the last leaf first, so each If then runs right after the layer that computes its keys or values, and a
  // layer's keys and values are released once that layer has used them (in graph order they would all wait for the
  // head, the last node, walked first).
  g.nodes = [...g.nodes, ...[...ifs.values()].flat().reverse()];
  for (const o of g.outputs) if (names.has(o.name)) o.dims = undefined;
  g.invalidate();
  return true;
}
