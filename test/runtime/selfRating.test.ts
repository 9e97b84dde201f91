/**
 * "Ask the model to rate its input" through the bundled tiny LM: the prompt is really continued by the model,
 * the reply parsed, and an unusable reply reported with its reason (this small model does not keep the format).
 * A classifier is refused with one clear message.
 */
import * as assert from 'node:assert/strict';
import { explain } from '../../src/core/explain';
import { askModelToRate, compareWithResult, wordScores } from '../../src/core/trust/askModel';
import { encodeChatPrompt } from '../../src/core/chatPrompt';
import { loadModel } from '../../src/runtime/loadedModel';
import { realExport, skipUnless } from '../onnx/fixtures';

describe('asking the model to rate its input', function () {
  it('runs the whole flow on the tiny LM and says why its reply cannot be used', async () => {
    const lm = await loadModel('promptscope-tiny-lm');
    const text = 'The movie was not great.';
    const report = await askModelToRate(lm.runner, lm.tokenizer, text, { maxTokens: 24 });
    assert.ok(report.prompt.includes(`Input: ${text}`));
    assert.ok(report.reply.length > 0, 'the model wrote something');
    assert.deepEqual(report.words, ['The', 'movie', 'was', 'not', 'great.']);
    if (report.parse.ok) assert.equal(report.parse.value.ratings.length, 5);
    else assert.match(report.parse.reason, /no \(word, importance\) ratings|None of the rated words|outside/);
    const result = await explain({ text, methods: ['occlusion'], target: { kind: 'next-token' }, trust: false }, lm);
    const compared = compareWithResult(report, result);
    assert.equal(compared.vsAttribution !== undefined, report.parse.ok);
    // Word scores are the summed token scores of each whitespace-separated word.
    const ws = wordScores(result);
    const total = result.runs[0].scores[0].reduce((a, b) => a + b, 0);
    assert.equal(ws.length, 5);
    assert.ok(Math.abs(ws.reduce((a, b) => a + b, 0) - total) < 1e-9);
  });

  it('asks a chat model through its chat template (Llama fixture with a chat_template)', async function () {
    const dir = skipUnless(this, realExport('genai-tiny-random-llama-fp16'), 'genai-tiny-random-llama-fp16 fixture');
    const chat = await loadModel(dir);
    const text = 'The capital of France is';
    const report = await askModelToRate(chat.runner, chat.tokenizer, text, { maxTokens: 6, system: 'Be brief.' });
    assert.equal(report.chatTemplate, true);
    // The reply is what greedy decoding writes after the templated rating prompt, recomputed here step by step.
    const ids = encodeChatPrompt(report.prompt, 'Be brief.', chat.tokenizer, chat.runner.info.id).map((t) => t.id);
    const out: number[] = [];
    for (let i = 0; i < 6; i++) {
      const next = (await chat.runner.topTokens([...ids, ...out], 1))[0].tokenId;
      if (next === chat.runner.info.special.eos) break;
      out.push(next);
    }
    assert.equal(report.reply, chat.tokenizer.decode(out));
    // Random weights do not keep the format: the parse says so instead of guessing.
    assert.equal(report.parse.ok, false);
  });

  it('refuses a classifier with one clear message', async () => {
    const clf = await loadModel('promptscope-tiny-sentiment');
    await assert.rejects(askModelToRate(clf.runner, clf.tokenizer, 'Great food.'), /needs a language model that writes a reply; .* is a classifier/);
  });
});
