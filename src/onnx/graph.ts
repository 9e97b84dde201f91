/**
 * A mutable graph IR over ONNX: nodes with plain attribute values, initializers by name, and a builder
 * that mints unique value names. Rewrites (un-fusing, cutting, differentiation) work on this, then
 * `toModelProto` turns it back into bytes for onnxruntime.
 */
import {
  AttrType, AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto, ValueInfoProto, toNumber,
} from './onnxProto';
import { DataType, dimsOf, makeTensor, tensorToNumbers } from './tensorData';

export type AttrValue =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'ints'; value: number[] }
  | { kind: 'floats'; value: number[] }
  | { kind: 'strings'; value: string[] }
  | { kind: 'tensor'; value: TensorProto }
  | { kind: 'raw'; value: AttributeProto };

export const I = (value: number): AttrValue => ({ kind: 'int', value });
export const F = (value: number): AttrValue => ({ kind: 'float', value });
export const S = (value: string): AttrValue => ({ kind: 'string', value });
export const Is = (value: number[]): AttrValue => ({ kind: 'ints', value });
export const Fs = (value: number[]): AttrValue => ({ kind: 'floats', value });
export const T = (value: TensorProto): AttrValue => ({ kind: 'tensor', value });

export interface Node {
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
  name: string;
}

export interface ValueInfo { name: string; elemType: number; dims: (number | string | undefined)[] | undefined }

const utf8 = new TextDecoder();
const utf8enc = new TextEncoder();

function attrFromProto(a: AttributeProto): AttrValue {
  switch (a.type) {
    case AttrType.INT: return I(toNumber(a.i));
    case AttrType.FLOAT: return F(a.f ?? 0);
    case AttrType.STRING: return S(utf8.decode(a.s ?? new Uint8Array()));
    case AttrType.INTS: return Is((a.ints ?? []).map(toNumber));
    case AttrType.FLOATS: return Fs([...(a.floats ?? [])]);
    case AttrType.STRINGS: return { kind: 'strings', value: (a.strings ?? []).map((s) => utf8.decode(s)) };
    case AttrType.TENSOR: return T(a.t!);
    default: return { kind: 'raw', value: a };
  }
}

function attrToProto(name: string, v: AttrValue): AttributeProto {
  switch (v.kind) {
    case 'int': return { name, type: AttrType.INT, i: v.value };
    case 'float': return { name, type: AttrType.FLOAT, f: v.value };
    case 'string': return { name, type: AttrType.STRING, s: utf8enc.encode(v.value) };
    case 'ints': return { name, type: AttrType.INTS, ints: v.value };
    case 'floats': return { name, type: AttrType.FLOATS, floats: v.value };
    case 'strings': return { name, type: AttrType.STRINGS, strings: v.value.map((s) => utf8enc.encode(s)) };
    case 'tensor': return { name, type: AttrType.TENSOR, t: v.value };
    case 'raw': return { ...v.value, name };
  }
}

function valueInfoFromProto(v: ValueInfoProto): ValueInfo {
  const tt = v.type?.tensor_type;
  return {
    name: v.name ?? '',
    elemType: tt?.elem_type ?? 0,
    dims: tt?.shape?.dim?.map((d) => (d.dim_param ? d.dim_param : d.dim_value !== undefined && d.dim_value !== null ? toNumber(d.dim_value) : undefined)),
  };
}

function valueInfoToProto(v: ValueInfo): ValueInfoProto {
  const shape = v.dims ? { dim: v.dims.map((d) => (typeof d === 'number' ? { dim_value: d } : typeof d === 'string' ? { dim_param: d } : {})) } : undefined;
  return { name: v.name, type: { tensor_type: { elem_type: v.elemType, shape } } };
}

export class Graph {
  nodes: Node[] = [];
  initializers = new Map<string, TensorProto>();
  inputs: ValueInfo[] = [];
  outputs: ValueInfo[] = [];
  /** Declared intermediate types from the model (may be stale after rewrites; used only as hints). */
  valueInfo = new Map<string, ValueInfo>();
  opsets = new Map<string, number>();
  /** Values that differentiation treats as constants (straight-through rewrites); not serialised. */
  stopGradient = new Set<string>();
  name = 'graph';
  private counter = 0;
  private modelMeta: Pick<ModelProto, 'producer_name' | 'producer_version' | 'metadata_props'> = {};

