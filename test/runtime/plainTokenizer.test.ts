/**
 * PlainTokenizer (no transformers) against transformers' own tokenizer class for the same files: the same ids,
 * special-token ids, vocabulary and decoded text, on the bundled models and the real exports when present.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as transformers from '@huggingface/transformers';
import { isPlainTokenizer, PlainTokenizer, type TokenizerConfig } from '../../src/runtime/plainTokenizer';
import { TextTokenizer } from '../../src/runtime/textTokenizer';
import { realExport, REPO, skipUnless } from '../onnx/fixtures';

const TEXTS = ['Hello wörld 🎉 the capital [SEP] <|endoftext|> naïve  café', '  leading\tand\nnew lines ﬁ ＡＢＣ 日本語 <s></s> [CLS] [MASK]', 'x'];
const SPECIAL = ['pad_token_id', 'unk_token_id', 'mask_token_id', 'bos_token_id', 'eos_token_id', 'sep_token_id'] as const;

type Ids = { ids: number[] };
interface Handle {
  _tokenizer: { encode(s: string, o: { add_special_tokens: boolean }): Ids };
  decode(ids: number[], o: { skip_special_tokens: boolean }): string;
  get_vocab(): Map<string, number>;
}

function readJson(dir: string, file: string): TokenizerConfig {
  return JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as TokenizerConfig;
}

function assertSameAsTransformers(dir: string): void {
  const json = readJson(dir, 'tokenizer.json');
  const config = readJson(dir, 'tokenizer_config.json');
  const name = config.tokenizer_class?.replace(/Fast$/, '') ?? 'PreTrainedTokenizer';
  const cls = ((transformers as unknown as Record<string, unknown>)[name] ?? transformers.PreTrainedTokenizer) as new (j: unknown, c: unknown) => unknown;
  const full = new cls(json, config) as Handle & Record<string, unknown>;
  const plain = new PlainTokenizer(json, config) as unknown as Handle & Record<string, unknown>;
  for (const k of SPECIAL) assert.equal(plain[k], full[k], `${k} of ${dir}`);
  assert.equal(plain.get_vocab().size, full.get_vocab().size);
  for (const text of TEXTS) {
    const ids = full._tokenizer.encode(text, { add_special_tokens: true }).ids;
    assert.deepEqual(plain._tokenizer.encode(text, { add_special_tokens: true }).ids, ids);
    assert.equal(plain.decode(ids, { skip_special_tokens: false }), full.decode(ids, { skip_special_tokens: false }));
  }
  const n = Math.min(full.get_vocab().size, 2000);
  for (let id = 0; id < n; id++) assert.equal(plain.decode([id], { skip_special_tokens: false }), full.decode([id], { skip_special_tokens: false }), `token ${id}`);
}

describe('PlainTokenizer', () => {
  for (const model of ['promptscope-tiny-lm', 'promptscope-tiny-sentiment']) {
    it(`matches transformers on ${model}`, () => assertSameAsTransformers(path.join(REPO, 'models', model)));
  }

  it('matches transformers on the real exports (a CodeGen and a Llama tokenizer)', function () {
    for (const rel of ['genai-tiny-random-gpt2-fused', 'genai-tiny-random-llama-fp16']) assertSameAsTransformers(skipUnless(this, realExport(rel), rel));
  });

  it('serves tokenizers without a chat template or a class of their own, and the prompt tokenizer uses it for them', async () => {
    assert.equal(isPlainTokenizer({ tokenizer_class: 'GPT2TokenizerFast' }), true);
    assert.equal(isPlainTokenizer({}), true);
    assert.equal(isPlainTokenizer({ tokenizer_class: 'LlamaTokenizer', chat_template: '{{ messages }}' }), false);
    assert.equal(isPlainTokenizer({ tokenizer_class: 'WhisperTokenizer' }), false);
    const tok = await TextTokenizer.load(path.join(REPO, 'models', 'promptscope-tiny-lm'));
    assert.ok((tok as unknown as { hf: unknown }).hf instanceof PlainTokenizer);
    assert.equal(tok.hasChatTemplate, false);
  });
});
