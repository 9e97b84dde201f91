/**
 * com.microsoft attention fusions → MatMul / Softmax attention in standard ops:
 *   Attention (packed QKV weights, past [2, B, N, P, h] → present), MultiHeadAttention (separate Q/K/V,
 *   optional packed bias, past_key/past_value → present_key/present_value), GroupQueryAttention (K/V heads
 *   shared by groups of query heads, always causal, optional rotary inside).
 * Masks are additive (0 or mask_filter_value), as the fused CPU kernels apply them, so the un-fused graph
 * reproduces their outputs, including the finite filter value.
 */
import { I, Node } from '../graph';
import { DataType } from '../tensorData';
import { applyRotary } from './rotaryUnfuse';
import { UnfuseContext, UnfuseError } from './unfuseContext';

interface CoreArgs {
  /** [B, N, S, h], [B, N, T, h], [B, N, T, hv]. */
  q: string;
  k: string;
  v: string;
  scale: number | undefined;
  causal: boolean;
  /** Boolean "may attend" masks broadcastable to [B, N, S, T]. */
  allowed: string[];
  /** Additive float bias broadcastable to [B, N, S, T]. */
  bias?: string;
  filter: number;
  out: string;
}

/** Splits the last axis into heads and moves heads before the sequence: [B, S, N·h] → [B, N, S, h]. */
export function toHeads(u: UnfuseContext, x: string, numHeads: number): string {
  return u.transpose(u.reshape(x, [0, 0, numHeads, -1]), [0, 2, 1, 3]);
}

/** Inverse of toHeads: [B, N, S, h] → [B, S, N·h]. */
function fromHeads(u: UnfuseContext, x: string, out: string): void {
  u.emitAs(out, 'Reshape', [u.transpose(x, [0, 2, 1, 3]), u.i64([0, 0, -1])]);
}

/** "may attend" for causal attention with a cache: key j is visible to query i iff j ≤ i + (T − S). */
function causalAllowed(u: UnfuseContext, q: string, k: string): string {
  const S = u.op('Squeeze', [u.dim(q, 2), u.i64([0])]);
  const T = u.op('Squeeze', [u.dim(k, 2), u.i64([0])]);
  const i = u.unsqueeze(u.op('Range', [u.scalarI64(0), S, u.scalarI64(1)]), [-1]);
  const j = u.op('Range', [u.scalarI64(0), T, u.scalarI64(1)]);
  return u.op('LessOrEqual', [j, u.add(i, u.sub(T, S))]); // [S, T]
}

/** A key-padding mask in one of the raw formats → boolean broadcastable to [B, N, S, T]. */
export function keyMaskAllowed(u: UnfuseContext, n: Node, mask: string, k: string): string {
  const r = u.rank(mask);
  if (r === 2) return u.unsqueeze(u.toBool(mask), [1, 2]);
  if (r === 3) return u.unsqueeze(u.toBool(mask), [1]);
  if (r === 1) {
    // Right padding given as lengths [B] (the (3B+2) and (2B) variants are not accepted).
    const T = u.op('Squeeze', [u.dim(k, 2), u.i64([0])]);
    const j = u.op('Range', [u.scalarI64(0), T, u.scalarI64(1)]);
    return u.unsqueeze(u.op('Less', [j, u.unsqueeze(u.toInt64(mask), [-1])]), [1, 2]);
  }
  throw new UnfuseError(n, `mask of rank ${r ?? 'unknown'} is not supported (expected [B], [B, T] or [B, S, T]).`);
}

export function attentionCore(u: UnfuseContext, a: CoreArgs): void {
  let scores = u.op('MatMul', [a.q, u.transpose(a.k, [0, 1, 3, 2])]);
  const scale = a.scale !== undefined
    ? u.f32(a.scale)
    : u.op('Reciprocal', [u.op('Sqrt', [u.op('Cast', [u.dim(a.q, 3)], { to: I(DataType.FLOAT) })])]);
  scores = u.mul(scores, scale);
  const allowed = [...a.allowed];
  if (a.causal) allowed.push(causalAllowed(u, a.q, a.k));
  if (allowed.length) {
    const all = allowed.reduce((x, y) => u.op('And', [x, y]));
    const filter = u.g.constTensor('c_f32', DataType.FLOAT, [], Float32Array.from([a.filter]));
    scores = u.add(scores, u.op('Where', [all, u.f32(0), filter]));
  }
  if (a.bias) scores = u.add(scores, a.bias);
  const probs = u.op('Softmax', [scores], { axis: I(-1) });
  fromHeads(u, u.op('MatMul', [probs, a.v]), a.out);
}

function scaleFor(u: UnfuseContext, n: Node, headSize: number | undefined): number | undefined {
  const s = u.attrFloat(n, 'scale', 0);
  if (s) return s;
  return headSize ? 1 / Math.sqrt(headSize) : undefined;
}

