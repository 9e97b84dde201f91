/**
 * Vector–Jacobian product rules, one per ONNX op (default domain, opset ≥ 17 semantics). A rule receives the
 * upstream gradients of the node's outputs (undefined = zero) and which inputs need a gradient, and returns
 * one gradient name (or undefined) per input. Every rule is checked against finite differences in
 * test/onnx/vjpRules.test.ts.
 */
import { Node, I, Is } from './graph';
import { GradContext } from './gradContext';
import { DataType, isFloatType } from './tensorData';
import { NORMALIZATION_RULES } from './normalizationRules';
import { sliceAsPad } from './sliceBackward';
import { FUSED_MATMUL, MS_DOMAIN, fusedMatMul, fusedMatMulRule } from './fusedMatMul';
import type { VjpRule } from './vjpRule';

export type { VjpRule } from './vjpRule';

const attrInt = (n: Node, k: string, d: number): number => (n.attrs[k]?.kind === 'int' ? (n.attrs[k].value as number) : d);
const attrInts = (n: Node, k: string): number[] | undefined => (n.attrs[k]?.kind === 'ints' ? (n.attrs[k].value as number[]) : undefined);
const attrFloat = (n: Node, k: string, d: number): number => (n.attrs[k]?.kind === 'float' ? (n.attrs[k].value as number) : d);

/** Outputs of these ops carry no gradient (integer/boolean results, or piecewise-constant functions). */
export const NON_DIFFERENTIABLE_OPS = new Set([
  'Shape', 'Size', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor', 'ArgMax',
  'ArgMin', 'NonZero', 'ConstantOfShape', 'Range', 'EyeLike', 'IsNaN', 'IsInf', 'Sign', 'Floor', 'Ceil', 'Round',
  'OneHot', 'Constant', 'RandomNormalLike', 'RandomUniformLike', 'Bernoulli', 'Hardmax', 'TopK_indices',
]);

function unaryFromY(f: (c: GradContext, g: string, x: string, y: string) => string): VjpRule {
  return (c, n, gy) => (gy[0] ? [f(c, gy[0], n.inputs[0], n.outputs[0])] : []);
}

const reshapeBack: VjpRule = (c, n, gy) => (gy[0] ? [c.reshapeLike(gy[0], n.inputs[0])] : []);

function reduceAxes(c: GradContext, n: Node): number[] | string | undefined {
  const a = attrInts(n, 'axes');
  if (a) return a;
  if (n.inputs[1]) return c.g.constantNumbers(n.inputs[1]) ?? n.inputs[1];
  return undefined;
}

function expandReduced(c: GradContext, n: Node, g: string): string {
  const axes = reduceAxes(c, n);
  const keep = attrInt(n, 'keepdims', 1);
  const emptyAxes = axes === undefined || (Array.isArray(axes) && axes.length === 0);
  if (emptyAxes && attrInt(n, 'noop_with_empty_axes', 0)) return g;
  const g1 = keep || emptyAxes ? g : c.unsqueeze(g, axes!);
  return c.expandLike(g1, n.inputs[0]);
}

function matmulGrads(c: GradContext, a: string, b: string, g: string, needs: boolean[]): (string | undefined)[] {
  const ra = c.rank(a), rb = c.rank(b);
  if (ra === undefined || rb === undefined) throw new Error(`MatMul gradient needs operand ranks (unknown for ${a} or ${b}).`);
  let ga: string | undefined, gb: string | undefined;
  if (rb === 1 && ra === 1) {
    if (needs[0]) ga = c.mul(g, b);
    if (needs[1]) gb = c.mul(g, a);
  } else if (rb === 1) {
    const gu = c.unsqueeze(g, [-1]);
    if (needs[0]) ga = c.sumTo(c.mul(gu, b), a);
    if (needs[1]) gb = c.sumTo(c.mul(a, gu), b);
  } else if (ra === 1) {
    const gu = c.unsqueeze(g, [-2]);
    if (needs[0]) ga = c.sumTo(c.reduceSum(c.mul(b, gu), [-1], false), a);
    if (needs[1]) gb = c.sumTo(c.mul(c.unsqueeze(a, [-1]), gu), b);
  } else {
    const bShape = c.shape(b);
    const cols = rb === 2 ? bShape?.[1] : undefined;
    if (needs[0] && typeof cols === 'number') {
      // g @ bᵀ for a matrix b (every weight of a linear layer) with the transpose inside the product, as Gemm(transB)
      // or, for a batch of sequences, FusedMatMul(transB) (no reshapes to and from 2-D): a Transpose of a weight would
      // be constant-folded by onnxruntime into a transposed copy of every weight matrix.
      ga = c.sameShape(ra === 2 ? c.op('Gemm', [g, b], { transB: I(1) }) : fusedMatMul(c, g, b, false, true), a);
    } else if (needs[0]) {
      // g · bᵀ and aᵀ · g with the transposes inside the product (fusedMatMul.ts).
      const t = fusedMatMul(c, g, b, false, true);
      c.info.shapes.set(t, matmulShape(c, g, b, true));
      ga = c.sumTo(t, a);
    }
    if (needs[1]) {
      const t = fusedMatMul(c, a, g, true, false);
      c.info.shapes.set(t, matmulShape(c, a, g, false));
      gb = c.sumTo(t, b);
    }
  }
  return [ga, gb];
}

