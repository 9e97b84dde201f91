/**
 * com.microsoft RotaryEmbedding → Gather of the cos/sin caches by position + elementwise rotation.
 * Input [B, S, H] (heads packed) or [B, N, S, h]. The rotated part is the first `rotary_embedding_dim`
 * channels of each head (default: all); pairs are (i, i + d/2) or, with interleaved=1, (2i, 2i + 1).
 * Split/Concat (not Slice) so the backward pass is a Concat/Split, not a scatter.
 */
import { I, Node } from '../graph';
import { UnfuseContext, UnfuseError } from './unfuseContext';

export interface RotaryArgs {
  /** [B, N, S, h] (heads-first) or [B, S, N, h] (sequence-first). */
  x: string;
  headsFirst: boolean;
  headSize: number;
  rotaryDim: number;
  interleaved: boolean;
  /** int64 [B or 1, S] absolute positions. */
  positions: string;
  cosCache: string;
  sinCache: string;
}

/** Rotates a rank-4 tensor; returns the new value name. */
export function applyRotary(u: UnfuseContext, a: RotaryArgs): string {
  const half = a.rotaryDim / 2;
  // cos/sin: [B, S, half] → broadcastable over the head axis.
  const pick = (cache: string): string => u.unsqueeze(u.op('Gather', [cache, a.positions], { axis: I(0) }), [a.headsFirst ? 1 : 2]);
  const cos = pick(a.cosCache), sin = pick(a.sinCache);
  const rotatePart = (r: string): string => {
    if (!a.interleaved) {
      const [x1, x2] = u.g.add('Split', [r, u.i64([half, half])], { axis: I(-1) }, { outputs: 2 });
      const y1 = u.sub(u.mul(x1, cos), u.mul(x2, sin));
      const y2 = u.add(u.mul(x2, cos), u.mul(x1, sin));
      return u.op('Concat', [y1, y2], { axis: I(-1) });
    }
    const pairs = u.reshape(r, [0, 0, 0, half, 2]);
    const [x1, x2] = u.g.add('Split', [pairs, u.i64([1, 1])], { axis: I(-1) }, { outputs: 2 });
    const c = u.unsqueeze(cos, [-1]), s = u.unsqueeze(sin, [-1]);
    const y1 = u.sub(u.mul(x1, c), u.mul(x2, s));
    const y2 = u.add(u.mul(x2, c), u.mul(x1, s));
    return u.reshape(u.op('Concat', [y1, y2], { axis: I(-1) }), [0, 0, 0, a.rotaryDim]);
  };
  if (a.rotaryDim === a.headSize) return rotatePart(a.x);
  const [rot, pass] = u.g.add('Split', [a.x, u.i64([a.rotaryDim, a.headSize - a.rotaryDim])], { axis: I(-1) }, { outputs: 2 });
  return u.op('Concat', [rotatePart(rot), pass], { axis: I(-1) });
}

/** position_ids of shape [B, S], or [1] meaning "start offset": positions = start + 0..S-1. */
export function positionsFor(u: UnfuseContext, positionIds: string, seqOf: string, seqAxis: number): string {
  if (u.rank(positionIds) !== 1) return positionIds;
  const s = u.op('Squeeze', [u.dim(seqOf, seqAxis), u.i64([0])]);
  const start = u.op('Squeeze', [positionIds, u.i64([0])]);
  return u.unsqueeze(u.op('Range', [start, u.add(start, s), u.scalarI64(1)]), [0]);
}

export function unfuseRotaryEmbedding(u: UnfuseContext, n: Node): void {
  const [x, positionIds, cosCache, sinCache] = n.inputs;
  if (u.attrInt(n, 'is_packed_batching', 0)) throw new UnfuseError(n, 'packed (ragged) batching is not supported.');
  if (u.attrFloat(n, 'scale', 1) !== 1) throw new UnfuseError(n, 'a custom scale is not supported.');
  const cacheHalf = u.lastDim(cosCache);
  if (cacheHalf === undefined) throw new UnfuseError(n, 'the cos cache has no static shape.');
  const rank = u.rank(x);
  if (rank !== 3 && rank !== 4) throw new UnfuseError(n, 'the input rank is not known to be 3 or 4.');
  const numHeads = u.attrInt(n, 'num_heads', 0);
  let rotaryDim = u.attrInt(n, 'rotary_embedding_dim', 0);
  let headSize: number;
  if (rank === 4) headSize = u.lastDim(x) ?? 2 * cacheHalf;
  else if (numHeads > 0) {
    const hidden = u.lastDim(x);
    if (hidden === undefined) throw new UnfuseError(n, 'the hidden size is not static.');
    headSize = hidden / numHeads;
  } else headSize = 2 * cacheHalf;
  if (!rotaryDim) rotaryDim = headSize;
  if (rotaryDim / 2 !== cacheHalf) throw new UnfuseError(n, `rotary dim ${rotaryDim} does not match the cache width ${cacheHalf}.`);
  const x4 = rank === 4 ? x : u.reshape(x, [0, 0, -1, headSize]);
  const positions = positionsFor(u, positionIds, x, rank === 4 ? 2 : 1);
  const y = applyRotary(u, { x: x4, headsFirst: rank === 4, headSize, rotaryDim, interleaved: u.attrInt(n, 'interleaved', 0) === 1, positions, cosCache, sinCache });
  if (rank === 4) u.emitAs(n.outputs[0], 'Identity', [y]);
  else u.emitAs(n.outputs[0], 'Reshape', [y, u.i64([0, 0, -1])]);
}
