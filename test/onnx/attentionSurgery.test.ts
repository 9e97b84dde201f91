/**
 * Attention surgery (src/onnx/attention): the exposed probabilities against PyTorch (bundled LM) and against
 * an independent softmax of the Q and Kᵀ read out of the same graph (real fused exports); the key-factor input
 * leaves every output bit-identical at φ = 1; the other outputs equal the original graph's.
 */
import * as assert from 'node:assert';
import * as fs from 'node:fs';
import * as ort from 'onnxruntime-node';
import { Graph } from '../../src/onnx/graph';
import { loadModel } from '../../src/onnx/modelFile';
import { encodeModel } from '../../src/onnx/onnxProto';
import { DataType } from '../../src/onnx/tensorData';
import { KEY_FACTORS_INPUT, attentionKtOutput, attentionProbsOutput, attentionQOutput, buildAttentionGraph } from '../../src/onnx/attention/attentionModel';
import { bundled, realExport, skipUnless } from './fixtures';

interface AttentionRef { items: { input_ids: number[]; attention: number[][][][] }[] }

/** Feeds for a batch of right-padded rows (mask 0 on padding), past length 0, φ = `factors` (default 1). */
function feeds(g: Graph, rows: number[][], masks: number[][], factors?: number[][]): Record<string, ort.Tensor> {
  const B = rows.length, S = rows[0].length;
  const out: Record<string, ort.Tensor> = {};
  const ints = (type: number, v: number[][]): ort.Tensor => {
    const flat = v.flat();
    return type === DataType.INT32 ? new ort.Tensor('int32', Int32Array.from(flat), [B, v[0].length]) : new ort.Tensor('int64', BigInt64Array.from(flat.map(BigInt)), [B, v[0].length]);
  };
  for (const inp of g.inputs) {
    if (inp.name === 'input_ids') out[inp.name] = ints(inp.elemType, rows);
    else if (inp.name === 'attention_mask') out[inp.name] = ints(inp.elemType, masks);
    else if (inp.name === 'position_ids') out[inp.name] = ints(inp.elemType, rows.map((r) => r.map((_, i) => i)));
    else if (inp.name === KEY_FACTORS_INPUT) out[inp.name] = new ort.Tensor('float32', Float32Array.from((factors ?? rows.map((r) => r.map(() => 1))).flat()), [B, S]);
    else {
      // past: the batch axis is the one named like a batch, the past axis the other symbolic one (length 0)
      const dims = (inp.dims ?? []).map((d) => (typeof d === 'number' ? d : /batch/.test(String(d)) ? B : 0));
      out[inp.name] = inp.elemType === DataType.FLOAT16 ? new ort.Tensor('float16', new Uint16Array(0), dims) : new ort.Tensor('float32', new Float32Array(0), dims);
    }
  }
  return out;
}

const toF32 = (t: ort.Tensor): Float32Array => {
  if (t.type === 'float32') return t.data as Float32Array;
  const h = t.data as Uint16Array;
  return Float32Array.from(h, (x) => {
    const s = x & 0x8000 ? -1 : 1, e = (x >> 10) & 0x1f, m = x & 0x3ff;
    return e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15);
  });
};

function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.strictEqual(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Rows sum to 1 and keys a query may not see (future, or mask 0) get exactly 0. */
function checkRows(p: Float32Array, dims: readonly number[], masks: number[][]): void {
  const [B, H, S, T] = dims;
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < S; i++) {
    let sum = 0;
    for (let j = 0; j < T; j++) {
      const v = p[((b * H + h) * S + i) * T + j];
      sum += v;
      if (j > i || masks[b][j] === 0) assert.strictEqual(v, 0, `masked key ${j} of query ${i} (batch ${b}, head ${h}) has probability ${v}`);
    }
    assert.ok(Math.abs(sum - 1) < 1e-5, `row ${i} sums to ${sum}`);
  }
}