/** Static shape of g @ bᵀ (bTransposed) or aᵀ @ g, for sumTo's static path; unknown dims become null. */
function matmulShape(c: GradContext, left: string, right: string, rightT: boolean): (number | string | null)[] {
  const l = c.shape(left) ?? [], r = c.shape(right) ?? [];
  const batchL = rightT ? l.slice(0, -2) : l.slice(0, -2), batchR = r.slice(0, -2);
  const n = Math.max(batchL.length, batchR.length);
  const batch: (number | string | null)[] = [];
  for (let i = 0; i < n; i++) {
    const x = batchL[i - (n - batchL.length)] ?? 1, y = batchR[i - (n - batchR.length)] ?? 1;
    batch.push(x === 1 ? y : y === 1 ? x : x === y ? x : typeof x === 'string' ? x : y);
  }
  if (rightT) return [...batch, l[l.length - 2], r[r.length - 2]];
  return [...batch, l[l.length - 1], r[r.length - 1]];
}

export const VJP_RULES: Record<string, VjpRule> = {
  Identity: (_c, _n, gy) => [gy[0]],
  Dropout: (_c, _n, gy) => [gy[0]],
  Neg: unaryFromY((c, g) => c.neg(g)),
  Add: (c, n, gy, needs) => [needs[0] ? c.sumTo(gy[0]!, n.inputs[0]) : undefined, needs[1] ? c.sumTo(gy[0]!, n.inputs[1]) : undefined],
  Sum: (c, n, gy, needs) => n.inputs.map((x, i) => (needs[i] ? c.sumTo(gy[0]!, x) : undefined)),
  Sub: (c, n, gy, needs) => [needs[0] ? c.sumTo(gy[0]!, n.inputs[0]) : undefined, needs[1] ? c.sumTo(c.neg(gy[0]!), n.inputs[1]) : undefined],
  Mul: (c, n, gy, needs) => {
    const [a, b] = n.inputs;
    return [needs[0] ? c.sumTo(c.mul(gy[0]!, b), a) : undefined, needs[1] ? c.sumTo(c.mul(gy[0]!, a), b) : undefined];
  },
  Div: (c, n, gy, needs) => {
    const [a, b] = n.inputs;
    return [
      needs[0] ? c.sumTo(c.div(gy[0]!, b), a) : undefined,
      needs[1] ? c.sumTo(c.neg(c.div(c.mul(gy[0]!, n.outputs[0]), b)), b) : undefined,
    ];
  },
  Pow: (c, n, gy, needs) => {
    const [a, b] = n.inputs;
    let ga: string | undefined, gb: string | undefined;
    if (needs[0]) {
      const bc = c.g.constantNumbers(b);
      const bf = c.info.types.get(b) === DataType.FLOAT ? b : c.op('Cast', [b], { to: I(DataType.FLOAT) });
      const local = bc && bc.length === 1
        ? (bc[0] === 2 ? c.mul(a, c.f32(2)) : bc[0] === 3 ? c.mul(c.mul(a, a), c.f32(3)) : c.mul(c.f32(bc[0]), c.op('Pow', [a, c.f32(bc[0] - 1)])))
        : c.mul(bf, c.op('Pow', [a, c.sub(bf, c.f32(1))]));
      ga = c.sumTo(c.mul(gy[0]!, local), a);
    }
    if (needs[1]) gb = c.sumTo(c.mul(gy[0]!, c.mul(n.outputs[0], c.op('Log', [a]))), b);
    return [ga, gb];
  },
  Sqrt: unaryFromY((c, g, _x, y) => c.div(c.mul(g, c.f32(0.5)), y)),
  Erf: unaryFromY((c, g, x) => c.mul(g, c.mul(c.f32(2 / Math.sqrt(Math.PI)), c.op('Exp', [c.neg(c.mul(x, x))])))),
  Tanh: unaryFromY((c, g, _x, y) => c.mul(g, c.sub(c.f32(1), c.mul(y, y)))),
  Sigmoid: unaryFromY((c, g, _x, y) => c.mul(g, c.mul(y, c.sub(c.f32(1), y)))),
  Relu: unaryFromY((c, g, x) => c.mul(g, c.op('Cast', [c.op('Greater', [x, c.f32(0)])], { to: I(DataType.FLOAT) }))),
  LeakyRelu: (c, n, gy) => [c.op('Where', [c.op('Greater', [n.inputs[0], c.f32(0)]), gy[0]!, c.mul(gy[0]!, c.f32(attrFloat(n, 'alpha', 0.01)))])],
  Exp: unaryFromY((c, g, _x, y) => c.mul(g, y)),
  Log: unaryFromY((c, g, x) => c.div(g, x)),
  Reciprocal: unaryFromY((c, g, _x, y) => c.neg(c.mul(g, c.mul(y, y)))),
  Abs: unaryFromY((c, g, x) => c.mul(g, c.op('Sign', [x]))),
  Sin: unaryFromY((c, g, x) => c.mul(g, c.op('Cos', [x]))),
  Cos: unaryFromY((c, g, x) => c.neg(c.mul(g, c.op('Sin', [x])))),
  Softplus: unaryFromY((c, g, x) => c.mul(g, c.op('Sigmoid', [x]))),
  Clip: (c, n, gy) => {
    if (!gy[0]) return [];
    let mask = c.onesLike(n.inputs[0]);
    const x = n.inputs[0];
    if (n.inputs[1]) mask = c.mul(mask, c.op('Cast', [c.op('GreaterOrEqual', [x, n.inputs[1]])], { to: I(DataType.FLOAT) }));
    if (n.inputs[2]) mask = c.mul(mask, c.op('Cast', [c.op('LessOrEqual', [x, n.inputs[2]])], { to: I(DataType.FLOAT) }));
    return [c.mul(gy[0], mask)];
  },
  Cast: (c, n, gy) => {
    if (!gy[0]) return [];
    const from = c.info.types.get(n.inputs[0]);
    if (from !== undefined && !isFloatType(from)) return [];
    return [from === undefined || from === DataType.FLOAT ? gy[0] : c.op('Cast', [gy[0]], { to: I(from) })];
  },
  Softmax: (c, n, gy) => {
    const y = n.outputs[0], axis = attrInt(n, 'axis', -1);
    return [c.mul(y, c.sub(gy[0]!, c.reduceSum(c.mul(gy[0]!, y), [axis], true)))];
  },
  LogSoftmax: (c, n, gy) => {
    const y = n.outputs[0], axis = attrInt(n, 'axis', -1);
    return [c.sub(gy[0]!, c.mul(c.op('Exp', [y]), c.reduceSum(gy[0]!, [axis], true)))];
  },
  ReduceSum: (c, n, gy) => [expandReduced(c, n, gy[0]!)],
  ReduceMean: (c, n, gy) => {
    const e = expandReduced(c, n, gy[0]!);
    const toF = (s: string): string => c.op('Cast', [s], { to: I(DataType.FLOAT) });
    const xs = c.shape(n.inputs[0]), ys = c.shape(n.outputs[0]);
    const static_ = xs && ys && staticRatio(xs, ys);
    const count = static_ ? c.f32(static_) : c.div(toF(c.op('Size', [n.inputs[0]])), toF(c.op('Size', [n.outputs[0]])));
    return [c.div(e, count)];
  },
  MatMul: (c, n, gy, needs) => matmulGrads(c, n.inputs[0], n.inputs[1], gy[0]!, needs),
  Gemm: (c, n, gy, needs) => {
    const [a, b, cc] = n.inputs;
    const g = gy[0]!;
    const alpha = attrFloat(n, 'alpha', 1), beta = attrFloat(n, 'beta', 1);
    const tA = attrInt(n, 'transA', 0), tB = attrInt(n, 'transB', 0);
    const T = (x: string): string => c.op('Transpose', [x], { perm: Is([1, 0]) });
    const scale = (x: string, s: number): string => (s === 1 ? x : c.mul(x, c.f32(s)));
    const ga = needs[0] ? scale(tA ? c.op('MatMul', [tB ? T(b) : b, T(g)]) : (tB ? c.op('MatMul', [g, b]) : c.op('Gemm', [g, b], { transB: I(1) })), alpha) : undefined;
    const gb = needs[1] ? scale(tB ? c.op('MatMul', [T(g), tA ? T(a) : a]) : c.op('MatMul', [tA ? a : T(a), g]), alpha) : undefined;
    const gc = needs[2] && cc ? c.sumTo(scale(g, beta), cc) : undefined;
    return [ga, gb, gc];
  },
  Reshape: reshapeBack,
  Flatten: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,
  Transpose: (c, n, gy) => {
    const r = c.rank(n.inputs[0]);
    const perm = attrInts(n, 'perm') ?? (r !== undefined ? [...Array(r).keys()].reverse() : undefined);
    if (!perm) throw new Error('Transpose without perm on a tensor of unknown rank.');
    const inv = new Array<number>(perm.length);
    perm.forEach((p, i) => (inv[p] = i));
    return [c.op('Transpose', [gy[0]!], { perm: Is(inv) })];
  },
  Expand: (c, n, gy) => [c.sumTo(gy[0]!, n.inputs[0])],
  Concat: (c, n, gy, needs) => {
    const axis = attrInt(n, 'axis', 0);
    const parts = concatByStaticSizes(c, n, gy[0]!, axis, needs);
    if (parts) return parts;
    const sizes = c.op('Concat', n.inputs.map((x) => c.op('Gather', [c.shapeOf(x), c.i64([axis])])), { axis: I(0) });
    return c.g.add('Split', [gy[0]!, sizes], { axis: I(axis) }, { outputs: n.inputs.length });
  },
  Split: (c, n, gy) => {
    const parts = n.outputs.map((o, i) => gy[i] ?? c.zerosLike(o));
    return [c.op('Concat', parts, { axis: I(attrInt(n, 'axis', 0)) })];
  },
  Slice: (c, n, gy) => [sliceAsPad(c, n, gy[0]!) ?? c.scatterThroughIndexOp(n.inputs[0], gy[0]!, (iota) => c.op('Slice', [iota, ...n.inputs.slice(1)]), false)],
  Gather: (c, n, gy, needs) => {
    if (!needs[0]) return [];
    const idxRank = c.rank(n.inputs[1]);
    const axis = attrInt(n, 'axis', 0);
    return [c.scatterThroughIndexOp(n.inputs[0], gy[0]!, (iota) => c.op('Gather', [iota, n.inputs[1]], { axis: I(axis) }), idxRank !== 0)];
  },
  GatherElements: (c, n, gy, needs) => {
    if (!needs[0]) return [];
    return [c.scatterThroughIndexOp(n.inputs[0], gy[0]!, (iota) => c.op('GatherElements', [iota, n.inputs[1]], { axis: I(attrInt(n, 'axis', 0)) }), true)];
  },
  Tile: (c, n, gy, needs) => {
    if (!needs[0]) return [];
    return [c.scatterThroughIndexOp(n.inputs[0], gy[0]!, (iota) => c.op('Tile', [iota, n.inputs[1]]), true)];
  },
  Where: (c, n, gy, needs) => {
    const [cond, a, b] = n.inputs;
    const zero = c.f32(0);
    return [
      undefined,
      needs[1] ? c.sumTo(c.op('Where', [cond, gy[0]!, zero]), a) : undefined,
      needs[2] ? c.sumTo(c.op('Where', [cond, zero, gy[0]!]), b) : undefined,
    ];
  },
  Trilu: (c, n, gy) => [c.op('Trilu', n.inputs[1] ? [gy[0]!, n.inputs[1]] : [gy[0]!], { upper: I(attrInt(n, 'upper', 1)) })],
  Max: (c, n, gy, needs) => minMax(c, n, gy[0]!, needs),
  Min: (c, n, gy, needs) => minMax(c, n, gy[0]!, needs),
  ...NORMALIZATION_RULES,
  [`${MS_DOMAIN}:${FUSED_MATMUL}`]: fusedMatMulRule,
};

