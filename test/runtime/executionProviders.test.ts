/** Execution provider choice: what is asked, what this onnxruntime-node build has, and the CPU fallback. */
import * as assert from 'node:assert';
import * as ort from 'onnxruntime-node';
import { availableProviders, chooseProviders } from '../../src/runtime/executionProviders';
import { loadModel } from '../../src/runtime/loadedModel';

describe('execution providers', () => {
  it('always offers the CPU, and only providers this platform ships', () => {
    const av = availableProviders();
    assert.ok(av.includes('cpu'));
    if (process.platform === 'linux') assert.ok(!av.includes('dml') && !av.includes('coreml'));
  });

  it('cpu and auto without an accelerator choose the CPU silently', () => {
    assert.deepStrictEqual(chooseProviders('cpu', ['cpu']), { providers: ['cpu'] });
    assert.deepStrictEqual(chooseProviders('auto', ['cpu']), { providers: ['cpu'] });
    assert.deepStrictEqual(chooseProviders(undefined, ['cpu']), { providers: ['cpu'] });
  });

  it('an available provider goes first with the CPU behind it', () => {
    assert.deepStrictEqual(chooseProviders('cuda', ['cpu', 'cuda']).providers, ['cuda', 'cpu']);
    assert.deepStrictEqual(chooseProviders('DML', ['cpu', 'dml']).providers, ['dml', 'cpu']);
  });

  it('a missing or unknown provider falls back to the CPU with a message naming what is available and the fix', () => {
    const c = chooseProviders('coreml', ['cpu']);
    assert.deepStrictEqual(c.providers, ['cpu']);
    assert.match(c.warning!, /coreml execution provider is not available.*available: cpu.*promptscope\.executionProvider/);
    const u = chooseProviders('tpu', ['cpu']);
    assert.deepStrictEqual(u.providers, ['cpu']);
    assert.match(u.warning!, /Unknown execution provider "tpu".*auto, cpu, cuda, dml, coreml/);
  });

  it('a model loaded with an unavailable provider asked for runs on the CPU and scores as a plain CPU session does', async function () {
    if (availableProviders().includes('cuda')) this.skip();
    const before = process.env.PROMPTSCOPE_EP;
    process.env.PROMPTSCOPE_EP = 'cuda';
    try {
      const lm = await loadModel('promptscope-tiny-lm');
      const ids = [271, 305, 279, 1129, 264];
      const [[ours]] = await lm.runner.score([{ inputIds: ids, queries: [{ position: 4, tokenId: 17 }] }]);
      const plain = await ort.InferenceSession.create(lm.folder.onnxPath, { executionProviders: ['cpu'] });
      const n = ids.length;
      const feeds: Record<string, ort.Tensor> = { input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, n]) };
      for (const name of plain.inputNames) {
        if (name === 'attention_mask') feeds[name] = new ort.Tensor('int64', BigInt64Array.from(ids.map(() => 1n)), [1, n]);
        if (name === 'position_ids') feeds[name] = new ort.Tensor('int64', BigInt64Array.from(ids.map((_, i) => BigInt(i))), [1, n]);
        if (name.startsWith('past_key_values')) feeds[name] = new ort.Tensor('float32', new Float32Array(0), [1, 4, 0, 48]);
      }
      const logits = (await plain.run(feeds, ['logits'])).logits.data as Float32Array;
      const V = 4096, row = logits.subarray(4 * V, 5 * V);
      const max = Math.max(...row);
      const lse = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
      assert.ok(Math.abs(ours.logProb - (row[17] - lse)) < 1e-4, `${ours.logProb} vs ${row[17] - lse}`);
    } finally {
      if (before === undefined) delete process.env.PROMPTSCOPE_EP; else process.env.PROMPTSCOPE_EP = before;
    }
  });
});
