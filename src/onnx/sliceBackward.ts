/**
 * Gradient of a unit-step Slice as a Pad of the incoming gradient with zeros: a few shape nodes instead of an iota
 * of the input's size scattered into zeros (Size, Range, Slice, ScatterND and their reshapes). Applies when the
 * steps are 1 and, on every sliced axis, either the start is a constant ≥ 0 or the slice runs to the end (a
 * constant end ≥ 2^31, as exports write "to the end"); the RoPE halves of Llama-like models are both kinds.
 * Returns undefined otherwise, and the caller scatters.
 */
import type { Node } from './graph';
import type { GradContext } from './gradContext';

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