/** Size of x ÷ size of y (a reduction's count) when the dims that differ are numbers; undefined otherwise. */
function staticRatio(xs: (number | string | null)[], ys: (number | string | null)[]): number | undefined {
  const rest = [...ys];
  let num = 1, den = 1;
  for (const d of xs) {
    const k = rest.indexOf(d);
    if (d !== null && k >= 0) { rest.splice(k, 1); continue; }
    if (typeof d !== 'number') return undefined;
    num *= d;
  }
  for (const d of rest) {
    if (typeof d !== 'number') return undefined;
    den *= d;
  }
  return num / den;
}

/**
 * Concat's gradient by static sizes: one Split by constant sizes when every part's size on the axis is a number, else
 * a Slice per part that needs one where the sizes before it are numbers (the last part runs to the end; a first part
 * after empty ones is the gradient itself); undefined when neither holds.
 */
function concatByStaticSizes(c: GradContext, n: Node, g: string, axis: number, needs: boolean[]): (string | undefined)[] | undefined {
  const r = c.rank(n.inputs[0]);
  if (r === undefined) return undefined;
  const ax = axis < 0 ? axis + r : axis;
  const sizes = n.inputs.map((x) => c.shape(x)?.[ax] ?? null);
  if (sizes.every((d) => typeof d === 'number')) {
    if (sizes.filter((d) => d !== 0).length === 1) return n.inputs.map((_, i) => (needs[i] && sizes[i] !== 0 ? g : undefined));
    return c.g.add('Split', [g, c.i64(sizes as number[])], { axis: I(axis) }, { outputs: n.inputs.length });
  }
  const out: (string | undefined)[] = [];
  let start = 0;
  for (let i = 0; i < n.inputs.length; i++) {
    const d = sizes[i], last = i === n.inputs.length - 1;
    if (needs[i]) {
      if (start === 0 && (last || sizes.slice(i + 1).every((s) => s === 0))) out.push(g);
      else if (typeof d === 'number' || last) out.push(c.op('Slice', [g, c.i64([start]), c.i64([typeof d === 'number' ? start + d : 2 ** 62]), c.i64([ax])]));
      else return undefined;
    } else out.push(undefined);
    if (typeof d !== 'number') {
      if (!last && n.inputs.slice(i + 1).some((_, k) => needs[i + 1 + k])) return undefined;
      break;
    }
    start += d;
  }
  return out;
}

/** Max/Min: the gradient goes to the input(s) equal to the result (ties share it fully, as PyTorch does for 2 inputs). */
function minMax(c: GradContext, n: Node, g: string, needs: boolean[]): (string | undefined)[] {
  return n.inputs.map((x, i) => {
    if (!needs[i]) return undefined;
    const mask = c.op('Cast', [c.op('Equal', [x, n.outputs[0]])], { to: I(DataType.FLOAT) });
    return c.sumTo(c.mul(g, mask), x);
  });
}

/** Which inputs of an op can carry a gradient (others are indices, shapes, conditions). */
export function differentiableInputs(n: Node): (i: number) => boolean {
  switch (n.opType) {
    case 'Reshape': case 'Expand': case 'Tile': case 'Squeeze': case 'Unsqueeze': case 'Slice': case 'Gather': case 'GatherElements':
    case 'Dropout': case 'ReduceSum': case 'ReduceMean': case 'Trilu':
      return (i) => i === 0;
    case 'Where': return (i) => i > 0;
    case 'Split': return (i) => i === 0;
    case 'Clip': return (i) => i === 0;
    default: return () => true;
  }
}
