/**
 * Best-effort static shape inference with symbolic dims. Batch and sequence sizes are dynamic, so a dim is a
 * number, a symbol (string, e.g. "batch") or null (unknown). Gradient rules use it only to skip work
 * (e.g. no un-broadcast reduction when shapes provably match) and to learn ranks (MatMul transposes);
 * anything unknown falls back to shape computations inside the graph at run time.
 * Small int vectors (shape arithmetic: Shape → Gather → Concat → Reshape) are tracked by value so that
 * Reshape outputs keep their symbolic dims.
 */
import { Graph, Node } from './graph';
import { DataType, dimsOf, readTensor, tensorToNumbers } from './tensorData';

export type Dim = number | string | null;
export type Shape = Dim[];

export interface ShapeInfo {
  shapes: Map<string, Shape>;
  types: Map<string, number>;
  /** Small int vectors (shape arithmetic) known by value, possibly symbolic. */
  values: Map<string, Dim[]>;
}

function registerConstant(name: string, g: Graph, info: ShapeInfo): void {
  const t = g.initializers.get(name);
  if (!t || info.shapes.has(name)) return;
  // Dims and type from the header: reading a weight's data (maybe from disk) only to learn its shape is waste.
  const dims = dimsOf(t);
  const dataType = t.data_type ?? 0;
  info.shapes.set(name, dims);
  info.types.set(name, dataType);
  if ((dataType === DataType.INT64 || dataType === DataType.INT32) && dims.reduce((a, b) => a * b, 1) <= 16) info.values.set(name, tensorToNumbers(t));
}

/**
 * Infers one node appended after `inferShapes` ran (gradient nodes): shapes known here let un-broadcasting
 * be decided statically instead of by a Shape/NonZero/ReduceSum chain at run time.
 */
export function inferNodeShapes(n: Node, g: Graph, info: ShapeInfo): void {
  for (const i of n.inputs) if (i) registerConstant(i, g, info);
  try {
    inferNode(n, g, info.shapes, info.types, info.values);
  } catch {
    /* leave unknown */
  }
}

function bcastDim(a: Dim, b: Dim): Dim {
  if (a === 1) return b;
  if (b === 1) return a;
  if (a === b) return a;
  if (typeof a === 'string' && b === null) return a;
  if (typeof b === 'string' && a === null) return b;
  if (typeof a === 'number') return a;
  if (typeof b === 'number') return b;
  return null;
}

export function broadcastShapes(shapes: (Shape | undefined)[]): Shape | undefined {
  if (shapes.some((s) => !s)) return undefined;
  const r = Math.max(...shapes.map((s) => s!.length));
  const out: Shape = [];
  for (let i = 0; i < r; i++) {
    let d: Dim = 1;
    for (const s of shapes) {
      const k = i - (r - s!.length);
      if (k >= 0) d = bcastDim(d, s![k]);
    }
    out.push(d);
  }
  return out;
}

const normAxis = (a: number, r: number): number => (a < 0 ? a + r : a);

const SAME_SHAPE = new Set([
  'Identity', 'Neg', 'Sqrt', 'Erf', 'Tanh', 'Sigmoid', 'Relu', 'Exp', 'Log', 'Abs', 'Reciprocal', 'Softmax', 'LogSoftmax',
  'Cast', 'Trilu', 'Dropout', 'Not', 'Floor', 'Ceil', 'Sign', 'Round', 'IsNaN', 'Sin', 'Cos', 'LeakyRelu', 'Elu', 'Softplus',
  'HardSigmoid', 'Clip', 'CastLike', 'LayerNormalization', 'Gelu', 'FastGelu', 'SimplifiedLayerNormalization', 'Hardmax',
]);
const BROADCAST = new Set([
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor',
  'Where', 'Max', 'Min', 'Sum', 'Mean', 'Mod', 'BitShift',
]);
const BOOL_OUT = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'Not', 'IsNaN', 'IsInf']);

/**
 * The size of Reshape's -1: (product of input dims) / (product of the other target dims). Symbols are
 * factors ("batch*seq" is a product symbol), so flattening [batch, seq, H] to [-1, H] gives "batch*seq" and
 * unflattening it back to [batch, seq, -1] recovers the exact dims.
 */
