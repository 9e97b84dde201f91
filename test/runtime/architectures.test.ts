/**
 * The decoder architectures users bring — Llama (GQA, RoPE, RMSNorm, SwiGLU), Qwen2 (q/k/v biases), Phi-3 (fused
 * qkv and gate_up), Gemma (scaled embeddings, GeGLU) — as seeded random-weight models with real tokenizers
 * (models/build/arch_models.py, built once into a cache outside the repository). On each: every method runs,
 * occlusion equals an unbatched plain onnxruntime recomputation, the gradient matches central differences,
 * and a chat explanation tints exactly the selected text.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { explain } from '../../src/core/explain';
import { METHODS } from '../../src/core/methods/registry';
import { ensureAttention, ensureGradients, loadModel, type LoadedModel } from '../../src/runtime/loadedModel';
import { REPO } from '../onnx/fixtures';

const OUT = process.env.PROMPTSCOPE_ARCH_MODELS ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'promptscope', 'arch-models');
const NAMES = ['llama3-tiny', 'qwen2-tiny', 'phi3-tiny', 'gemma-tiny'];
const PROMPT = 'The quick brown fox jumps';

/** Builds the models when missing; undefined (with the reason) when Python with torch is not there. */
function buildModels(): string | undefined {
  if (NAMES.every((n) => fs.existsSync(path.join(OUT, n, 'build-format')))) return undefined;
  const py = '/usr/bin/python3';
  if (!fs.existsSync(py) || spawnSync(py, ['-c', 'import torch, onnx'], { encoding: 'utf8' }).status !== 0) {
    return 'Debian python3 with torch and onnx (apt-get install -y python3-torch python3-onnx)';
  }
  const r = spawnSync(py, [path.join(REPO, 'models/build/arch_models.py'), '--out', OUT], { encoding: 'utf8', timeout: 600000 });
  if (r.status !== 0) throw new Error(`models/build/arch_models.py failed:\n${r.stderr}`);
  return undefined;
}

/** log p(· | ids) at the last position from one plain run (float64 log-softmax). */
async function plainLogProbs(session: ort.InferenceSession, ids: number[]): Promise<Float64Array> {
  const n = ids.length;
  const i64 = (a: number[]) => new ort.Tensor('int64', BigInt64Array.from(a.map(BigInt)), [1, n]);
  const feeds: Record<string, ort.Tensor> = { input_ids: i64(ids), attention_mask: i64(ids.map(() => 1)), position_ids: i64(ids.map((_, i) => i)) };
  for (const m of session.inputMetadata as unknown as { name: string; shape: (number | string)[] }[]) {
    if (m.name.startsWith('past')) feeds[m.name] = new ort.Tensor('float32', new Float32Array(0), [1, m.shape[1] as number, 0, m.shape[3] as number]);
  }
  const out = (await session.run(feeds)).logits;
  const V = out.dims[2];
  const row = Float64Array.from((out.data as Float32Array).subarray((n - 1) * V, n * V));
  let max = -Infinity;
  for (const x of row) max = Math.max(max, x);
  let s = 0;
  for (const x of row) s += Math.exp(x - max);
  return row.map((x) => x - max - Math.log(s));
}

describe('decoder architectures with real tokenizers', function () {
  let missing: string | undefined;
  before(function () {
    this.timeout(900000);
    missing = buildModels();
  });

  for (const name of NAMES) {
    describe(name, function () {
      let lm: LoadedModel;
      let session: ort.InferenceSession;
      before(async function () {
        if (missing) {
          console.log(`      (skipped: ${missing} not found)`);
          this.skip();
        }
        lm = await loadModel(path.join(OUT, name));
        session = await ort.InferenceSession.create(lm.folder.onnxPath);
      });

      it('occlusion equals unbatched plain onnxruntime runs', async function () {
        const r = await explain({ text: PROMPT, methods: ['occlusion'], target: { kind: 'next-token' } }, lm);
        const ids = r.input.tokens.map((t) => t.id);
        const full = await plainLogProbs(session, ids);
        const target = r.target.rows[0].tokenId;
        assert.ok(full.every((x) => x <= full[target] + 1e-9), 'the target is the plain run\'s argmax');
        assert.ok(Math.abs(r.target.rows[0].logProb - full[target]) < 1e-4);
        for (const t of r.input.tokens) {
          if (t.special) continue;
          const expected = full[target] - (await plainLogProbs(session, ids.filter((_, i) => i !== t.index)))[target];
          assert.ok(Math.abs(r.runs[0].scores[0][t.index] - expected) < 1e-4, `${name} token ${t.index}: ${r.runs[0].scores[0][t.index]} vs ${expected}`);
        }
      });

      it('the gradient matches central differences of the score', async function () {
        await ensureGradients(lm, path.join(os.tmpdir(), 'promptscope-test-cache'));
        const g = lm.runner.gradients!;
        const ids = lm.tokenizer.encodePrompt(PROMPT).map((t) => t.id);
        const target = { tokenIds: [(await lm.runner.topTokens(ids, 1))[0].tokenId], positions: [ids.length - 1], weights: [1] };
        const e = g.embed(ids);
        const [base] = await g.scoreAndGradient([{ inputsEmbeds: e, inputIds: ids, target }]);
        const fwd = (await lm.runner.score([{ inputIds: ids, queries: [{ position: ids.length - 1, tokenId: target.tokenIds[0] }] }]))[0][0].logProb;
        assert.ok(Math.abs(base.score - fwd) < 1e-3, `gradient-graph score ${base.score} vs forward ${fwd}`);
        for (const seed of [1, 2]) {
          const d = Float32Array.from(e, (_, i) => Math.sin(i * 1.7 * seed + 0.3));
          const h = 1e-3;
          const at = (sign: number) => Float32Array.from(e, (x, i) => x + sign * h * d[i]);
          const [plus, minus] = await g.scoreAndGradient([{ inputsEmbeds: at(1), inputIds: ids, target }, { inputsEmbeds: at(-1), inputIds: ids, target }]);
          const fd = (plus.score - minus.score) / (2 * h);
          const an = base.grad.reduce((s, x, i) => s + x * d[i], 0);
          assert.ok(Math.abs(fd - an) <= 1e-2 * Math.max(1, Math.abs(fd)), `${name}: directional derivative ${an} vs central difference ${fd}`);
        }
      });

      it('runs every method', async function () {
        await ensureGradients(lm, path.join(os.tmpdir(), 'promptscope-test-cache'));
        if (METHODS.some((m) => m.needsAttention)) await ensureAttention(lm, path.join(os.tmpdir(), 'promptscope-test-cache'));
        const r = await explain({ text: PROMPT, methods: METHODS.map((m) => m.name), target: { kind: 'next-token' }, trust: false }, lm);
        assert.deepEqual(r.runs.map((x) => x.method), METHODS.map((m) => m.name));
        for (const run of r.runs) assert.ok(run.scores[0].every(Number.isFinite), `${run.method} gives finite scores`);
      });

      it('a chat explanation tints exactly the selected text', async function () {
        const text = 'Why is the sky blue?';
        const r = await explain({ text, methods: ['occlusion'], target: { kind: 'next-token' }, chat: { system: 'Answer briefly.' }, trust: false }, lm);
        const visible = r.input.tokens.filter((t) => !t.special);
        assert.ok(r.input.tokens.some((t) => t.template), 'role markers are template tokens');
        assert.equal(visible.map((t) => t.text).join(''), text);
        for (const t of visible) assert.equal(t.text, text.slice(t.start, t.end));
      });
    });
  }
});
