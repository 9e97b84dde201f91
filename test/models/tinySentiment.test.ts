/**
 * The bundled sentiment classifier (models/promptscope-tiny-sentiment): loads through @huggingface/transformers
 * from the local folder with remote loading disabled and through plain onnxruntime-node; tokenizes (with BERT
 * normalisation) like the Python build; matches the PyTorch reference; reaches the held-out accuracy stated in
 * its model card.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { AutoModelForSequenceClassification, AutoTokenizer, env, type PreTrainedModel, type PreTrainedTokenizer } from '@huggingface/transformers';
import { assertLogitsClose } from './logitTolerance';

const MODELS = path.resolve(__dirname, '../../models');
const NAME = 'promptscope-tiny-sentiment';
const FOLDER = path.join(MODELS, NAME);

/** Held-out accuracy stated in models/promptscope-tiny-sentiment/README.md (measured value rounded down). */
const STATED_ACCURACY = 0.99;

interface Config { model_type: string; architectures: string[]; id2label: Record<string, string>; label2id: Record<string, number>; hidden_size: number }
interface HeldOut { text: string; label: string; cue: { start: number; end: number } }
interface RefItem { prompt: string; input_ids: number[]; target: { kind: string; class_id: number }; score: number; logits: number[]; grad_inputs_embeds: number[][] }

const config = JSON.parse(fs.readFileSync(path.join(FOLDER, 'config.json'), 'utf8')) as Config;
const reference = JSON.parse(fs.readFileSync(path.join(FOLDER, 'reference', 'reference.json'), 'utf8')) as { items: RefItem[] };

function i64(values: number[], dims: number[]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(values.map((v) => BigInt(v))), dims);
}

describe('bundled model promptscope-tiny-sentiment', function () {
  this.timeout(60000);
  let session: ort.InferenceSession;
  let tokenizer: PreTrainedTokenizer;
  let model: PreTrainedModel;

  /** Logits [batch][labels] for right-padded token id rows, plain onnxruntime. */
  async function classify(rows: number[][]): Promise<number[][]> {
    const L = Math.max(...rows.map((r) => r.length));
    const ids = rows.flatMap((r) => [...r, ...Array(L - r.length).fill(0)]);
    const mask = rows.flatMap((r) => [...r.map(() => 1), ...Array(L - r.length).fill(0)]);
    const out = await session.run({
      input_ids: i64(ids, [rows.length, L]),
      attention_mask: i64(mask, [rows.length, L]),
      token_type_ids: i64(ids.map(() => 0), [rows.length, L]),
    });
    const logits = out.logits as ort.Tensor;
    const n = logits.dims[1] as number;
    const data = Array.from(logits.data as Float32Array);
    return rows.map((_, b) => data.slice(b * n, (b + 1) * n));
  }

  const encode = (text: string): number[] => tokenizer.encode(text);

  before(async function () {
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = MODELS + path.sep;
    tokenizer = await AutoTokenizer.from_pretrained(NAME);
    model = await AutoModelForSequenceClassification.from_pretrained(NAME, { dtype: 'fp32' });
    session = await ort.InferenceSession.create(path.join(FOLDER, 'onnx', 'model.onnx'));
  });

  after(async function () {
    await model?.dispose();
    await session?.release();
  });

  it('is a BERT sequence classifier with negative/positive labels within the size budget', function () {
    assert.equal(config.model_type, 'bert');
    assert.deepEqual(config.architectures, ['BertForSequenceClassification']);
    assert.equal(config.id2label['0'], 'negative');
    assert.equal(config.id2label['1'], 'positive');
    assert.equal(config.label2id.positive, 1);
    assert.deepEqual([...session.inputNames].sort(), ['attention_mask', 'input_ids', 'token_type_ids']);
    assert.deepEqual([...session.outputNames], ['logits']);
    let bytes = 0;
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx']) {
      bytes += fs.statSync(path.join(FOLDER, f)).size;
    }
    assert.ok(bytes <= 10 * 1024 * 1024, `${bytes} bytes`);
  });

  it('normalises text (lowercase, strip accents) and adds [CLS]/[SEP] like the Python build', function () {
    for (const item of reference.items) assert.deepEqual(encode(item.prompt), item.input_ids, item.prompt);
    assert.deepEqual(encode('The CAFÉ was Great'), encode('the cafe was great'));
    const ids = encode('great');
    assert.equal(tokenizer.decode([ids[0]]), '[CLS]');
    assert.equal(tokenizer.decode([ids[ids.length - 1]]), '[SEP]');
  });

  it('onnxruntime logits match the PyTorch reference (within 2e-5 of max |logit|)', async function () {
    assert.ok(reference.items.length >= 8);
    for (const item of reference.items) {
      const [logits] = await classify([item.input_ids]);
      assertLogitsClose(logits, item.logits, item.prompt);
      assert.equal(logits.indexOf(Math.max(...logits)), item.target.class_id);
      assert.equal(item.grad_inputs_embeds.length, item.input_ids.length);
      assert.equal(item.grad_inputs_embeds[0].length, config.hidden_size);
    }
  });

  it('padding in a batch does not change the logits', async function () {
    const a = encode('The movie was not good.');
    const b = encode('Although it was raining, the concert was absolutely wonderful.');
    const [pa, pb] = await classify([a, b]);
    const [sa] = await classify([a]);
    const [sb] = await classify([b]);
    for (const [x, y, what] of [[pa, sa, 'a'], [pb, sb, 'b']] as const) assertLogitsClose(x, y, `padded vs single ${what}`);
  });

  it('classifies through @huggingface/transformers and follows negation', async function () {
    const label = async (text: string): Promise<string> => {
      const out = (await model(tokenizer(text))) as { logits: { tolist(): number[][] } };
      const logits = out.logits.tolist()[0];
      return config.id2label[String(logits.indexOf(Math.max(...logits)))];
    };
    assert.equal(await label('The movie was great.'), 'positive');
    assert.equal(await label('The movie was not great.'), 'negative');
    assert.equal(await label('The food was never bad.'), 'positive');
    assert.equal(await label('I thought the service was extremely disappointing.'), 'negative');
  });

  it('reaches the stated accuracy on the held-out set', async function () {
    const rows = fs.readFileSync(path.join(FOLDER, 'eval', 'heldout.jsonl'), 'utf8').trim().split('\n')
      .map((l) => JSON.parse(l) as HeldOut);
    assert.ok(rows.length >= 200);
    let correct = 0;
    for (let i = 0; i < rows.length; i += 50) {
      const chunk = rows.slice(i, i + 50);
      const logits = await classify(chunk.map((r) => encode(r.text)));
      chunk.forEach((r, j) => {
        const cue = r.text.slice(r.cue.start, r.cue.end);
        assert.ok(cue.length > 0 && cue === cue.trim(), `cue span of ${r.text}`);
        const pred = config.id2label[String(logits[j].indexOf(Math.max(...logits[j])))];
        if (pred === r.label) correct++;
      });
    }
    const acc = correct / rows.length;
    assert.ok(acc >= STATED_ACCURACY, `accuracy ${acc}`);
  });
});
