/** Small helpers shared by the un-fusing rewrites: attribute reading, constants, and a clear refusal. */
import { Graph, I, Node } from '../graph';
import { ShapeInfo } from '../shapeInference';
import { DataType } from '../tensorData';

export class UnfuseError extends Error {
  constructor(n: Node, why: string) {
    super(`Cannot un-fuse ${n.domain ? `${n.domain}:` : ''}${n.opType} node "${n.name}": ${why}`);
    this.name = 'UnfuseError';
  }
}

export interface Unfuser {
  (u: UnfuseContext, n: Node): void;
}

export class UnfuseContext {
  constructor(readonly g: Graph, readonly info: ShapeInfo) {}

  attrInt(n: Node, k: string, d: number): number {
    const a = n.attrs[k];
    return a?.kind === 'int' ? a.value : d;
  }
  attrFloat(n: Node, k: string, d: number): number {
    const a = n.attrs[k];
    return a?.kind === 'float' ? a.value : d;
  }
  attrInts(n: Node, k: string): number[] | undefined {
    const a = n.attrs[k];
    return a?.kind === 'ints' ? a.value : undefined;
  }
  /** Static last dimension of a value, if known (from shape inference or a constant). */
  lastDim(name: string): number | undefined {
    const d = this.g.constantDims(name) ?? this.info.shapes.get(name);
    const v = d?.[d.length - 1];
    return typeof v === 'number' ? v : undefined;
  }
  rank(name: string): number | undefined {
    return (this.g.constantDims(name) ?? this.info.shapes.get(name))?.length;
  }
  op(opType: string, inputs: string[], attrs: Parameters<Graph['op']>[2] = {}): string {
    return this.g.op(opType, inputs, attrs);
  }
  /** Emits a node whose single output keeps the fused node's output name. */
  emitAs(out: string, opType: string, inputs: string[], attrs: Parameters<Graph['op']>[2] = {}): void {
    this.g.add(opType, inputs, attrs, { outputs: [out] });
  }
  f32(v: number): string { return this.g.scalarF32(v); }
  i64(v: number[]): string { return this.g.constI64(v); }
  scalarI64(v: number): string { return this.g.constTensor('c_i64', DataType.INT64, [], BigInt64Array.from([BigInt(v)])); }
  add(a: string, b: string): string { return this.op('Add', [a, b]); }
  mul(a: string, b: string): string { return this.op('Mul', [a, b]); }
  sub(a: string, b: string): string { return this.op('Sub', [a, b]); }
  unsqueeze(x: string, axes: number[]): string { return this.op('Unsqueeze', [x, this.i64(axes)]); }
  transpose(x: string, perm: number[]): string { return this.op('Transpose', [x], { perm: { kind: 'ints', value: perm } }); }
  reshape(x: string, shape: number[]): string { return this.op('Reshape', [x, this.i64(shape)]); }
  toInt64(x: string): string { return this.op('Cast', [x], { to: I(DataType.INT64) }); }
  toBool(x: string): string { return this.op('Cast', [x], { to: I(DataType.BOOL) }); }
  /** Dimension `axis` of x as a 1-element int64 vector. */
  dim(x: string, axis: number): string {
    return this.op('Gather', [this.op('Shape', [x]), this.i64([axis])], { axis: I(0) });
  }
  /** True iff an output slot exists and something reads it (or it is a graph output). */
  used(name: string | undefined, consumers: Map<string, Node[]>): boolean {
    if (!name) return false;
    return (consumers.get(name)?.length ?? 0) > 0 || this.g.outputs.some((o) => o.name === name);
  }
}