function solveMinusOne(input: Dim[], others: Dim[]): Dim {
  const split = (dims: Dim[]): { num: number; syms: string[] } | undefined => {
    let num = 1;
    const syms: string[] = [];
    for (const d of dims) {
      if (d === null) return undefined;
      if (typeof d === 'number') num *= d;
      else syms.push(...d.split('*'));
    }
    return { num, syms };
  };
  const a = split(input), b = split(others);
  if (!a || !b || b.num === 0 || a.num % b.num !== 0) return null;
  const rest = [...a.syms];
  for (const sym of b.syms) {
    const k = rest.indexOf(sym);
    if (k < 0) return null;
    rest.splice(k, 1);
  }
  const num = a.num / b.num;
  if (rest.length === 0) return num;
  return [...(num !== 1 ? [String(num)] : []), ...rest].join('*');
}

export function inferShapes(g: Graph): ShapeInfo {
  const shapes = new Map<string, Shape>();
  const types = new Map<string, number>();
  const values = new Map<string, Dim[]>(); // small int vectors / scalars by value
  const info: ShapeInfo = { shapes, types, values };
  for (const name of g.initializers.keys()) registerConstant(name, g, info);
  for (const i of g.inputs) {
    if (i.dims) shapes.set(i.name, i.dims.map((d) => (d === undefined ? null : d)));
    types.set(i.name, i.elemType);
  }
  const hint = (name: string): void => {
    if (shapes.has(name)) return;
    const v = g.valueInfo.get(name);
    if (v?.dims) shapes.set(name, v.dims.map((d) => (d === undefined ? null : d)));
  };

  for (const n of g.nodes) {
    try {
      inferNode(n, g, shapes, types, values);
    } catch {
      /* leave unknown */
    }
    for (const o of n.outputs) {
      hint(o);
      if (!types.has(o)) {
        const v = g.valueInfo.get(o);
        if (v?.elemType) types.set(o, v.elemType);
      }
    }
  }
  return info;
}

/** Equal of small int vectors by value, as 1/0; a symbol (a size, never negative) differs from a negative number. */
function equalValues(a: Dim[] | undefined, b: Dim[] | undefined): Dim[] | undefined {
  if (!a || !b || (a.length !== b.length && b.length !== 1)) return undefined;
  const out: Dim[] = [];
  for (let i = 0; i < a.length; i++) {
    const x = a[i], y = b.length === 1 ? b[0] : b[i];
    if (typeof x === 'number' && typeof y === 'number') out.push(x === y ? 1 : 0);
    else if (x !== null && x === y) out.push(1);
    else if ((typeof x === 'string' && typeof y === 'number' && y < 0) || (typeof y === 'string' && typeof x === 'number' && x < 0)) out.push(0);
    else return undefined;
  }
  return out;
}

/** Where over small int vectors by value (the condition as 1/0). */
function whereValues(c: Dim[] | undefined, x: Dim[] | undefined, y: Dim[] | undefined): Dim[] | undefined {
  if (!c || !x || !y || c.some((d) => d !== 0 && d !== 1)) return undefined;
  const len = Math.max(c.length, x.length, y.length);
  if ([c, x, y].some((v) => v.length !== len && v.length !== 1)) return undefined;
  const at = (v: Dim[], i: number): Dim => (v.length === 1 ? v[0] : v[i]);
  return Array.from({ length: len }, (_, i) => (at(c, i) ? at(x, i) : at(y, i)));
}

