/** Helpers that VJP rules use to emit ONNX nodes: constants, reductions, and un-broadcasting ("sum to shape"). */
import { AttrValue, Graph, I, S, T } from './graph';
import { DataType, makeTensor } from './tensorData';
import { Shape, ShapeInfo, inferNodeShapes } from './shapeInference';
import { expandTarget, reshapeTarget } from './staticShapes';

export class GradContext {
  constructor(readonly g: Graph, readonly info: ShapeInfo) {}

  shape(name: string): Shape | undefined {
    return this.info.shapes.get(name);
  }
  rank(name: string): number | undefined {
    return this.info.shapes.get(name)?.length;
  }
  /** Records that `name` has the same shape as `like` (gradients mirror their primal's shape). */
  sameShape(name: string, like: string): string {
    const s = this.shape(like);
    if (s) this.info.shapes.set(name, s);
    this.info.types.set(name, DataType.FLOAT);
    return name;
  }

  op(opType: string, inputs: string[], attrs: Parameters<Graph['op']>[2] = {}, domain = ''): string {
    const out = this.g.op(opType, inputs, attrs, domain);
    inferNodeShapes(this.g.nodes[this.g.nodes.length - 1], this.g, this.info);
    return out;
  }
  f32(v: number): string {
    return this.g.scalarF32(v);
  }
  i64(v: number[]): string {
    return this.g.constI64(v);
  }
  mul(a: string, b: string): string { return this.op('Mul', [a, b]); }
  div(a: string, b: string): string { return this.op('Div', [a, b]); }
  sub(a: string, b: string): string { return this.op('Sub', [a, b]); }
  add(a: string, b: string): string { return this.op('Add', [a, b]); }
  neg(a: string): string { return this.op('Neg', [a]); }
  private shapeNodes = new Map<string, string>();
  /** Shape(x), one node per shape known in full (values of one symbolic shape have one shape at run time). */
  shapeOf(x: string): string {
    const s = this.shape(x);
    const key = s && s.every((d) => d !== null) ? JSON.stringify(s) : undefined;
    const known = key && this.shapeNodes.get(key);
    if (known) return known;
    const out = this.op('Shape', [x]);
    if (key) this.shapeNodes.set(key, out);
    return out;
  }

