/**
 * The weight-free skeleton: derived graphs built from it reference the original file's weights, load in
 * onnxruntime, and compute exactly what the same graphs built from the fully decoded model compute.
 */
import * as assert from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadModel } from '../../src/onnx/modelFile';
import { readModelSkeleton } from '../../src/onnx/modelSkeleton';
import { LOGIT_ROWS_INPUT, ROW_LOGITS_OUTPUT, selectLogitRows } from '../../src/onnx/logitRows';
import { buildGradientModel } from '../../src/onnx/gradientModel';
import { encodeModel } from '../../src/onnx/onnxProto';
import { readTensor } from '../../src/onnx/tensorData';
import { createGradientBackend } from '../../src/runtime/gradientBackend';
import { sessionOptions } from '../../src/runtime/sessionOptions';
import { bundled, realExport, skipUnless } from './fixtures';

const i64 = (v: number[], dims: number[]): ort.Tensor => new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), dims);

function lmFeeds(session: ort.InferenceSession, ids: number[], heads: number, headDim: number, type: 'float32' | 'float16' = 'float32'): Record<string, ort.Tensor> {
  const n = ids.length;
  const f: Record<string, ort.Tensor> = { input_ids: i64(ids, [1, n]) };
  for (const name of session.inputNames) {
    if (name === 'attention_mask') f[name] = i64(ids.map(() => 1), [1, n]);
    if (name === 'position_ids') f[name] = i64(ids.map((_, i) => i), [1, n]);
    if (name.startsWith('past_key_values')) f[name] = new ort.Tensor(type, type === 'float16' ? new Uint16Array(0) : new Float32Array(0), [1, heads, 0, headDim]);
  }
  return f;
}