  static fromModelProto(model: ModelProto): Graph {
    const g = new Graph();
    const gp = model.graph ?? {};
    g.name = gp.name ?? 'graph';
    for (const o of model.opset_import ?? []) g.opsets.set(o.domain ?? '', toNumber(o.version));
    for (const t of gp.initializer ?? []) g.initializers.set(t.name ?? '', t);
    g.inputs = (gp.input ?? []).map(valueInfoFromProto).filter((v) => !g.initializers.has(v.name));
    g.outputs = (gp.output ?? []).map(valueInfoFromProto);
    for (const v of gp.value_info ?? []) g.valueInfo.set(v.name ?? '', valueInfoFromProto(v));
    g.nodes = (gp.node ?? []).map((n: NodeProto, i) => ({
      opType: n.op_type ?? '',
      domain: n.domain === 'ai.onnx' ? '' : n.domain ?? '',
      inputs: [...(n.input ?? [])],
      outputs: [...(n.output ?? [])],
      attrs: Object.fromEntries((n.attribute ?? []).map((a) => [a.name ?? '', attrFromProto(a)])),
      name: n.name || `n${i}`,
    }));
    g.modelMeta = { producer_name: model.producer_name, producer_version: model.producer_version, metadata_props: model.metadata_props };
    // A graph written by Promptscope itself already has fresh names: continue after them, never reuse one.
    const used = [...g.initializers.keys(), ...g.nodes.flatMap((n) => [...n.outputs, n.name])];
    for (const name of used) {
      const m = /__ps(\d+)$/.exec(name);
      if (m) g.counter = Math.max(g.counter, Number(m[1]) + 1);
    }
    return g;
  }

  toModelProto(): ModelProto {
    const graph: GraphProto = {
      name: this.name,
      node: this.nodes.map((n) => ({
        op_type: n.opType,
        domain: n.domain,
        input: n.inputs,
        output: n.outputs,
        name: n.name,
        attribute: Object.entries(n.attrs).map(([k, v]) => attrToProto(k, v)),
      })),
      initializer: [...this.initializers.values()],
      input: this.inputs.map(valueInfoToProto),
      output: this.outputs.map(valueInfoToProto),
    };
    // Domains of subgraphs' nodes too (If segments hold the nodes of a segmented graph).
    const usedDomains = new Set<string>();
    const visit = (nodes: { domain?: string; attribute?: AttributeProto[] }[]): void => {
      for (const n of nodes) {
        usedDomains.add(n.domain ?? '');
        for (const a of n.attribute ?? []) {
          if (a.g) visit(a.g.node ?? []);
          for (const sub of a.graphs ?? []) visit(sub.node ?? []);
        }
      }
    };
    visit(graph.node ?? []);
    const opset_import = [...this.opsets.entries()].filter(([d]) => d === '' || usedDomains.has(d)).map(([domain, version]) => ({ domain, version }));
    return { ir_version: 8, opset_import, ...this.modelMeta, producer_name: 'promptscope', graph };
  }

  get opset(): number {
    return this.opsets.get('') ?? this.opsets.get('ai.onnx') ?? 13;
  }

  fresh(prefix: string): string {
    return `${prefix.replace(/[^A-Za-z0-9_./]/g, '_')}__ps${this.counter++}`;
  }

  /** Appends a node; returns its output names (fresh unless given). */
  add(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, opts: { outputs?: number | string[]; domain?: string } = {}): string[] {
    const outs = Array.isArray(opts.outputs)
      ? opts.outputs
      : Array.from({ length: opts.outputs ?? 1 }, () => this.fresh(opType));
    this.nodes.push({ opType, domain: opts.domain ?? '', inputs, outputs: outs, attrs, name: this.fresh(`${opType}_node`) });
    return outs;
  }

