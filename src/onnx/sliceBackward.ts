/**
 * Gradient of a unit-step Slice as a Pad of the incoming gradient with zeros: a few shape nodes instead of an iota
 * of the input's size scattered into zeros (Size, Range, Slice, ScatterND and their reshapes). Applies when the
 * steps are 1 and, on every sliced axis, either the start is a constant ≥ 0 or the slice runs to the end (a
 * constant end ≥ 2^31, as exports write "to the end"); the RoPE halves of Llama-like models are both kinds.
 * Returns undefined otherwise, and the caller scatters.
 */
import type { Node } from './graph';
import type { GradContext } from './gradContext';
import type { Shape } from './shapeInference';

const TO_END = 2 ** 31 - 1;

export function sliceAsPad(c: GradContext, n: Node, gy: string): string | undefined {
  const x = n.inputs[0];
  const r = c.rank(x);
  if (r === undefined || c.g.opset < 11 || n.inputs.length < 3) return undefined;
  const [, startsName, endsName, axesName, stepsName] = n.inputs;
  const starts = c.g.constantNumbers(startsName), ends = c.g.constantNumbers(endsName);
  const k = (starts ?? ends)?.length;
  if (k === undefined) return undefined;
  const axes = axesName ? c.g.constantNumbers(axesName) : [...Array(k).keys()];
  const steps = stepsName ? c.g.constantNumbers(stepsName) : undefined;
  if (!axes || axes.length !== k || (stepsName && (!steps || steps.some((s) => s !== 1)))) return undefined;
  const fromStart = starts !== undefined && starts.length === k && starts.every((s) => s >= 0);
  const toEnd = ends !== undefined && ends.length === k && ends.every((e) => e >= TO_END);
  if (!fromStart && !toEnd) return undefined;
  const pads = staticPads(c.shape(x), c.shape(gy), r, axes, fromStart ? starts! : undefined);
  if (pads) return c.op('Pad', [gy, c.i64(pads)], { mode: { kind: 'string', value: 'constant' } });
  // total[a] = x's size on axis a - the slice's: the zeros to put back around the gradient on that axis.
  const total = c.sub(c.shapeOf(x), c.shapeOf(gy));
  let begin: string, end: string;
  if (fromStart) {
    const b = new Array<number>(r).fill(0);
    axes.forEach((a, i) => (b[a < 0 ? a + r : a] = starts![i]));
    // A start beyond the axis gives an empty slice: its zeros all go before it.
    begin = c.op('Min', [c.i64(b), c.shapeOf(x)]);
    end = c.sub(total, begin);
  } else {
    begin = total;
    end = c.i64(new Array<number>(r).fill(0));
  }
  return c.op('Pad', [gy, c.op('Concat', [begin, end], { axis: { kind: 'int', value: 0 } })], { mode: { kind: 'string', value: 'constant' } });
}

/** The pads as constants when the sliced axes' sizes are numbers and the other axes keep their dims. */
function staticPads(xs: Shape | undefined, gs: Shape | undefined, r: number, axes: number[], starts: number[] | undefined): number[] | undefined {
  if (!xs || !gs || xs.length !== r || gs.length !== r) return undefined;
  const begin = new Array<number>(r).fill(0), end = new Array<number>(r).fill(0);
  const sliced = new Set(axes.map((a) => (a < 0 ? a + r : a)));
  for (let a = 0; a < r; a++) {
    const xd = xs[a], gd = gs[a];
    if (!sliced.has(a)) {
      if (xd === null || xd !== gd) return undefined;
      continue;
    }
    if (typeof xd !== 'number' || typeof gd !== 'number') return undefined;
    const total = xd - gd;
    const k = axes.findIndex((b) => (b < 0 ? b + r : b) === a);
    begin[a] = starts ? Math.min(starts[k], xd) : total;
    end[a] = total - begin[a];
    if (end[a] < 0) return undefined;
  }
  return [...begin, ...end];
}
