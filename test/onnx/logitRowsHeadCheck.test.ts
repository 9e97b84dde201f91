/**
 * The logit-row variant's one-time check on the head alone (src/onnx/logitRows.ts logitRowsHeadCheck, used by
 * src/runtime/onnxRunner.ts): the cut graph's original tail reproduces the full model's logits from the model's own
 * hidden states, its rewritten head agrees with them on picked rows, a broken rewrite is caught, and a runner
 * on the bundled LM records a passing verdict and scores as a plain full-logits session does.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { Graph } from '../../src/onnx/graph';
import { findRowWiseHead } from '../../src/onnx/lmHeadRows';
import { LOGIT_ROWS_INPUT, logitRowsHeadCheck, ROW_LOGITS_OUTPUT } from '../../src/onnx/logitRows';
import { loadModel as loadProto } from '../../src/onnx/modelFile';
import { encodeModel } from '../../src/onnx/onnxProto';
import { DataType } from '../../src/onnx/tensorData';
import { loadModel } from '../../src/runtime/loadedModel';
import { assertLogitsClose } from '../models/logitTolerance';
import { PlainLm } from '../runtime/plainLm';
import { bundled } from './fixtures';
import { decoderFeeds } from './unfuseHarness';

const IDS = [271, 305, 279, 1129, 264, 42, 7];
const ROWS = [6, 2, 0];

describe('logit-row variant checked on the head alone', function () {
  this.timeout(120000);

  it('bundled promptscope-tiny-lm: the cut tail gives the model\'s logits from its hidden states, and the rewrite agrees on picked rows', async function () {
    const b = bundled('promptscope-tiny-lm');
    if (!b) return this.skip();
    const model = loadProto(b.onnx);
    const check = logitRowsHeadCheck(model);
    assert.ok(check, 'the head can be cut out');
    // The whole model, with its hidden states at the head's input as an extra output: the independent reference.
    const g = Graph.fromModelProto(model);
    const head = findRowWiseHead(g, 'logits')!;
    assert.equal(head.hidden, check.hidden);
    g.outputs.push({ name: head.hidden, elemType: DataType.FLOAT, dims: undefined });
    const whole = await ort.InferenceSession.create(encodeModel(g.toModelProto()));
    const out = await whole.run(decoderFeeds(Graph.fromModelProto(model), IDS, 0), ['logits', head.hidden]);
    const hidden = out[head.hidden];
    assert.deepEqual(hidden.dims, [1, IDS.length, check.width]);
    const cut = await ort.InferenceSession.create(encodeModel(check.model));
    const feeds: Record<string, ort.Tensor> = { [check.hidden]: hidden, [LOGIT_ROWS_INPUT]: new ort.Tensor('int64', BigInt64Array.from(ROWS.map(BigInt)), [1, ROWS.length]) };
    for (const name of check.inputs) if (name !== LOGIT_ROWS_INPUT) feeds[name] = decoderFeeds(Graph.fromModelProto(model), IDS, 0)[name];
    const res = await cut.run(feeds, ['logits', ROW_LOGITS_OUTPUT]);
    const V = out.logits.dims[2];
    const want = out.logits.data as Float32Array, tail = res.logits.data as Float32Array, rows = res[ROW_LOGITS_OUTPUT].data as Float32Array;
    assertLogitsClose(tail, want, 'original tail on the model\'s hidden states');
    ROWS.forEach((r, j) => assertLogitsClose(rows.subarray(j * V, (j + 1) * V), want.subarray(r * V, (r + 1) * V), `row ${r}`));
  });

  it('a rewrite that picks the wrong rows disagrees with the original tail', async function () {
    const b = bundled('promptscope-tiny-lm');
    if (!b) return this.skip();
    const check = logitRowsHeadCheck(loadProto(b.onnx))!;
    // Break the row pick: GatherND reads rows of the reversed hidden states.
    const g = Graph.fromModelProto(check.model);
    const gather = g.nodes.find((n) => n.opType === 'GatherND')!;
    const flipped = g.op('Slice', [check.hidden, g.constI64([-1]), g.constI64([-(2 ** 62)]), g.constI64([1]), g.constI64([-1])]);
    g.nodes = [...g.nodes.filter((n) => n !== gather), { ...gather, inputs: [flipped, gather.inputs[1]] }];
    g.topoSortAndPrune();
    const cut = await ort.InferenceSession.create(encodeModel(g.toModelProto()));
    let x = 7;
    const hidden = Float32Array.from({ length: 5 * check.width }, () => ((x = (x * 48271) % 2147483647) / 2147483647) * 2 - 1);
    const res = await cut.run({ [check.hidden]: new ort.Tensor('float32', hidden, [1, 5, check.width]), [LOGIT_ROWS_INPUT]: new ort.Tensor('int64', BigInt64Array.from([4n, 1n]), [1, 2]) }, ['logits', ROW_LOGITS_OUTPUT]);
    const V = res.logits.dims[2];
    const full = res.logits.data as Float32Array, picked = res[ROW_LOGITS_OUTPUT].data as Float32Array;
    const maxDiff = Math.max(...Array.from(picked.subarray(0, V), (v, k) => Math.abs(v - full[4 * V + k])));
    assert.ok(maxDiff > 1e-2, `a wrong row pick shows (largest difference ${maxDiff})`);
  });

  it('a runner on the bundled LM records a passing verdict from the head check and scores as a full-logits session', async function () {
    const b = bundled('promptscope-tiny-lm');
    if (!b) return this.skip();
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'ps-headcheck-'));
    const saved = process.env.PROMPTSCOPE_CACHE_DIR;
    process.env.PROMPTSCOPE_CACHE_DIR = home;
    try {
      const lm = await loadModel(b.dir, { purpose: 'forward' });
      const dir = path.join(home, 'logit-rows');
      const files = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
      assert.equal(files.length, 1, 'one verdict recorded');
      assert.equal((JSON.parse(fs.readFileSync(path.join(dir, files[0]), 'utf8')) as { ok: boolean }).ok, true);
      const plain = await PlainLm.create(lm);
      const scored = await lm.runner.score([{ inputIds: IDS, queries: [{ position: 6, tokenId: 42 }, { position: 3, tokenId: 7 }] }]);
      const ref = await plain.logSoftmax(IDS);
      assert.ok(Math.abs(scored[0][0].logProb - ref[6][42]) < 1e-4);
      assert.ok(Math.abs(scored[0][1].logProb - ref[3][7]) < 1e-4);
    } finally {
      if (saved === undefined) delete process.env.PROMPTSCOPE_CACHE_DIR;
      else process.env.PROMPTSCOPE_CACHE_DIR = saved;
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});