  /** Appends a single-output node and returns its output name. */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, domain = ''): string {
    return this.add(opType, inputs, attrs, { domain })[0];
  }

  constTensor(prefix: string, dataType: number, dims: number[], data: Parameters<typeof makeTensor>[3]): string {
    const name = this.fresh(prefix);
    this.initializers.set(name, makeTensor(name, dataType, dims, data));
    return name;
  }

  constI64(values: number[], dims: number[] = [values.length]): string {
    return this.constTensor('c_i64', DataType.INT64, dims, BigInt64Array.from(values.map((v) => BigInt(v))));
  }

  constF32(values: number[], dims: number[] = [values.length]): string {
    return this.constTensor('c_f32', DataType.FLOAT, dims, Float32Array.from(values));
  }

  scalarF32(v: number): string {
    return this.constF32([v], []);
  }

  /** Value of a constant (initializer or Constant node output), or undefined. */
  constantValue(name: string): TensorProto | undefined {
    const init = this.initializers.get(name);
    if (init) return init;
    const p = this.producerOf(name);
    if (p?.opType === 'Constant' && p.attrs.value?.kind === 'tensor') return p.attrs.value.value;
    if (p?.opType === 'Constant') {
      const a = p.attrs;
      if (a.value_int?.kind === 'int') return makeTensor('', DataType.INT64, [], BigInt64Array.from([BigInt(a.value_int.value)]));
      if (a.value_ints?.kind === 'ints') return makeTensor('', DataType.INT64, [a.value_ints.value.length], BigInt64Array.from(a.value_ints.value.map(BigInt)));
      if (a.value_float?.kind === 'float') return makeTensor('', DataType.FLOAT, [], Float32Array.from([a.value_float.value]));
      if (a.value_floats?.kind === 'floats') return makeTensor('', DataType.FLOAT, [a.value_floats.value.length], Float32Array.from(a.value_floats.value));
    }
    return undefined;
  }

  constantNumbers(name: string): number[] | undefined {
    const t = this.constantValue(name);
    return t ? tensorToNumbers(t) : undefined;
  }

  constantDims(name: string): number[] | undefined {
    const t = this.constantValue(name);
    return t ? dimsOf(t) : undefined;
  }

  private producerCache?: Map<string, Node>;
  private producerCacheLen = -1;
  /** Output name -> producing node; rebuilt when the node count changes or after `invalidate()`. */
  get producers(): Map<string, Node> {
    if (!this.producerCache || this.producerCacheLen !== this.nodes.length) {
      this.producerCache = new Map();
      for (const n of this.nodes) for (const o of n.outputs) this.producerCache.set(o, n);
      this.producerCacheLen = this.nodes.length;
    }
    return this.producerCache;
  }
  producerOf(name: string): Node | undefined {
    return this.producers.get(name);
  }
  /** Call after editing nodes in place without changing their count. */
  invalidate(): void {
    this.producerCache = undefined;
  }

  consumers(): Map<string, Node[]> {
    const m = new Map<string, Node[]>();
    for (const n of this.nodes) for (const i of n.inputs) if (i) (m.get(i) ?? m.set(i, []).get(i)!).push(n);
    return m;
  }

  /** Renames every use of `from` (node inputs and graph outputs) to `to`. */
  replaceUses(from: string, to: string): void {
    for (const n of this.nodes) n.inputs = n.inputs.map((i) => (i === from ? to : i));
    for (const o of this.outputs) if (o.name === from) this.nodes.push({ opType: 'Identity', domain: '', inputs: [to], outputs: [from], attrs: {}, name: this.fresh('keep_output') });
  }

  /** Orders nodes so that every input is produced before use; drops nodes nothing needs. */
  topoSortAndPrune(): void {
    const producers = new Map<string, Node>();
    for (const n of this.nodes) for (const o of n.outputs) producers.set(o, n);
    const needed = new Set<Node>();
    const order: Node[] = [];
    const state = new Map<Node, number>();
    const visit = (root: Node): void => {
      const stack: [Node, number][] = [[root, 0]];
      while (stack.length) {
        const top = stack[stack.length - 1];
        const [n, i] = top;
        if (i === 0) {
          if (state.get(n) === 2) { stack.pop(); continue; }
          state.set(n, 1);
        }
        if (i < n.inputs.length) {
          top[1]++;
          const p = producers.get(n.inputs[i]);
          if (p && !state.has(p)) stack.push([p, 0]);
          continue;
        }
        state.set(n, 2);
        needed.add(n);
        order.push(n);
        stack.pop();
      }
    };
    for (const o of this.outputs) {
      const p = producers.get(o.name);
      if (p && !state.has(p)) visit(p);
    }
    this.nodes = order;
    const used = new Set(order.flatMap((n) => n.inputs));
    for (const o of this.outputs) used.add(o.name);
    for (const k of [...this.initializers.keys()]) if (!used.has(k)) this.initializers.delete(k);
    this.invalidate();
  }
}
