/**
 * Third-party exports as users have them: onnxruntime-genai folders (genai_config.json, no config.json), an
 * fp16 Llama whose logits and cache come back as 16-bit patterns, and a fused GPT-2 with int32 ids and a
 * stacked past. Every number is checked against a plain onnxruntime run decoded independently here.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { explain } from '../../src/core/explain';
import { EngineError } from '../../src/core/engineProtocol';
import { ensureGradients, loadModel, type LoadedModel } from '../../src/runtime/loadedModel';
import { bfloatToFloat, floatToBfloat, floatToHalf, halfToFloat } from '../../src/runtime/tensorDecoding';
import { bundled, realExport, REPO, skipUnless } from '../onnx/fixtures';
import { toHalfPrecision } from '../onnx/halfModel';
import { loadModel as loadOnnx, saveModel } from '../../src/onnx/modelFile';
import * as os from 'node:os';

/** binary16 → float32 by moving bit fields (a different route from the runtime's arithmetic decoder). */
function halfBitsToFloat(h: number): number {
  const buf = new DataView(new ArrayBuffer(4));
  const sign = (h & 0x8000) << 16;
  let exp = (h >> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) buf.setUint32(0, sign | 0x7f800000 | (mant << 13));
  else if (exp === 0 && mant === 0) buf.setUint32(0, sign);
  else {
    if (exp === 0) {
      // Subnormal: normalise the mantissa.
      exp = 1;
      while (!(mant & 0x400)) { mant <<= 1; exp--; }
      mant &= 0x3ff;
    }
    buf.setUint32(0, sign | ((exp - 15 + 127) << 23) | (mant << 13));
  }
  return buf.getFloat32(0);
}

type Fixture = { dir: string; session: ort.InferenceSession; half: boolean; int32: boolean; stacked: boolean; layers: number; heads: number; headDim: number };

async function plainSession(dir: string, file: string): Promise<Fixture> {
  const session = await ort.InferenceSession.create(path.join(dir, file));
  const meta = session.inputMetadata as unknown as { name: string; type: string; shape: (number | string)[] }[];
  const past = meta.filter((m) => m.name.startsWith('past'));
  const stacked = past[0].shape.length === 5;
  const o = stacked ? 1 : 0;
  return {
    dir, session, stacked,
    half: past[0].type === 'float16',
    int32: meta.find((m) => m.name === 'input_ids')!.type === 'int32',
    layers: stacked ? past.length : past.length / 2,
    heads: past[0].shape[1 + o] as number,
    headDim: past[0].shape[3 + o] as number,
  };
}

/**
 * log p(· | ids) at the last position, by unbatched runs decoded here, log-softmax in float64. With
 * `prefix`, the first `prefix` ids run first and their present tensors are fed back as the past.
 */
async function independentLogProbs(f: Fixture, ids: number[], prefix = 0): Promise<Float64Array> {
  const ints = (a: number[]) => (f.int32 ? new ort.Tensor('int32', Int32Array.from(a), [1, a.length]) : new ort.Tensor('int64', BigInt64Array.from(a.map(BigInt)), [1, a.length]));
  const empty = (dims: number[]) => (f.half ? new ort.Tensor('float16', new Uint16Array(0), dims) : new ort.Tensor('float32', new Float32Array(0), dims));
  const names = Array.from({ length: f.layers }, (_, l) => (f.stacked ? [`past_${l}`] : [`past_key_values.${l}.key`, `past_key_values.${l}.value`])).flat();
  const run = async (part: number[], start: number, past: Record<string, ort.Tensor>) => {
    const feeds: Record<string, ort.Tensor> = {
      input_ids: ints(part), attention_mask: ints(Array(start + part.length).fill(1)), position_ids: ints(part.map((_, i) => start + i)), ...past,
    };
    return f.session.run(feeds);
  };
  const emptyPast = Object.fromEntries(names.map((n) => [n, empty(f.stacked ? [2, 1, f.heads, 0, f.headDim] : [1, f.heads, 0, f.headDim])]));
  let past: Record<string, ort.Tensor> = emptyPast;
  if (prefix > 0) {
    const pre = await run(ids.slice(0, prefix), 0, emptyPast);
    past = Object.fromEntries(names.map((n) => [n, pre[n.replace('past_key_values.', 'present.').replace('past_', 'present_')]]));
  }
  const part = ids.slice(prefix);
  const out = (await run(part, prefix, past)).logits;
  const n = part.length;
  const V = out.dims[2];
  const row = new Float64Array(V);
  for (let v = 0; v < V; v++) {
    const x = out.data[(n - 1) * V + v] as number;
    row[v] = f.half ? halfBitsToFloat(x) : x;
  }
  let max = -Infinity;
  for (const x of row) max = Math.max(max, x);
  let s = 0;
  for (const x of row) s += Math.exp(x - max);
  const lse = max + Math.log(s);
  return row.map((x) => x - lse);
}