  reduceSum(x: string, axes: number[] | string, keepdims: boolean): string {
    const ax = typeof axes === 'string' ? axes : this.i64(axes);
    return this.op('ReduceSum', [x, ax], { keepdims: I(keepdims ? 1 : 0) });
  }
  reduceMean(x: string, axes: number[], keepdims: boolean): string {
    if (this.g.opset >= 18) return this.op('ReduceMean', [x, this.i64(axes)], { keepdims: I(keepdims ? 1 : 0) });
    return this.op('ReduceMean', [x], { axes: { kind: 'ints', value: axes }, keepdims: I(keepdims ? 1 : 0) });
  }
  unsqueeze(x: string, axes: number[] | string): string {
    return this.op('Unsqueeze', [x, typeof axes === 'string' ? axes : this.i64(axes)]);
  }
  squeeze(x: string, axes: number[]): string {
    return this.op('Squeeze', [x, this.i64(axes)]);
  }
  /** Reshape of `x` to the shape of `like`: by a constant target when the shapes pin one, else by Shape(like). */
  reshapeLike(x: string, like: string): string {
    const xs = this.shape(like);
    const t = xs ? reshapeTarget(xs, this.shape(x)) : undefined;
    const out = this.op('Reshape', [x, t ? this.i64(t) : this.shapeOf(like)]);
    return xs ? this.sameShape(out, like) : out;
  }
  /** Expand of `x` to the shape of `like`: by a constant target when the shapes pin one, else by Shape(like). */
  expandLike(x: string, like: string): string {
    const xs = this.shape(like);
    const t = xs ? expandTarget(xs, this.shape(x)) : undefined;
    const out = this.op('Expand', [x, t ? this.i64(t) : this.shapeOf(like)]);
    return xs ? this.sameShape(out, like) : out;
  }
  zerosLike(x: string): string {
    return this.op('ConstantOfShape', [this.shapeOf(x)], { value: T(makeTensor('', DataType.FLOAT, [1], Float32Array.from([0]))) });
  }
  onesLike(x: string): string {
    return this.op('ConstantOfShape', [this.shapeOf(x)], { value: T(makeTensor('', DataType.FLOAT, [1], Float32Array.from([1]))) });
  }
  /** Swaps the last two axes (needs the rank). */
  swapLast2(x: string): string {
    const r = this.rank(x);
    if (r === undefined) throw new Error(`Cannot infer the rank of ${x} (needed to transpose a MatMul operand).`);
    const perm = [...Array(r).keys()];
    [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
    return this.op('Transpose', [x], { perm: { kind: 'ints', value: perm } });
  }

  /**
   * Un-broadcasts `grad` to the shape of `like`: sums over leading extra axes and over axes where `like` has
   * size 1. Statically decided when shapes allow, otherwise computed in-graph from Shape() at run time.
   */
  sumTo(grad: string, like: string): string {
    const gs = this.shape(grad), xs = this.shape(like);
    if (gs && xs) {
      const lead = gs.length - xs.length;
      let decidable = lead >= 0;
      const axes: number[] = [];
      for (let i = 0; i < lead; i++) axes.push(i);
      if (decidable) for (let i = 0; i < xs.length; i++) {
        const xd = xs[i], gd = gs[i + lead];
        if (xd === 1) { if (gd !== 1) axes.push(i + lead); }
        else if (typeof xd === 'number' || (typeof xd === 'string' && xd === gd)) { /* no broadcast on this axis */ }
        else { decidable = false; break; }
      }
      if (decidable) {
        if (axes.length === 0) return grad;
        let r = this.reduceSum(grad, axes, true);
        if (lead > 0) r = this.squeeze(r, [...Array(lead).keys()]);
        this.info.shapes.set(r, xs);
        return r;
      }
    }
    // Dynamic: pad like's shape with leading ones to grad's rank, reduce every axis where it is 1.
    const sg = this.shapeOf(grad), sx = this.shapeOf(like);
    const d = this.sub(this.shapeOf(sg), this.shapeOf(sx));
    const ones = this.op('ConstantOfShape', [d], { value: T(makeTensor('', DataType.INT64, [1], BigInt64Array.from([1n]))) });
    const padded = this.op('Concat', [ones, sx], { axis: I(0) });
    const axes = this.op('Reshape', [this.op('NonZero', [this.op('Equal', [padded, this.i64([1])])]), this.i64([-1])]);
    const r = this.op('ReduceSum', [grad, axes], { keepdims: I(1), noop_with_empty_axes: I(1) });
    const out = this.op('Reshape', [r, sx]);
    if (xs) this.info.shapes.set(out, xs);
    return out;
  }

  /** Scatter-adds `grad` (shaped like `pick(iota)`) back into zeros shaped like `x`, where iota numbers x's elements. */
  scatterThroughIndexOp(x: string, grad: string, pick: (iota: string) => string, mayRepeat: boolean): string {
    const size = this.op('Size', [x]);
    const iota = this.op('Reshape', [this.op('Range', [this.scalarI64(0), size, this.scalarI64(1)]), this.shapeOf(x)]);
    const picked = pick(iota);
    const zeros = this.op('ConstantOfShape', [this.op('Reshape', [size, this.i64([1])])], { value: T(makeTensor('', DataType.FLOAT, [1], Float32Array.from([0]))) });
    const attrs: Record<string, AttrValue> = mayRepeat ? { reduction: S('add') } : {};
    const flat = this.op('ScatterND', [zeros, this.unsqueeze(picked, [-1]), grad], attrs);
    return this.op('Reshape', [flat, this.shapeOf(x)]);
  }
  scalarI64(v: number): string {
    return this.g.constTensor('c_i64', DataType.INT64, [], BigInt64Array.from([BigInt(v)]));
  }
}