export function unfuseAttention(u: UnfuseContext, n: Node, consumers: Map<string, Node[]>): void {
  const [input, weights, bias, maskIndex, past, attnBias, pastSeqLen] = n.inputs;
  const N = u.attrInt(n, 'num_heads', 0);
  if (!N) throw new UnfuseError(n, 'num_heads is missing.');
  if (u.attrInt(n, 'do_rotary', 0)) throw new UnfuseError(n, 'do_rotary=1 is not supported.');
  if (u.attrInt(n, 'past_present_share_buffer', 0) || pastSeqLen) throw new UnfuseError(n, 'a shared past/present buffer is not supported.');
  const wDims = u.g.constantDims(weights);
  let sizes = u.attrInts(n, 'qkv_hidden_sizes');
  if (!sizes) {
    const total = wDims?.[1] ?? u.lastDim(bias ?? '');
    if (total === undefined) throw new UnfuseError(n, 'the packed Q/K/V width is not static.');
    sizes = [total / 3, total / 3, total / 3];
  }
  let qkv = u.op('MatMul', [input, weights]);
  if (bias) qkv = u.add(qkv, bias);
  const [q, k, v] = u.g.add('Split', [qkv, u.i64(sizes)], { axis: I(-1) }, { outputs: 3 });
  let kh = toHeads(u, k, N), vh = toHeads(u, v, N);
  if (past) {
    const [pk, pv] = u.g.add('Split', [past, u.i64([1, 1])], { axis: I(0) }, { outputs: 2 });
    kh = u.op('Concat', [u.op('Squeeze', [pk, u.i64([0])]), kh], { axis: I(2) });
    vh = u.op('Concat', [u.op('Squeeze', [pv, u.i64([0])]), vh], { axis: I(2) });
  }
  if (u.used(n.outputs[1], consumers)) u.emitAs(n.outputs[1], 'Concat', [u.unsqueeze(kh, [0]), u.unsqueeze(vh, [0])], { axis: I(0) });
  const qh = toHeads(u, q, N);
  attentionCore(u, {
    q: qh, k: kh, v: vh,
    scale: scaleFor(u, n, sizes[0] / N),
    causal: u.attrInt(n, 'unidirectional', 0) === 1,
    allowed: maskIndex ? [keyMaskAllowed(u, n, maskIndex, kh)] : [],
    bias: attnBias || undefined,
    filter: u.attrFloat(n, 'mask_filter_value', -10000),
    out: n.outputs[0],
  });
}

export function unfuseMultiHeadAttention(u: UnfuseContext, n: Node, consumers: Map<string, Node[]>): void {
  const [query, key, value, bias, keyPadding, attnBias, pastKey, pastValue, pastSeqLen, cacheInd] = n.inputs;
  const N = u.attrInt(n, 'num_heads', 0);
  if (!N) throw new UnfuseError(n, 'num_heads is missing.');
  if (u.rank(query) !== 3 || !key || !value || u.rank(key) !== 3) throw new UnfuseError(n, 'only separate 3-D query/key/value inputs are supported (not packed QKV/KV or BNSH keys).');
  if (pastSeqLen || cacheInd) throw new UnfuseError(n, 'shared-buffer caches and beam cache indirection are not supported.');
  if (u.used(n.outputs[3], consumers)) throw new UnfuseError(n, 'the qk output is used by the graph.');
  const hidden = u.lastDim(query);
  let q = query, k = key, v = value;
  if (bias) {
    const hv = u.lastDim(value), hk = u.lastDim(key), total = u.lastDim(bias);
    const hq = hidden ?? (total !== undefined ? total / 3 : undefined);
    if (hq === undefined || total === undefined) throw new UnfuseError(n, 'the bias split is not static.');
    const sizes = [hq, hk ?? hq, hv ?? total - hq - (hk ?? hq)];
    const [bq, bk, bv] = u.g.add('Split', [bias, u.i64(sizes)], { axis: I(0) }, { outputs: 3 });
    q = u.add(q, bq); k = u.add(k, bk); v = u.add(v, bv);
  }
  let kh = toHeads(u, k, N), vh = toHeads(u, v, N);
  if (pastKey) kh = u.op('Concat', [pastKey, kh], { axis: I(2) });
  if (pastValue) vh = u.op('Concat', [pastValue, vh], { axis: I(2) });
  if (u.used(n.outputs[1], consumers)) u.emitAs(n.outputs[1], 'Identity', [kh]);
  if (u.used(n.outputs[2], consumers)) u.emitAs(n.outputs[2], 'Identity', [vh]);
  attentionCore(u, {
    q: toHeads(u, q, N), k: kh, v: vh,
    scale: scaleFor(u, n, hidden !== undefined ? hidden / N : undefined),
    causal: u.attrInt(n, 'unidirectional', 0) === 1,
    allowed: keyPadding ? [keyMaskAllowed(u, n, keyPadding, kh)] : [],
    bias: attnBias || undefined,
    filter: u.attrFloat(n, 'mask_filter_value', -10000),
    out: n.outputs[0],
  });
}