describe('model skeleton (weights stay in the model file)', function () {
  this.timeout(120000);

  it('skips every large initializer and reads it back byte for byte on demand', function () {
    const b = skipUnless(this, bundled('promptscope-tiny-lm'), 'models/promptscope-tiny-lm');
    const sk = readModelSkeleton(b.onnx);
    const full = loadModel(b.onnx);
    const size = fs.statSync(b.onnx).size;
    assert.ok(sk.model.graph!.initializer!.some((t) => t.data_location === 1), 'no initializer became external');
    const encoded = encodeModel(sk.model).length;
    assert.ok(encoded < 0.1 * size, `skeleton is ${encoded} bytes of a ${size}-byte model`);
    const byName = new Map(full.graph!.initializer!.map((t) => [t.name, t]));
    for (const t of sk.model.graph!.initializer!) {
      const a = readTensor(t), e = readTensor(byName.get(t.name)!);
      assert.deepStrictEqual(a.dims, e.dims);
      assert.deepStrictEqual(Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength), Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength), t.name);
    }
  });

  it('changes its key when the file is touched, not when it is only read again', function () {
    const b = skipUnless(this, bundled('promptscope-tiny-lm'), 'models/promptscope-tiny-lm');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ps-skel-'));
    try {
      const copy = path.join(dir, 'model.onnx');
      fs.copyFileSync(b.onnx, copy);
      const k1 = readModelSkeleton(copy).key;
      assert.strictEqual(readModelSkeleton(copy).key, k1);
      const later = new Date(Date.now() + 5000);
      fs.utimesSync(copy, later, later);
      assert.notStrictEqual(readModelSkeleton(copy).key, k1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('logit-row variant from the skeleton equals the original logits rows', async function () {
    const b = skipUnless(this, bundled('promptscope-tiny-lm'), 'models/promptscope-tiny-lm');
    const sk = readModelSkeleton(b.onnx);
    const rows = await ort.InferenceSession.create(encodeModel(selectLogitRows(sk.model)!), sessionOptions({ weightsDir: sk.dir }));
    const original = await ort.InferenceSession.create(b.onnx);
    const ids = [271, 305, 279, 1129, 264, 17];
    const full = (await original.run(lmFeeds(original, ids, 4, 48), ['logits'])).logits;
    const part = (await rows.run({ ...lmFeeds(rows, ids, 4, 48), [LOGIT_ROWS_INPUT]: i64([5, 2], [1, 2]) }, [ROW_LOGITS_OUTPUT]))[ROW_LOGITS_OUTPUT];
    const V = full.dims[2];
    const a = full.data as Float32Array, p = part.data as Float32Array;
    let d = 0;
    [5, 2].forEach((pos, j) => { for (let v = 0; v < V; v++) d = Math.max(d, Math.abs(a[pos * V + v] - p[j * V + v])); });
    assert.ok(d < 1e-4, `max difference ${d}`);
  });

  it('gradient graph from the skeleton (external fp16 weights) equals the one from the decoded model', async function () {
    const onnx = skipUnless(this, realExport('genai-tiny-random-llama-fp16/model.onnx'), 'the genai fp16 Llama export');
    const sk = readModelSkeleton(onnx);
    const fromSkeleton = buildGradientModel(sk.model, { kind: 'causal-lm' });
    const fromFull = buildGradientModel(loadModel(onnx), { kind: 'causal-lm' });
    assert.deepStrictEqual(Array.from(fromSkeleton.embedding.slice(0, 64)), Array.from(fromFull.embedding.slice(0, 64)));
    const s1 = await ort.InferenceSession.create(fromSkeleton.bytes, sessionOptions({ weightsDir: sk.dir }));
    const s2 = await ort.InferenceSession.create(fromFull.bytes);
    const ids = [5, 9, 13, 2];
    const h = fromFull.hiddenSize;
    const emb = new Float32Array(ids.length * h);
    ids.forEach((id, i) => emb.set(fromFull.embedding.subarray(id * h, (id + 1) * h), i * h));
    const feeds: Record<string, ort.Tensor> = {};
    for (const inp of fromFull.inputs) {
      if (inp.name === 'inputs_embeds') feeds[inp.name] = new ort.Tensor('float32', emb, [1, ids.length, h]);
      else if (inp.name === 'target_ids') feeds[inp.name] = i64([7], [1, 1]);
      else if (inp.name === 'target_positions') feeds[inp.name] = i64([3], [1, 1]);
      else if (inp.name === 'target_weights') feeds[inp.name] = new ort.Tensor('float32', Float32Array.from([1]), [1, 1]);
      else if (inp.name === 'attention_mask') feeds[inp.name] = i64(ids.map(() => 1), [1, ids.length]);
      else if (inp.name === 'position_ids') feeds[inp.name] = i64(ids.map((_, i) => i), [1, ids.length]);
      else if (inp.name === 'input_ids') feeds[inp.name] = i64(ids, [1, ids.length]);
    }
    const r1 = await s1.run(feeds), r2 = await s2.run(feeds);
    assert.deepStrictEqual(Array.from(r1.score.data as Float32Array), Array.from(r2.score.data as Float32Array));
    assert.deepStrictEqual(Array.from(r1.inputs_embeds_grad.data as Float32Array), Array.from(r2.inputs_embeds_grad.data as Float32Array));
  });

  it('caches a gradient graph that is a small fraction of the model and no embedding copy', async function () {
    const b = skipUnless(this, bundled('promptscope-tiny-lm'), 'models/promptscope-tiny-lm');
    const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ps-skelcache-'));
    try {
      const backend = await createGradientBackend(b.dir, b.onnx, { kind: 'causal-lm', cacheDir });
      const files = fs.readdirSync(cacheDir);
      assert.ok(!files.some((f) => f.endsWith('.f32')), `embedding copied: ${files.join(', ')}`);
      const bytes = files.reduce((s, f) => s + fs.statSync(path.join(cacheDir, f)).size, 0);
      // The tiny model's graph is large relative to its 4 M weights; on real models it is under 1 %.
      assert.ok(bytes < 0.35 * fs.statSync(b.onnx).size, `cache holds ${bytes} bytes`);
      const again = await createGradientBackend(b.dir, b.onnx, { kind: 'causal-lm', cacheDir });
      assert.deepStrictEqual(Array.from(again.embeddingMatrix.slice(0, 100)), Array.from(backend.embeddingMatrix.slice(0, 100)));
    } finally {
      fs.rmSync(cacheDir, { recursive: true, force: true });
    }
  });
});