function inferNode(n: Node, g: Graph, shapes: Map<string, Shape>, types: Map<string, number>, values: Map<string, Dim[]>): void {
  const s = (i: number): Shape | undefined => (n.inputs[i] ? shapes.get(n.inputs[i]) : undefined);
  const val = (i: number): Dim[] | undefined => (n.inputs[i] ? values.get(n.inputs[i]) : undefined);
  const ai = (k: string, d: number): number => (n.attrs[k]?.kind === 'int' ? (n.attrs[k].value as number) : d);
  const ais = (k: string): number[] | undefined => (n.attrs[k]?.kind === 'ints' ? (n.attrs[k].value as number[]) : undefined);
  const known = (i: number): number[] | undefined => {
    const v = n.inputs[i] ? values.get(n.inputs[i]) : undefined;
    return v?.every((d) => typeof d === 'number') ? (v as number[]) : undefined;
  };
  // Constants, or small int vectors known by value (a slice start computed from a shape, as RoPE exports do).
  const constNums = (i: number): number[] | undefined => (n.inputs[i] ? g.constantNumbers(n.inputs[i]) ?? known(i) : undefined);
  const set = (shape: Shape | undefined, type?: number, k = 0): void => {
    if (shape) shapes.set(n.outputs[k], shape);
    if (type) types.set(n.outputs[k], type);
  };
  const t0 = types.get(n.inputs[0]);
  const op = n.domain === '' || n.domain === 'ai.onnx' ? n.opType : `${n.domain}:${n.opType}`;
  const intVals = (o: Dim[] | undefined): void => { if (o) values.set(n.outputs[0], o); };

  if (SAME_SHAPE.has(op)) {
    const type = op === 'Cast' ? ai('to', 0) : BOOL_OUT.has(op) ? DataType.BOOL : op === 'CastLike' ? types.get(n.inputs[1]) : t0;
    set(s(0), type);
    if (op === 'Cast' || op === 'Identity') intVals(val(0));
    return;
  }
  if (BROADCAST.has(op)) {
    const ins = op === 'Where' ? [s(0), s(1), s(2)] : n.inputs.map((_, i) => s(i));
    set(broadcastShapes(ins), BOOL_OUT.has(op) ? DataType.BOOL : op === 'Where' ? types.get(n.inputs[1]) : t0);
    const a = val(0), b = val(1);
    if (op === 'Equal' || op === 'Where') { intVals(op === 'Equal' ? equalValues(a, b) : whereValues(a, b, val(2))); return; }
    if (a && b && (op === 'Add' || op === 'Sub' || op === 'Mul' || op === 'Div') && (a.length === b.length || a.length === 1 || b.length === 1) && [...a, ...b].every((x) => typeof x === 'number')) {
      const f = { Add: (x: number, y: number) => x + y, Sub: (x: number, y: number) => x - y, Mul: (x: number, y: number) => x * y, Div: (x: number, y: number) => Math.trunc(x / y) }[op];
      const len = Math.max(a.length, b.length), at = (v: Dim[], i: number): number => (v.length === 1 ? v[0] : v[i]) as number;
      intVals(Array.from({ length: len }, (_, i) => f(at(a, i), at(b, i))));
    }
    return;
  }
  switch (op) {
    case 'Constant': {
      const t = g.constantValue(n.outputs[0]);
      if (t) {
        const v = readTensor(t);
        set(v.dims, v.dataType);
        if ((v.dataType === DataType.INT64 || v.dataType === DataType.INT32) && v.data.length <= 16) intVals(tensorToNumbers(t));
      }
      return;
    }
    case 'Shape': {
      const x = s(0);
      if (!x) return;
      const r = x.length;
      const start = normAxis(ai('start', 0), r), end = n.attrs.end ? normAxis(ai('end', r), r) : r;
      const dims = x.slice(Math.max(0, start), Math.min(r, end));
      set([dims.length], DataType.INT64);
      intVals(dims);
      return;
    }
    case 'Size': set([], DataType.INT64); return;
    case 'Gather': {
      const x = s(0), idx = s(1);
      if (!x || !idx) return;
      const axis = normAxis(ai('axis', 0), x.length);
      set([...x.slice(0, axis), ...idx, ...x.slice(axis + 1)], t0);
      const v = val(0), iv = constNums(1);
      if (v && iv && axis === 0) intVals(iv.map((k) => v[k < 0 ? k + v.length : k]));
      return;
    }
    case 'Unsqueeze': {
      const x = s(0);
      const axes = ais('axes') ?? constNums(1);
      if (!x || !axes) return;
      const r = x.length + axes.length;
      const ax = new Set(axes.map((a) => normAxis(a, r)));
      const out: Shape = [];
      let k = 0;
      for (let i = 0; i < r; i++) out.push(ax.has(i) ? 1 : x[k++]);
      set(out, t0);
      intVals(val(0));
      return;
    }
    case 'Squeeze': {
      const x = s(0);
      if (!x) return;
      const axes = ais('axes') ?? constNums(1);
      const ax = axes ? new Set(axes.map((a) => normAxis(a, x.length))) : new Set(x.map((d, i) => (d === 1 ? i : -1)));
      set(x.filter((_, i) => !ax.has(i)), t0);
      intVals(val(0));
      return;
    }
    case 'Concat': {
      const ins = n.inputs.map((_, i) => s(i));
      if (ins.some((x) => !x)) return;
      const r = ins[0]!.length;
      const axis = normAxis(ai('axis', 0), r);
      const out = [...ins[0]!];
      let d: Dim = 0;
      // Sizes add up; an empty part (an empty KV cache) leaves a symbolic size unchanged.
      const parts = ins.map((x) => x![axis]).filter((p) => p !== 0);
      if (parts.length === 1) d = parts[0];
      else for (const p of parts) d = typeof d === 'number' && typeof p === 'number' ? d + p : null;
      out[axis] = d;
      set(out, t0);
      const vs = n.inputs.map((_, i) => val(i));
      if (r === 1 && vs.every((v) => v)) intVals(vs.flatMap((v) => v!));
      return;
    }
    case 'Reshape': {
      const x = s(0);
      const target = constNums(1)?.map((d) => d as Dim) ?? val(1);
      if (target) {
        const out = target.map((d, i) => (d === 0 && !(ai('allowzero', 0)) ? (x ? x[i] : null) : d === -1 ? null : d));
        if (x && out.filter((d) => d === null).length === 1 && target.filter((d) => d === -1).length === 1) {
          out[out.indexOf(null)] = solveMinusOne(x, out.filter((d) => d !== null));
        }
        set(out, t0);
      } else {
        const sl = s(1);
        if (sl && typeof sl[0] === 'number') set(Array(sl[0]).fill(null), t0);
      }
      intVals(val(0));
      return;
    }
    case 'Flatten': {
      const x = s(0);
      if (!x) return;
      const axis = normAxis(ai('axis', 1), x.length);
      const prod = (a: Dim[]): Dim => (a.every((d) => typeof d === 'number') ? (a as number[]).reduce((p, q) => p * q, 1) : a.length === 1 ? a[0] : null);
      set([prod(x.slice(0, axis)), prod(x.slice(axis))], t0);
      return;
    }
    case 'Transpose': {
      const x = s(0);
      if (!x) return;
      const perm = ais('perm') ?? x.map((_, i) => x.length - 1 - i);
      set(perm.map((p) => x[p]), t0);
      return;
    }
    case 'MatMul': {
      const a = s(0), b = s(1);
      if (!a || !b) return;
      const a2 = a.length === 1 ? [1, a[0]] : a, b2 = b.length === 1 ? [b[0], 1] : b;
      const batch = broadcastShapes([a2.slice(0, -2), b2.slice(0, -2)])!;
      const out = [...batch, a2[a2.length - 2], b2[b2.length - 1]];
      if (a.length === 1) out.splice(out.length - 2, 1);
      if (b.length === 1) out.splice(out.length - 1, 1);
      set(out, t0);
      return;
    }
    case 'com.microsoft:FusedMatMul': {
      const a = s(0), b = s(1);
      if (!a || !b || a.length < 2 || b.length < 2) return;
      const swap = (x: Shape, t: number): Shape => (t ? [...x.slice(0, -2), x[x.length - 1], x[x.length - 2]] : x);
      const a2 = swap(a, ai('transA', 0)), b2 = swap(b, ai('transB', 0));
      set([...broadcastShapes([a2.slice(0, -2), b2.slice(0, -2)])!, a2[a2.length - 2], b2[b2.length - 1]], t0);
      return;
    }
    case 'Gemm': {
      const a = s(0), b = s(1);
      if (!a || !b) return;
      set([ai('transA', 0) ? a[1] : a[0], ai('transB', 0) ? b[0] : b[1]], t0);
      return;
    }
    case 'ReduceMean': case 'ReduceSum': case 'ReduceMax': case 'ReduceMin': case 'ReduceProd': case 'ReduceL2': case 'ReduceSumSquare': case 'ArgMax': case 'ArgMin': {
      const x = s(0);
      if (!x) return;
      const axes = op.startsWith('Arg') ? [ai('axis', 0)] : ais('axes') ?? constNums(1);
      const keep = ai('keepdims', 1);
      const ax = axes && axes.length ? new Set(axes.map((a) => normAxis(a, x.length))) : (ai('noop_with_empty_axes', 0) ? new Set<number>() : new Set(x.map((_, i) => i)));
      set(keep ? x.map((d, i) => (ax.has(i) ? 1 : d)) : x.filter((_, i) => !ax.has(i)), op.startsWith('Arg') ? DataType.INT64 : t0);
      return;
    }
    case 'Slice': {
      const x = s(0);
      if (!x) return;
      const starts = ais('starts') ?? constNums(1), ends = ais('ends') ?? constNums(2);
      const axes = ais('axes') ?? (n.inputs[3] ? constNums(3) : x.map((_, i) => i));
      const steps = n.inputs[4] ? constNums(4) : undefined;
      const out = [...x];
      if (!axes) { set(x.map(() => null), t0); return; }
      axes.forEach((a, k) => {
        const ax = normAxis(a, x.length);
        const d = x[ax];
        const st = starts?.[k], en = ends?.[k], step = steps?.[k] ?? 1;
        if (typeof d === 'number' && st !== undefined && en !== undefined && step > 0) {
          const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + d : v, 0), d);
          out[ax] = Math.max(0, Math.ceil((clamp(en) - clamp(st)) / step));
        } else if (st === 0 && en !== undefined && en >= 2 ** 31 && step === 1) out[ax] = d;
        else out[ax] = null;
      });
      set(out, t0);
      const v = val(0);
      if (v && x.length === 1 && starts && ends && (steps?.[0] ?? 1) === 1) {
        const L = v.length, cl = (q: number): number => Math.min(Math.max(q < 0 ? q + L : q, 0), L);
        intVals(v.slice(cl(starts[0]), cl(ends[0])));
      }
      return;
    }
    case 'Split': {
      const x = s(0);
      if (!x) return;
      const axis = normAxis(ai('axis', 0), x.length);
      const sizes = ais('split') ?? (n.inputs[1] ? constNums(1) : undefined);
      n.outputs.forEach((_, k) => {
        const out = [...x];
        out[axis] = sizes ? sizes[k] : typeof x[axis] === 'number' ? (x[axis] as number) / n.outputs.length : null;
        set(out, t0, k);
      });
      return;
    }
    case 'Expand': {
      const x = s(0);
      const target = val(1) ?? constNums(1);
      if (x && target) set(broadcastShapes([x, target.map((d) => (d === -1 ? null : d))]), t0);
      else if (x && s(1) && typeof s(1)![0] === 'number') set(Array(Math.max(x.length, s(1)![0] as number)).fill(null), t0);
      return;
    }
    case 'Tile': {
      const x = s(0);
      const reps = constNums(1);
      if (x) set(x.map((d, i) => (reps && typeof d === 'number' ? d * reps[i] : reps && reps[i] === 1 ? d : null)), t0);
      return;
    }
    case 'ConstantOfShape': {
      const v = val(0);
      const sl = s(0);
      const vt = n.attrs.value?.kind === 'tensor' ? n.attrs.value.value.data_type : DataType.FLOAT;
      if (v) set(v, vt);
      else if (sl && typeof sl[0] === 'number') set(Array(sl[0]).fill(null), vt);
      // A small int vector of one value (exports build "ones like this shape" so): known by value.
      if (v?.length === 1 && typeof v[0] === 'number' && v[0] <= 16 && n.attrs.value?.kind === 'tensor' && (vt === DataType.INT64 || vt === DataType.INT32)) {
        intVals(new Array<Dim>(v[0]).fill(tensorToNumbers(n.attrs.value.value)[0]));
      }
      return;
    }
    case 'Range': {
      // Range(0, n, 1) has length n: keeps symbolic sequence lengths through position/mask arithmetic.
      const [st, lim, dl] = [val(0), val(1), val(2)];
      set([st?.[0] === 0 && dl?.[0] === 1 && lim?.length === 1 ? lim[0] : null], t0);
      return;
    }
    case 'NonZero': set([s(0)?.length ?? null, null], DataType.INT64); return;
    case 'GatherElements': set(s(1), t0); return;
    case 'ScatterND': case 'ScatterElements': set(s(0), t0); return;
    case 'Pad': {
      const x = s(0);
      if (x) set(x.map(() => null), t0);
      return;
    }
    case 'Einsum': return;
    default:
      if (n.domain !== '' && SAME_SHAPE.has(n.opType)) set(s(0), t0);
  }
}