/** Repeats each K/V head `groups` times: [B, Nkv, T, h] → [B, Nkv·groups, T, h]. */
function repeatHeads(u: UnfuseContext, x: string, groups: number): string {
  if (groups === 1) return x;
  const shape = u.op('Shape', [x]);
  const head = u.op('Slice', [shape, u.i64([0]), u.i64([2])]), tail = u.op('Slice', [shape, u.i64([2]), u.i64([4])]);
  const expanded = u.op('Expand', [u.unsqueeze(x, [2]), u.op('Concat', [head, u.i64([groups]), tail], { axis: I(0) })]);
  return u.op('Reshape', [expanded, u.op('Concat', [u.dim(x, 0), u.i64([-1]), tail], { axis: I(0) })]);
}

export function unfuseGroupQueryAttention(u: UnfuseContext, n: Node, consumers: Map<string, Node[]>): void {
  const [query, key, value, pastKey, pastValue, seqlensK, , cosCache, sinCache, positionIds, attnBias] = n.inputs;
  const N = u.attrInt(n, 'num_heads', 0), Nkv = u.attrInt(n, 'kv_num_heads', 0);
  if (!N || !Nkv) throw new UnfuseError(n, 'num_heads / kv_num_heads are missing.');
  if (!key || !value) throw new UnfuseError(n, 'packed QKV input is not supported.');
  if (u.attrInt(n, 'local_window_size', -1) !== -1) throw new UnfuseError(n, 'local (sliding-window) attention is not supported.');
  if (u.attrFloat(n, 'softcap', 0) !== 0) throw new UnfuseError(n, 'softcap is not supported.');
  if (n.inputs.length > 11 && n.inputs.slice(11).some(Boolean)) throw new UnfuseError(n, 'head sinks / quantised caches are not supported.');
  const hidden = u.lastDim(query);
  if (hidden === undefined) throw new UnfuseError(n, 'the query width is not static.');
  const h = hidden / N;
  let qh = toHeads(u, query, N), kh = toHeads(u, key, Nkv);
  const vh0 = toHeads(u, value, Nkv);
  // Sequence positions of the new tokens: past length + 0..S-1 (position_ids when given).
  const S = u.op('Squeeze', [u.dim(query, 1), u.i64([0])]);
  const P = pastKey ? u.op('Squeeze', [u.dim(pastKey, 2), u.i64([0])]) : u.scalarI64(0);
  if (u.attrInt(n, 'do_rotary', 0)) {
    if (!cosCache || !sinCache) throw new UnfuseError(n, 'do_rotary=1 without cos/sin caches.');
    const half = u.lastDim(cosCache);
    if (half === undefined) throw new UnfuseError(n, 'the cos cache has no static shape.');
    const positions = positionIds || u.unsqueeze(u.op('Range', [P, u.add(P, S), u.scalarI64(1)]), [0]);
    const args = { headsFirst: true, headSize: h, rotaryDim: 2 * half, interleaved: u.attrInt(n, 'rotary_interleaved', 0) === 1, positions, cosCache, sinCache };
    qh = applyRotary(u, { ...args, x: qh });
    kh = applyRotary(u, { ...args, x: kh });
  }
  let vh = vh0;
  if (pastKey) kh = u.op('Concat', [pastKey, kh], { axis: I(2) });
  if (pastValue) vh = u.op('Concat', [pastValue, vh], { axis: I(2) });
  if (u.used(n.outputs[1], consumers)) u.emitAs(n.outputs[1], 'Identity', [kh]);
  if (u.used(n.outputs[2], consumers)) u.emitAs(n.outputs[2], 'Identity', [vh]);
  // seqlens_k[b] = (valid total length of row b) − 1: key j is valid iff j ≤ seqlens_k[b].
  const allowed: string[] = [];
  if (seqlensK) {
    const T = u.op('Squeeze', [u.dim(kh, 2), u.i64([0])]);
    const j = u.op('Range', [u.scalarI64(0), T, u.scalarI64(1)]);
    allowed.push(u.unsqueeze(u.op('LessOrEqual', [j, u.unsqueeze(u.toInt64(seqlensK), [-1])]), [1, 2]));
  }
  const groups = N / Nkv;
  attentionCore(u, {
    q: qh, k: repeatHeads(u, kh, groups), v: repeatHeads(u, vh, groups),
    scale: u.attrFloat(n, 'scale', 0) || 1 / Math.sqrt(h),
    causal: true,
    allowed,
    bias: attnBias || undefined,
    filter: -3.4028234663852886e38,
    out: n.outputs[0],
  });
}