function argmax(a: Float64Array): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return best;
}

describe('half-precision decoding', function () {
  it('decodes every binary16 pattern like an independent bit-field decoder and round-trips it', function () {
    for (let h = 0; h < 65536; h++) {
      const a = halfToFloat(h);
      const b = halfBitsToFloat(h);
      if (Number.isNaN(b)) { assert.ok(Number.isNaN(a), `0x${h.toString(16)}`); continue; }
      assert.equal(a, b, `0x${h.toString(16)}`);
      assert.equal(floatToHalf(a), h, `round trip 0x${h.toString(16)}`);
    }
    assert.equal(halfToFloat(0x7bff), 65504);
    assert.equal(floatToHalf(1 + 2 ** -11), 0x3c00, 'ties round to even');
    assert.equal(floatToHalf(1e6), 0x7c00, 'overflow gives infinity');
  });

  it('round-trips bfloat16 patterns', function () {
    for (let b = 0; b < 65536; b += 7) {
      const x = bfloatToFloat(b);
      if (!Number.isNaN(x)) assert.equal(floatToBfloat(x), b);
    }
    assert.equal(bfloatToFloat(0x3f80), 1);
  });
});

describe('fp16 inputs and outputs of a Hugging Face decoder export', function () {
  let lm: LoadedModel;
  let plain: Fixture;
  before(async function () {
    const src = skipUnless(this, bundled('promptscope-tiny-lm'), 'bundled model promptscope-tiny-lm');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promptscope-fp16-lm-'));
    fs.mkdirSync(path.join(dir, 'onnx'));
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) fs.copyFileSync(path.join(src.dir, f), path.join(dir, f));
    saveModel(toHalfPrecision(loadOnnx(src.onnx)), path.join(dir, 'onnx', 'model.onnx'));
    lm = await loadModel(dir);
    plain = await plainSession(dir, 'onnx/model.onnx');
    assert.ok(plain.half, 'the converted model declares fp16 past inputs');
  });

  it('reuses a shared prefix as fp16 keys and values and matches unbatched runs', async function () {
    const ids = lm.tokenizer.encodePrompt('The capital of France is a city where').map((t) => t.id);
    assert.ok(ids.length >= 7);
    const items = [ids, [...ids.slice(0, 5), ...ids.slice(6)], ids.slice(0, 6)].map((inputIds) => ({ inputIds, queries: [{ position: inputIds.length - 1, tokenId: 42 }] }));
    const before = lm.runner.forwardCount;
    const got = await lm.runner.score(items);
    assert.equal(lm.runner.forwardCount - before, items.length + 1, 'one extra pass computed the shared prefix');
    for (const [b, it] of items.entries()) {
      // Same computation by hand: the prefix's fp16 present tensors fed back as past, one item at a time.
      const cached = await independentLogProbs(plain, it.inputIds, 5);
      assert.ok(Math.abs(got[b][0].logProb - cached[42]) < 1e-4, `item ${b}: ${got[b][0].logProb} vs ${cached[42]}`);
      // And close to the whole sequence in one pass (the cache is rounded to fp16 there and not here).
      const whole = await independentLogProbs(plain, it.inputIds);
      assert.ok(Math.abs(got[b][0].logProb - whole[42]) < 0.05, `item ${b}: ${got[b][0].logProb} vs ${whole[42]}`);
    }
  });
});

