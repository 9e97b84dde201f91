/**
 * Present keys and values returned only when asked (src/onnx/optionalPresents.ts): on the bundled LM the rewritten
 * logit-row variant gives the first sequence's present keys and values of the original graph when `want_presents` is
 * true (an independent session of the unrewritten model on that sequence alone), empty ones when it is false, and the
 * same logits rows either way, in a batch of two sequences.
 */
import * as assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { LOGIT_ROWS_INPUT, ROW_LOGITS_OUTPUT, selectLogitRows } from '../../src/onnx/logitRows';
import { readModelSkeleton } from '../../src/onnx/modelSkeleton';
import { encodeModel } from '../../src/onnx/onnxProto';
import { WANT_PRESENTS_INPUT } from '../../src/onnx/optionalPresents';
import { resolveModelFolder } from '../../src/runtime/modelFolder';

describe('present keys and values on request', function () {
  this.timeout(60000);

  it('the variant returns the original presents when asked, empty ones otherwise, and the same logits rows', async function () {
    const folder = resolveModelFolder('promptscope-tiny-lm');
    const skeleton = readModelSkeleton(folder.onnxPath);
    const variant = selectLogitRows(skeleton.model, 'logits', { optionalPresents: true })!;
    assert.ok((variant.graph?.node ?? []).some((n) => n.op_type === 'If'));
    const original = await ort.InferenceSession.create(folder.onnxPath);
    const rows = await ort.InferenceSession.create(encodeModel(variant), { extra: { session: { model_external_initializers_file_folder_path: skeleton.dir } } });
    const presents = original.outputNames.filter((o) => o.startsWith('present'));
    assert.ok(presents.length >= 2 && presents.every((p) => rows.outputNames.includes(p)), rows.outputNames.join(' '));
    const cfg = folder.config as { n_head: number; n_embd: number };
    const n = 6;
    const seq = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, n]);
    const a = [5, 17, 3, 99, 42, 8], b = [7, 7, 1, 2, 3, 4];
    const past = (batch: number) => Object.fromEntries(original.inputNames.filter((i) => i.startsWith('past')).map((name) => [name, new ort.Tensor('float32', new Float32Array(0), [batch, cfg.n_head, 0, cfg.n_embd / cfg.n_head])]));
    const inputs = (rows: number[][]) => ({ input_ids: seq(rows), attention_mask: seq(rows.map((r) => r.map(() => 1))), position_ids: seq(rows.map((r) => r.map((_, i) => i))), ...past(rows.length) });
    const want = (yes: boolean) => ({ ...inputs([a, b]), [LOGIT_ROWS_INPUT]: new ort.Tensor('int64', BigInt64Array.from([5n, 2n, 5n, 2n]), [2, 2]), [WANT_PRESENTS_INPUT]: new ort.Tensor('bool', [yes], []) });
    const ref = await original.run(inputs([a]));
    const asked = await rows.run(want(true), [ROW_LOGITS_OUTPUT, ...presents]);
    const quiet = await rows.run(want(false), [ROW_LOGITS_OUTPUT, ...presents]);
    const close = (x: number, y: number) => Math.abs(x - y) <= 1e-5 * (1 + Math.abs(y));
    for (const p of presents) {
      assert.deepEqual(asked[p].dims, ref[p].dims, `${p}: the first sequence's`);
      const got = asked[p].data as Float32Array, want = ref[p].data as Float32Array;
      assert.ok(want.every((v, i) => close(got[i], v)), `${p}: the original graph's values`);
      assert.equal((quiet[p].data as Float32Array).length, 0, `${p}: empty when not asked`);
    }
    const V = ref.logits.dims[2];
    const full = ref.logits.data as Float32Array;
    for (const out of [asked, quiet]) {
      const got = out[ROW_LOGITS_OUTPUT].data as Float32Array;
      [5, 2].forEach((r, j) => {
        for (let v = 0; v < V; v++) assert.ok(close(got[j * V + v], full[r * V + v]), `row ${r}, logit ${v}`);
      });
    }
    assert.deepEqual([...(asked[ROW_LOGITS_OUTPUT].data as Float32Array)], [...(quiet[ROW_LOGITS_OUTPUT].data as Float32Array)], 'the same rows either way');
  });
});