describe('attention surgery', function () {
  it('bundled LM: probabilities equal the PyTorch model\'s (max abs error ≤ 1e-5), rows sum to 1, future keys are 0', async function () {
    const m = skipUnless(this, bundled('promptscope-tiny-lm'), 'bundled LM');
    const refPath = m.dir + '/reference/attention.json';
    const ref = JSON.parse(fs.readFileSync(skipUnless(this, fs.existsSync(refPath) ? refPath : undefined, 'attention reference'), 'utf8')) as AttentionRef;
    const a = buildAttentionGraph(loadModel(m.onnx));
    assert.strictEqual(a.layers, 4);
    const s = await ort.InferenceSession.create(encodeModel(a.graph.toModelProto()));
    let worst = 0;
    for (const item of ref.items) {
      const ids = item.input_ids;
      const out = await s.run(feeds(a.graph, [ids], [ids.map(() => 1)]));
      for (let l = 0; l < a.layers; l++) {
        const t = out[attentionProbsOutput(l)];
        assert.deepStrictEqual(t.dims, [1, 4, ids.length, ids.length]);
        worst = Math.max(worst, maxDiff(t.data as Float32Array, Float32Array.from(item.attention[l].flat(2))));
        checkRows(t.data as Float32Array, t.dims, [ids.map(() => 1)]);
      }
    }
    assert.ok(worst <= 1e-5, `max abs error ${worst.toExponential(2)}`);
  });

  it('bundled LM: with φ = 1 every original output is bit-identical; φ = 0.1 on one key changes only later positions', async function () {
    const m = skipUnless(this, bundled('promptscope-tiny-lm'), 'bundled LM');
    const proto = loadModel(m.onnx);
    const a = buildAttentionGraph(proto);
    const orig = await ort.InferenceSession.create(m.onnx);
    const rew = await ort.InferenceSession.create(encodeModel(a.graph.toModelProto()));
    const rows = [[464, 3139, 286, 481, 318, 12], [17, 99, 3000, 5, 4095, 4095]];
    const masks = [[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]];
    const f = feeds(a.graph, rows, masks);
    const { [KEY_FACTORS_INPUT]: _k, ...plain } = f;
    const o1 = await orig.run(plain);
    const o2 = await rew.run(f);
    for (const name of orig.outputNames) assert.strictEqual(maxDiff(o1[name].data as Float32Array, o2[name].data as Float32Array), 0, `${name} differs`);
    // Suppressing key 3: positions 0..2 keep their logits exactly, position 3 onwards changes.
    const sup = await rew.run(feeds(a.graph, rows, masks, rows.map((r) => r.map((_, j) => (j === 3 ? 0.1 : 1)))));
    const V = o1.logits.dims[2], L1 = o1.logits.data as Float32Array, L2 = sup.logits.data as Float32Array;
    const rowDiff = (t: number) => maxDiff(L1.subarray(t * V, (t + 1) * V), L2.subarray(t * V, (t + 1) * V));
    for (const t of [0, 1, 2]) assert.strictEqual(rowDiff(t), 0, `position ${t} changed`);
    for (const t of [3, 4, 5]) assert.ok(rowDiff(t) > 1e-4, `position ${t} did not change`);
  });

  const fixtures: [string, string, number][] = [
    // [title, fixture path, tolerance of the other outputs against the original fused graph]
    ['onnxruntime-genai fused GPT-2 (com.microsoft Attention)', 'genai-tiny-random-gpt2-fused/past.onnx', 1e-5],
    // fp16 fused kernels vs fp32 un-fused attention: 2e-3 of the largest magnitude (as the un-fusing tests)
    ['onnxruntime-genai fp16 Llama (com.microsoft MultiHeadAttention)', 'genai-tiny-random-llama-fp16/model.onnx', 2e-3],
  ];
  for (const [title, rel, tol] of fixtures) {
    it(`${title}: probabilities equal an independent softmax of the graph's own Q·Kᵀ, rows sum to 1, masked keys are 0`, async function () {
      const p = skipUnless(this, realExport(rel), rel);
      const model = loadModel(p);
      const g0 = Graph.fromModelProto(model);
      const fused = g0.nodes.filter((n) => n.domain === 'com.microsoft' && /Attention$/.test(n.opType));
      const a = buildAttentionGraph(model, { exposeQK: true });
      assert.strictEqual(a.layers, fused.length, 'one attention per fused node');
      assert.strictEqual(a.unfused, fused.length);
      const s = await ort.InferenceSession.create(encodeModel(a.graph.toModelProto()));
      const rows = [[5, 17, 300, 2, 999, 42], [8, 1, 250, 77, 0, 0]];
      const masks = [[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]];
      const out = await s.run(feeds(a.graph, rows, masks));
      let worst = 0;
      for (let l = 0; l < a.layers; l++) {
        const probs = out[attentionProbsOutput(l)], q = out[attentionQOutput(l)], kt = out[attentionKtOutput(l)];
        const [B, H, S, h] = q.dims, T = kt.dims[3];
        assert.deepStrictEqual(probs.dims, [B, H, S, T]);
        checkRows(probs.data as Float32Array, probs.dims, masks);
        const attr = fused[l].attrs.scale;
        const scale = attr?.kind === 'float' && attr.value ? attr.value : 1 / Math.sqrt(h);
        const Q = q.data as Float32Array, K = kt.data as Float32Array, P = probs.data as Float32Array;
        for (let b = 0; b < B; b++) for (let hd = 0; hd < H; hd++) for (let i = 0; i < S; i++) {
          const z: number[] = [];
          for (let j = 0; j < T; j++) {
            if (j > i || masks[b][j] === 0) { z.push(-Infinity); continue; }
            let d = 0;
            for (let c = 0; c < h; c++) d += Q[((b * H + hd) * S + i) * h + c] * K[((b * H + hd) * h + c) * T + j];
            z.push(d * scale);
          }
          const mx = Math.max(...z), e = z.map((x) => Math.exp(x - mx)), sum = e.reduce((x, y) => x + y, 0);
          for (let j = 0; j < T; j++) worst = Math.max(worst, Math.abs(e[j] / sum - P[((b * H + hd) * S + i) * T + j]));
        }
      }
      assert.ok(worst <= 1e-5, `max abs error ${worst.toExponential(2)}`);
      // The other outputs equal the original fused graph's.
      const orig = await ort.InferenceSession.create(p);
      const { [KEY_FACTORS_INPUT]: _k, ...plain } = feeds(a.graph, rows, masks);
      const o = await orig.run(plain);
      for (const name of orig.outputNames) {
        const x = toF32(o[name]), y = toF32(out[name]);
        const mx = x.reduce((m, v) => Math.max(m, Math.abs(v)), 1);
        assert.ok(maxDiff(x, y) <= tol * mx, `${name}: ${maxDiff(x, y).toExponential(2)} of ${mx}`);
      }
    });
  }

  it('com.microsoft GroupQueryAttention (2 query heads per K/V head): probabilities equal a softmax of the graph\'s Q·Kᵀ; the output equals the fused kernel\'s', async () => {
    const g = new Graph();
    g.opsets.set('', 17);
    g.opsets.set('com.microsoft', 1);
    let seed = 11;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
    const feedsOf: Record<string, ort.Tensor> = {};
    for (const [name, dims] of [['q', [1, 3, 64]], ['k', [1, 3, 32]], ['v', [1, 3, 32]]] as [string, number[]][]) {
      g.inputs.push({ name, elemType: DataType.FLOAT, dims: [...dims] });
      feedsOf[name] = new ort.Tensor('float32', Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, rand), [...dims]);
    }
    g.initializers.set('seqlens', { name: 'seqlens', data_type: DataType.INT32, dims: [1], raw_data: new Uint8Array(Int32Array.from([2]).buffer) });
    g.initializers.set('total', { name: 'total', data_type: DataType.INT32, dims: [], raw_data: new Uint8Array(Int32Array.from([3]).buffer) });
    g.add('GroupQueryAttention', ['q', 'k', 'v', '', '', 'seqlens', 'total'], { num_heads: { kind: 'int', value: 4 }, kv_num_heads: { kind: 'int', value: 2 } }, { outputs: ['y', 'pk', 'pv'], domain: 'com.microsoft' });
    // The softmax must feed a MatMul with V: make the graph's output the attention output.
    g.outputs = [{ name: 'y', elemType: DataType.FLOAT, dims: [1, 3, 64] }];
    const proto = g.toModelProto();
    const a = buildAttentionGraph(proto, { exposeQK: true });
    assert.strictEqual(a.layers, 1);
    const s = await ort.InferenceSession.create(encodeModel(a.graph.toModelProto()));
    const out = await s.run({ ...feedsOf, [KEY_FACTORS_INPUT]: new ort.Tensor('float32', Float32Array.from([1, 1, 1]), [1, 3]) });
    const probs = out[attentionProbsOutput(0)], q = out[attentionQOutput(0)], kt = out[attentionKtOutput(0)];
    assert.deepStrictEqual(probs.dims, [1, 4, 3, 3]);
    checkRows(probs.data as Float32Array, probs.dims, [[1, 1, 1]]);
    const Q = q.data as Float32Array, K = kt.data as Float32Array, P = probs.data as Float32Array;
    let worst = 0;
    for (let hd = 0; hd < 4; hd++) for (let i = 0; i < 3; i++) {
      const z = [0, 1, 2].map((j) => {
        if (j > i) return -Infinity;
        let d = 0;
        for (let c = 0; c < 16; c++) d += Q[(hd * 3 + i) * 16 + c] * K[(hd * 16 + c) * 3 + j];
        return d / 4;
      });
      const mx = Math.max(...z), e = z.map((x) => Math.exp(x - mx)), sum = e.reduce((x, y) => x + y, 0);
      for (let j = 0; j < 3; j++) worst = Math.max(worst, Math.abs(e[j] / sum - P[(hd * 3 + i) * 3 + j]));
    }
    assert.ok(worst <= 1e-6, `max abs error ${worst.toExponential(2)}`);
    // query heads 0 and 1 share K/V head 0: their keys are the same
    assert.deepStrictEqual(Array.from(K.subarray(0, 48)), Array.from(K.subarray(48, 96)));
    const fused = await (await ort.InferenceSession.create(encodeModel(proto))).run(feedsOf);
    assert.ok(maxDiff(fused.y.data as Float32Array, out.y.data as Float32Array) <= 1e-5);
  });

  it('refuses a graph without attention, saying what it looked for', () => {
    const g = new Graph();
    g.inputs = [{ name: 'x', elemType: DataType.FLOAT, dims: [2, 3] }];
    g.outputs = [{ name: g.op('Softmax', ['x'], { axis: { kind: 'int', value: -1 } }), elemType: DataType.FLOAT, dims: [2, 3] }];
    assert.throws(() => buildAttentionGraph(g.toModelProto()), /No self-attention softmax/);
  });
});