describe('onnxruntime-genai folders (genai_config.json only)', function () {
  describe('fp16 Llama', function () {
    let dir: string;
    let lm: LoadedModel;
    let plain: Fixture;
    before(async function () {
      dir = skipUnless(this, realExport('genai-tiny-random-llama-fp16'), 'fixture genai-tiny-random-llama-fp16 (../shared/fixtures/real-exports)');
      assert.ok(!fs.existsSync(path.join(dir, 'config.json')), 'the fixture must have no config.json');
      lm = await loadModel(dir);
      plain = await plainSession(dir, 'model.onnx');
    });

    it('reads architecture, context length and special ids from genai_config.json', function () {
      const i = lm.runner.info;
      assert.equal(i.kind, 'causal-lm');
      assert.equal(i.architecture, 'llama');
      assert.equal(i.contextLength, 2048);
      assert.equal(i.vocabSize, 32000);
      assert.equal(lm.folder.config.num_key_value_heads, 1);
    });

    it('explains "hello world" with decoded fp16 logits, matching an independent decoding', async function () {
      const r = await explain({ text: 'hello world', methods: ['occlusion'], target: { kind: 'next-token' } }, lm);
      const ids = r.input.tokens.map((t) => t.id);
      const lp = await independentLogProbs(plain, ids);
      const best = argmax(lp);
      const row = r.target.rows[0];
      console.log(`      fp16 fixture: argmax ${best} (engine ${row.tokenId}), p = ${Math.exp(lp[best]).toExponential(3)}, log p(6936) = ${lp[6936].toFixed(4)}`);
      assert.equal(row.tokenId, best);
      assert.ok(Math.abs(row.logProb - lp[best]) < 1e-4, `${row.logProb} vs ${lp[best]}`);
      assert.ok(row.probability < 1e-3, 'random weights give a near-uniform distribution, not p = 1');
      const viaScore = (await lm.runner.score([{ inputIds: ids, queries: [{ position: ids.length - 1, tokenId: 6936 }] }]))[0][0];
      assert.ok(Math.abs(viaScore.logProb - lp[6936]) < 1e-4, `log p(6936) ${viaScore.logProb} vs ${lp[6936]}`);
      // Occlusion (delete) of each token against unbatched, independently decoded runs.
      const scores = r.runs[0].scores[0];
      for (const tok of r.input.tokens) {
        if (tok.special) continue;
        const kept = ids.filter((_, i) => i !== tok.index);
        const expected = lp[best] - (await independentLogProbs(plain, kept))[best];
        assert.ok(Math.abs(scores[tok.index] - expected) < 2e-3, `token ${tok.index}: ${scores[tok.index]} vs ${expected}`);
        assert.ok(Math.abs(scores[tok.index]) < 5, 'a decoded score is a log-probability difference, not a bit pattern');
      }
    });

    it('falls back to whole-sequence runs, since this export takes a past only one token at a time', async function () {
      const ids = lm.tokenizer.encodePrompt('one two three four five six seven').map((t) => t.id);
      assert.ok(ids.length >= 7);
      const items = [ids, [...ids.slice(0, 5), ...ids.slice(6)], ids.slice(0, 6)].map((inputIds) => ({ inputIds, queries: [{ position: inputIds.length - 1, tokenId: 42 }] }));
      const got = await lm.runner.score(items);
      for (const [b, it] of items.entries()) {
        const lp = await independentLogProbs(plain, it.inputIds);
        assert.ok(Math.abs(got[b][0].logProb - lp[42]) < 2e-3, `item ${b}: ${got[b][0].logProb} vs ${lp[42]}`);
      }
    });

    it('runs gradient methods, differentiated in fp32, consistent with the fp16 forward pass', async function () {
      await ensureGradients(lm, path.join(os.tmpdir(), 'promptscope-test-cache'));
      const r = await explain({ text: 'hello world', methods: ['integrated-gradients', 'gradient-x-input'], target: { kind: 'next-token' } }, lm);
      const ids = r.input.tokens.map((t) => t.id);
      const [g] = await lm.runner.gradients!.scoreAndGradient([{ inputsEmbeds: lm.runner.gradients!.embed(ids), inputIds: ids, target: { tokenIds: [6936], positions: [ids.length - 1], weights: [1] } }]);
      const lp = await independentLogProbs(plain, ids);
      // fp32 graph vs fp16 kernels: equal up to half-precision rounding, far from a bit-pattern reading.
      assert.ok(Math.abs(g.score - lp[6936]) < 0.05, `${g.score} vs ${lp[6936]}`);
      const ig = r.runs[0];
      assert.ok(ig.scores[0].every(Number.isFinite));
      // Completeness: attributions add up to f(x) − f(baseline) up to the reported, small gap.
      const gap = ig.diagnostics.completenessGap![0];
      assert.ok(gap < 0.1, `completeness gap ${gap}`);
    });
  });

  describe('fused GPT-2 with int32 ids and a stacked past', function () {
    let dir: string;
    let lm: LoadedModel;
    let plain: Fixture;
    before(async function () {
      dir = skipUnless(this, realExport('genai-tiny-random-gpt2-fused'), 'fixture genai-tiny-random-gpt2-fused (../shared/fixtures/real-exports)');
      lm = await loadModel(dir);
      plain = await plainSession(dir, 'past.onnx');
    });

    it('explains with occlusion matching an independent int32 recomputation', async function () {
      const r = await explain({ text: 'a is of the and in', methods: ['occlusion'], target: { kind: 'next-token' } }, lm);
      assert.equal(r.model.architecture, 'gpt2');
      assert.equal(r.model.contextLength, 512);
      const ids = r.input.tokens.map((t) => t.id);
      const lp = await independentLogProbs(plain, ids);
      const best = argmax(lp);
      assert.equal(r.target.rows[0].tokenId, best);
      assert.ok(Math.abs(r.target.rows[0].logProb - lp[best]) < 1e-4);
      for (const tok of r.input.tokens) {
        if (tok.special) continue;
        const expected = lp[best] - (await independentLogProbs(plain, ids.filter((_, i) => i !== tok.index)))[best];
        assert.ok(Math.abs(r.runs[0].scores[0][tok.index] - expected) < 1e-4, `token ${tok.index}: ${r.runs[0].scores[0][tok.index]} vs ${expected}`);
      }
    });

    it('refuses a prompt whose tokens lie outside the model vocabulary with one clear message', async function () {
      await assert.rejects(
        explain({ text: 'hello world', methods: ['occlusion'], target: { kind: 'next-token' } }, lm),
        (e: unknown) => e instanceof EngineError && /outside|only 1000 entries/.test(e.message) && /tokenizer/.test(e.message),
      );
    });
  });

  describe('CLI', function () {
    const CLI = path.join(REPO, 'dist/cli.js');
    for (const [name, text] of [['genai-tiny-random-llama-fp16', 'hello world'], ['genai-tiny-random-gpt2-fused', 'a is of the and in']]) {
      it(`explains ${name} end to end, gradients included`, async function () {
        const dir = skipUnless(this, realExport(name), `fixture ${name}`);
        assert.ok(fs.existsSync(CLI), 'dist/cli.js is missing: run npm run build first');
        const r = spawnSync(process.execPath, [CLI, 'explain', '--json', '--model', dir, '--method', 'occlusion,gradient-x-input', text], { encoding: 'utf8', timeout: 120000 });
        assert.equal(r.status, 0, r.stderr);
        const res = JSON.parse(r.stdout) as { target: { rows: { tokenId: number; logProb: number }[] }; runs: { method: string; scores: number[][] }[]; input: { tokens: { id: number }[] } };
        const plain = await plainSession(dir, name.includes('gpt2') ? 'past.onnx' : 'model.onnx');
        const lp = await independentLogProbs(plain, res.input.tokens.map((t) => t.id));
        const best = argmax(lp);
        assert.equal(res.target.rows[0].tokenId, best);
        assert.ok(Math.abs(res.target.rows[0].logProb - lp[best]) < 1e-3);
        assert.deepEqual(res.runs.map((x) => x.method), ['occlusion', 'gradient-x-input']);
        for (const run of res.runs) assert.ok(run.scores[0].every(Number.isFinite));
      });
    }
  });
});
