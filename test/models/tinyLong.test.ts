/**
 * The long-context bundled model (models/promptscope-tiny-long): a Llama decoder with 2,048 positions. Loaded
 * through the engine (model registry, tokenizer, OnnxRunner), its logits match a float64 PyTorch evaluation of
 * the same weights within a bound derived from an independent float32 evaluation, up to a prompt that fills
 * every position; its held-out answers on a subset are those recorded in eval/metrics.json, whose accuracy is
 * the one its model card states.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { listBundledModels } from '../../src/runtime/modelFolder';
import { loadModel, type LoadedModel } from '../../src/runtime/loadedModel';
import { LONG_DIR, LONG_MODEL, longExamples, outcomes, type EngineMetrics } from '../eval/longContext';

/** Held-out accuracies stated in models/promptscope-tiny-long/README.md (engine figures, one decimal). */
const STATED = { first: '98.9 %', full: '96.7 %' };

interface RefItem { prompt: string | null; input_ids: number[]; logits_float64: number[]; float32_max_abs_deviation: number; argmax: number }

const U32 = 2 ** -24; // unit roundoff of float32

describe(`bundled model ${LONG_MODEL}`, function () {
  this.timeout(120000);
  let m: LoadedModel;
  const config = JSON.parse(fs.readFileSync(path.join(LONG_DIR, 'config.json'), 'utf8')) as Record<string, number | string | string[]>;

  before(async () => {
    m = await loadModel(LONG_MODEL);
  });

  it('is a bundled Llama with ≥ 2,048 positions, grouped-query attention, within 25 MB', async () => {
    assert.ok(listBundledModels().includes(LONG_MODEL));
    assert.equal(m.folder.kind, 'causal-lm');
    assert.equal(m.runner.info.architecture, 'llama');
    assert.ok(m.runner.info.contextLength >= 2048);
    assert.ok(Number(config.num_key_value_heads) < Number(config.num_attention_heads), 'grouped-query attention');
    let bytes = 0;
    for (const f of ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx']) bytes += fs.statSync(path.join(LONG_DIR, f)).size;
    assert.ok(bytes <= 25 * 1024 * 1024, `${bytes} bytes`);
    const s = await ort.InferenceSession.create(path.join(LONG_DIR, 'onnx/model.onnx'));
    const layers = Number(config.num_hidden_layers);
    const past = Array.from({ length: layers }, (_, i) => [`past_key_values.${i}.key`, `past_key_values.${i}.value`]).flat();
    assert.deepEqual([...s.inputNames], ['input_ids', 'attention_mask', 'position_ids', ...past]);
    assert.deepEqual([...s.outputNames], ['logits', ...past.map((n) => n.replace('past_key_values', 'present'))]);
    await s.release();
  });

  it('logits through the engine match float64 PyTorch within the derived float32 bound, up to 2,048 tokens', async () => {
    const ref = JSON.parse(fs.readFileSync(path.join(LONG_DIR, 'reference/reference.json'), 'utf8')) as { items: RefItem[] };
    assert.ok(ref.items.some((i) => i.input_ids.length === 2048), 'a prompt filling every position');
    const vocab = Number(config.vocab_size);
    for (const item of ref.items) {
      if (item.prompt !== null) assert.deepEqual(m.tokenizer.encodePrompt(item.prompt).map((t) => t.id), item.input_ids, 'tokenizer');
      const n = item.input_ids.length;
      const queries = Array.from({ length: vocab }, (_, tokenId) => ({ position: n - 1, tokenId }));
      const [values] = await m.runner.score([{ inputIds: item.input_ids, queries }]);
      const scale = Math.max(1, ...item.logits_float64.map(Math.abs));
      // Two float32 evaluations stray from the exact value by rounding of the same order; 16× the independent
      // PyTorch float32 deviation covers another accumulation order (AVX-512 / AVX2 / NEON, thread count),
      // never below 64 units of roundoff of the largest logit. A wrong position, mask or weight is far outside.
      const bound = Math.max(16 * item.float32_max_abs_deviation, 64 * U32 * scale);
      let worst = 0;
      for (let v = 0; v < vocab; v++) worst = Math.max(worst, Math.abs(values[v].logit - item.logits_float64[v]));
      assert.ok(worst <= bound, `${n} tokens: max |Δlogit| ${worst.toExponential(2)} > bound ${bound.toExponential(2)}`);
      let best = 0;
      for (let v = 1; v < vocab; v++) if (values[v].logit > values[best].logit) best = v;
      assert.equal(best, item.argmax, `${n} tokens: argmax`);
    }
  });

  it('answers a subset of the held-out prompts as recorded, and the card states the recorded accuracy', async () => {
    const metrics = JSON.parse(fs.readFileSync(path.join(LONG_DIR, 'eval/metrics.json'), 'utf8')) as { engine: EngineMetrics };
    const e = metrics.engine;
    const examples = longExamples();
    assert.equal(e.heldout_examples, examples.length);
    assert.equal(e.first_token_accuracy, e.correct_first_token.length / examples.length);
    assert.equal(e.full_continuation_accuracy, e.correct_full.length / examples.length);
    const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
    assert.equal(pct(e.first_token_accuracy), STATED.first);
    assert.equal(pct(e.full_continuation_accuracy), STATED.full);
    const card = fs.readFileSync(path.join(LONG_DIR, 'README.md'), 'utf8');
    assert.ok(card.includes(STATED.first) && card.includes(STATED.full), 'the model card states the measured accuracy');
    const facts = e.per_task.fact;
    assert.ok(card.includes(`| fact | ${facts.n} | ${pct(facts.first_token_accuracy)} | ${pct(facts.full_continuation_accuracy)} |`), 'the card states the fact accuracy');
    const instr = e.per_task.instruction;
    assert.ok(card.includes(`| instruction | ${instr.n} | ${pct(instr.first_token_accuracy)} | ${pct(instr.full_continuation_accuracy)} |`), 'the card states the instruction accuracy');
    // Every 9th prompt (both task families), recomputed now through the engine.
    const subset = examples.map((_, i) => i).filter((i) => i % 9 === 4);
    const got = await outcomes(m, examples, subset);
    for (const o of got) {
      assert.ok(o.promptTokens >= 900, `held-out prompt ${o.index} is long (${o.promptTokens} tokens)`);
      assert.equal(o.firstToken, e.correct_first_token.includes(o.index), `prompt ${o.index}: first token`);
      assert.equal(o.full, e.correct_full.includes(o.index), `prompt ${o.index}: full answer`);
    }
  });

  it('the cause span of every held-out prompt is the stated word, ~1,000 tokens before the question', () => {
    for (const ex of longExamples()) {
      const cause = ex.prompt.slice(ex.cause.start, ex.cause.end);
      assert.match(cause, /^[A-Za-z]+$/);
      const after = m.tokenizer.encodePrompt(ex.prompt.slice(ex.cause.end)).length;
      assert.ok(after >= 850, `${after} tokens between the cause and the question`);
    }
  });
});
