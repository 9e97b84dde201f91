/**
 * Chat explanations on real tokenizers (Llama 3, Qwen 3, Gemma 3 from @lenml's packages, and the fp16 Llama
 * fixture's Llama 2 template): the prompt ids equal those of @huggingface/transformers' own
 * apply_chat_template(tokenize: true), every token that is not the template's maps to the exact characters of
 * the user's text, and template tokens are zero-width (so the editor tints only the selection).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AutoTokenizer, env } from '@huggingface/transformers';
import { encodeChatPrompt } from '../../src/core/chatPrompt';
import { explain } from '../../src/core/explain';
import { EngineError } from '../../src/core/engineProtocol';
import { loadModel } from '../../src/runtime/loadedModel';
import { TextTokenizer } from '../../src/runtime/textTokenizer';
import { realExport, REPO, skipUnless } from '../onnx/fixtures';

const TEXTS = [
  'What is the capital of France?',
  '  leading and trailing spaces  ',
  'Ünïcödé, emoji 🎉🧪 and 漢字 in one line',
  'Two lines:\nfirst\n\tsecond',
];

function tokenizerDirs(): [string, string | undefined][] {
  const lenml = (p: string) => {
    const d = path.join(REPO, 'node_modules', '@lenml', `tokenizer-${p}`, 'models');
    return fs.existsSync(path.join(d, 'tokenizer.json')) ? d : undefined;
  };
  return [['llama3', lenml('llama3')], ['qwen3', lenml('qwen3')], ['gemma3', lenml('gemma3')], ['llama2 (fp16 fixture)', realExport('genai-tiny-random-llama-fp16')]];
}

/** Ids by transformers' own path: render and tokenize in one call. */
const references = new Map<string, Promise<Awaited<ReturnType<typeof AutoTokenizer.from_pretrained>>>>();
async function referenceIds(dir: string, user: string, system?: string): Promise<number[]> {
  env.allowRemoteModels = false;
  env.localModelPath = path.dirname(dir) + path.sep;
  if (!references.has(dir)) references.set(dir, AutoTokenizer.from_pretrained(path.basename(dir), { local_files_only: true }));
  const hf = await references.get(dir)!;
  const messages = [...(system ? [{ role: 'system', content: system }] : []), { role: 'user', content: user }];
  return hf.apply_chat_template(messages, { tokenize: true, add_generation_prompt: true, return_tensor: false, return_dict: false }) as unknown as number[];
}

describe('chat templates on real tokenizers', function () {
  for (const [name, dirOrUndefined] of tokenizerDirs()) {
    it(`${name}: template ids as transformers renders them, user tokens at their exact offsets`, async function () {
      const dir = skipUnless(this, dirOrUndefined, `${name} tokenizer`);
      const tok = await TextTokenizer.load(dir);
      for (const text of TEXTS) {
        for (const system of [undefined, 'You are terse.']) {
          const tokens = encodeChatPrompt(text, system, tok, name);
          assert.deepEqual(tokens.map((t) => t.id), await referenceIds(dir, text, system), `${name} ${JSON.stringify(text)} ids`);
          const user = tokens.filter((t) => !t.template);
          assert.ok(user.length > 0);
          for (const t of tokens) {
            if (t.template) assert.equal(t.end, t.start, 'template tokens are zero-width');
            else assert.ok(t.start >= 0 && t.end <= text.length && t.end > t.start, `range ${t.start}-${t.end}`);
          }
          // User tokens tile the text the template placed (templates may trim the ends) without overlap.
          for (let i = 1; i < user.length; i++) assert.ok(user[i].start >= user[i - 1].end, 'no overlap');
          const covered = text.slice(user[0].start, user[user.length - 1].end);
          assert.ok(text.trim().length === 0 || covered.trim() === text.trim(), `${name}: ${JSON.stringify(covered)} vs ${JSON.stringify(text)}`);
          if (system) assert.ok(tokens.some((t) => t.template && t.templateText && system.includes(t.templateText.trim()) && t.templateText.trim().length > 2), 'the system prompt is template tokens');
        }
      }
    });
  }

  it('explains a chat message end to end: template chips, tints only on the selection', async function () {
    const dir = skipUnless(this, realExport('genai-tiny-random-llama-fp16'), 'fixture genai-tiny-random-llama-fp16');
    const lm = await loadModel(dir);
    const text = ' hello world ';
    const r = await explain({ text, methods: ['occlusion'], target: { kind: 'next-token' }, chat: {} }, lm);
    const template = r.input.tokens.filter((t) => t.template);
    assert.ok(template.length >= 4, 'role markers are template tokens');
    assert.ok(template.every((t) => t.special && t.start === t.end));
    assert.equal(template[0].text, '<s>');
    assert.ok(template.some((t) => t.text.includes('INST')));
    const visible = r.input.tokens.filter((t) => !t.special);
    assert.deepEqual(visible.map((t) => [t.start, t.end, t.text]), [[1, 6, 'hello'], [6, 12, ' world']]);
    for (const t of visible) assert.equal(t.text, text.slice(t.start, t.end));
  });

  it('refuses a chat explanation on a model without a chat template, naming the cause', async function () {
    const lm = await loadModel('promptscope-tiny-lm');
    await assert.rejects(explain({ text: 'hi', methods: ['occlusion'], target: { kind: 'next-token' }, chat: {} }, lm), (e: unknown) => e instanceof EngineError && /no chat template/.test(e.message));
  });
});
