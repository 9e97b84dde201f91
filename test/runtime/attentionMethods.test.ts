/**
 * The attention methods through the real engine path (explain → runtime attention backend → onnxruntime) on
 * the bundled LM, against the PyTorch reference fixtures and independent computations.
 */
import * as assert from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EngineError } from '../../src/core/engineProtocol';
import { explain } from '../../src/core/explain';
import type { AttributionResult } from '../../src/core/result';
import { Engine } from '../../src/runtime/engine';
import { rowScores, branchItems } from '../../src/core/targets';
import { ensureAttention, loadModel, type LoadedModel } from '../../src/runtime/loadedModel';
import { attentionCacheKey, openAttentionSession } from '../../src/runtime/attentionBackend';
import { bundled, skipUnless } from '../onnx/fixtures';

interface Ref {
  factor: number;
  kappa: number;
  items: { prompt: string; input_ids: number[]; target_token_id: number; log_prob: number; attention: number[][][][]; atman_log_prob: number[]; atman_conceptual_log_prob: number[]; atman_conceptual_factors: number[][] }[];
}

describe('attention methods on the bundled LM', function () {
  let lm: LoadedModel;
  let ref: Ref;
  let cache: string;
  before(async function () {
    const m = skipUnless(this, bundled('promptscope-tiny-lm'), 'bundled LM');
    ref = JSON.parse(fs.readFileSync(path.join(m.dir, 'reference', 'attention.json'), 'utf8')) as Ref;
    cache = fs.mkdtempSync(path.join(os.tmpdir(), 'ps-attn-'));
    lm = await loadModel('promptscope-tiny-lm');
    await ensureAttention(lm, cache);
  });
  after(() => fs.rmSync(cache, { recursive: true, force: true }));

  it('caches the rewritten graph keyed by path, size and mtime, referencing the original weights', async function () {
    const m = bundled('promptscope-tiny-lm')!;
    const entry = path.join(cache, 'attention-graphs', attentionCacheKey(m.onnx));
    const size = fs.statSync(path.join(entry, 'model.onnx')).size;
    assert.ok(size < fs.statSync(m.onnx).size / 20, `cached graph is ${size} bytes: the weights were copied`);
    const again = await openAttentionSession(m.onnx, path.join(cache, 'attention-graphs'));
    assert.strictEqual(again.fromCache, true);
    assert.ok(again.meta.referencedBytes > 9e6);
    await again.session.release();
  });

  it('the cache key follows the model file\'s path, size and modification time, without reading the weights', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ps-key-'));
    const f = path.join(dir, 'model.onnx');
    fs.copyFileSync(bundled('promptscope-tiny-lm')!.onnx, f);
    const k1 = attentionCacheKey(f);
    assert.strictEqual(attentionCacheKey(f), k1);
    fs.utimesSync(f, new Date(), new Date(Date.now() + 5000));
    const k2 = attentionCacheKey(f);
    assert.notStrictEqual(k2, k1, 'a newer file gets a new entry');
    fs.writeFileSync(`${f}.data`, 'x');
    assert.notStrictEqual(attentionCacheKey(f), k2, 'an external data file is part of the key');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('attention probabilities through the backend equal PyTorch\'s (≤ 1e-5)', async () => {
    let worst = 0;
    for (const item of ref.items) {
      const maps = await lm.runner.attention!.attention({ inputIds: item.input_ids });
      for (let l = 0; l < maps.layers; l++) {
        const want = item.attention[l].flat(2);
        maps.probs[l].forEach((v, k) => (worst = Math.max(worst, Math.abs(v - want[k]))));
      }
    }
    assert.ok(worst <= 1e-5, `max abs error ${worst.toExponential(2)}`);
  });

  it('atman equals the PyTorch implementation of the same suppression (≤ 1e-4), plain and conceptual', async () => {
    for (const item of ref.items) {
      for (const conceptual of [undefined, ref.kappa]) {
        const r = await explain({ text: item.prompt, methods: ['atman'], target: { kind: 'token', tokenId: item.target_token_id }, params: { suppression: 1 - ref.factor, conceptual }, maxTokensPerBatch: 24 }, lm);
        const scores = r.runs[0].scores[0];
        const want = (conceptual === undefined ? item.atman_log_prob : item.atman_conceptual_log_prob).map((lp) => item.log_prob - lp);
        assert.strictEqual(scores.length, want.length);
        scores.forEach((v, i) => assert.ok(Math.abs(v - want[i]) <= 1e-4, `${item.prompt} token ${i}${conceptual ? ' (conceptual)' : ''}: ${v} vs ${want[i]}`));
        assert.ok(r.runs[0].diagnostics.forwardPasses >= item.input_ids.length, 'one pass per token');
      }
    }
  });

  it('atman of a contrast (two continuations of different lengths) equals the difference of its two one-sided runs', async () => {
    const text = ref.items[0].prompt;
    const c = await explain({ text, methods: ['atman'], target: { kind: 'contrastive', text: ' Paris and', foil: ' London' }, trust: false }, lm);
    const a = await explain({ text, methods: ['atman'], target: { kind: 'forced', text: ' Paris and' }, trust: false }, lm);
    const b = await explain({ text, methods: ['atman'], target: { kind: 'forced', text: ' London' }, trust: false }, lm);
    const sum = (r: typeof a, i: number) => r.runs[0].scores.reduce((s, row) => s + row[i], 0);
    c.runs[0].scores[0].forEach((v, i) => assert.ok(Math.abs(v - (sum(a, i) - sum(b, i))) < 1e-9, `token ${i}: ${v} vs ${sum(a, i) - sum(b, i)}`));
  });

  it('atman with f = 0 reproduces the unmodified log-probabilities exactly (every score is 0)', async () => {
    const r = await explain({ text: ref.items[2].prompt, methods: ['atman'], target: { kind: 'generate', tokens: 3 }, params: { suppression: 0 } }, lm);
    assert.strictEqual(r.runs[0].scores.length, 3, 'one row per generated token');
    for (const row of r.runs[0].scores) for (const v of row) assert.strictEqual(v, 0);
  });

  it('attention: a chosen layer and head, means over heads and layers, and one row per generated token', async () => {
    const item = ref.items[1];
    const n = item.input_ids.length;
    const pick = await explain({ text: item.prompt, methods: ['attention'], target: { kind: 'next-token' }, params: { layer: 2, head: 1 } }, lm);
    assert.deepStrictEqual(pick.runs[0].scores[0].map((v) => v.toFixed(5)), item.attention[2][1][n - 1].map((v) => v.toFixed(5)));
    const mean = await explain({ text: item.prompt, methods: ['attention'], target: { kind: 'next-token' } }, lm);
    const want = item.input_ids.map((_, j) => item.attention.reduce((s, L) => s + L.reduce((t, H) => t + H[n - 1][j], 0), 0) / 16);
    mean.runs[0].scores[0].forEach((v, j) => assert.ok(Math.abs(v - want[j]) < 1e-5));
    assert.strictEqual(mean.runs[0].attention?.layers, 4);
    const gen = await explain({ text: item.prompt, methods: ['attention'], target: { kind: 'forced', text: ' Paris and the city of Lyon' } }, lm);
    const rows = gen.target.rows.length;
    assert.ok(rows >= 4);
    assert.strictEqual(gen.runs[0].scores.length, rows, 'one row per output token');
    assert.deepStrictEqual(gen.runs[0].attention?.rowQueries, Array.from({ length: rows }, (_, k) => n - 1 + k));
    assert.strictEqual(gen.runs[0].attention?.continuation.length, rows - 1);
    // a later row attends over its own earlier continuation too, so its prompt share is below 1
    assert.ok(gen.runs[0].scores[rows - 1].reduce((s, v) => s + v, 0) < 1 - 1e-3);
    await assert.rejects(explain({ text: item.prompt, methods: ['attention'], target: { kind: 'next-token' }, params: { layer: 9 } }, lm), /4 layers \(0–3\); layer 9 does not exist/);
  });

  it('attention rollout equals the matrix product of PyTorch\'s head-mean attention with the residual', async () => {
    const item = ref.items[0];
    const n = item.input_ids.length;
    const r = await explain({ text: item.prompt, methods: ['attention-rollout'], target: { kind: 'next-token' } }, lm);
    let R: number[][] | undefined;
    for (const L of item.attention) {
      const A = L[0].map((row, q) => row.map((_, k) => 0.5 * L.reduce((s, H) => s + H[q][k], 0) / L.length + (q === k ? 0.5 : 0)));
      const An = A.map((row) => { const s = row.reduce((a, b) => a + b, 0); return row.map((v) => v / s); });
      R = R ? An.map((row) => R![0].map((_, k) => row.reduce((s, v, j) => s + v * R![j][k], 0))) : An;
    }
    r.runs[0].scores[0].forEach((v, j) => assert.ok(Math.abs(v - R![n - 1][j]) < 1e-5, `token ${j}: ${v} vs ${R![n - 1][j]}`));
    assert.ok(Math.abs(r.runs[0].scores[0].reduce((a, b) => a + b, 0) - 1) < 1e-5);
  });

  it('the engine prepares attention on demand, and refuses a classifier with one clear message', async () => {
    const engine = new Engine({ cacheDir: cache });
    const r = (await engine.call({ op: 'explain', request: { text: 'The capital of France is', methods: ['attention-rollout'], target: { kind: 'next-token' }, trust: false } })) as AttributionResult;
    assert.strictEqual(r.runs[0].method, 'attention-rollout');
    assert.strictEqual(r.runs[0].attention?.layers, 4);
    await assert.rejects(
      engine.call({ op: 'explain', request: { text: 'The food was good', model: 'promptscope-tiny-sentiment', methods: ['atman'], target: { kind: 'class' }, trust: false } }),
      (e: Error) => e instanceof EngineError && e.code === 'attention-unsupported' && /classifier/.test(e.message),
    );
  });

  it('suppressed passes with φ = 1 score exactly as the plain runner', async () => {
    const ids = lm.tokenizer.encodePrompt(ref.items[2].prompt).map((t) => t.id);
    const plan = { rows: [{ text: '', tokenId: 5, probability: 0, logProb: 0, score: 0 }], branches: [{ continuation: [7, 9], terms: [0, 1, 2].map((o) => ({ row: 0, offset: o, tokenId: [5, 7, 9][o], weight: 1 })) }] };
    const items = branchItems(plan, ids);
    const a = rowScores(plan, await lm.runner.score(items));
    const b = rowScores(plan, await lm.runner.attention!.scoreSuppressed(items.map((it) => ({ ...it, keyFactors: it.inputIds.map(() => 1) }))));
    assert.deepStrictEqual(a, b);
  });
});
