/**
 * A gradient graph cut into If segments computes what the uncut graph computes on the same executor: the cut changes
 * how onnxruntime plans memory, not the arithmetic (only a fusion across a segment boundary, such as MatMul + Add into
 * Gemm, may sum in another order: float rounding).
 */
import * as assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { buildGradientModel } from '../../src/onnx/gradientModel';
import { loadModel } from '../../src/onnx/modelFile';
import { decodeModel } from '../../src/onnx/onnxProto';
import { bundled } from './fixtures';

describe('gradient graphs cut into If segments', () => {
  it('promptscope-tiny-lm: segments of 60 nodes give the same scores, gradients, logits rows and top tokens', async function () {
    const b = bundled('promptscope-tiny-lm');
    if (!b) this.skip();
    const model = () => loadModel(b!.onnx);
    const whole = buildGradientModel(model(), { kind: 'causal-lm', segmentFrom: Infinity });
    const cut = buildGradientModel(model(), { kind: 'causal-lm', segmentFrom: 0, segmentNodes: 60 });
    assert.equal(whole.segments, 0);
    const top = decodeModel(cut.bytes).graph!.node ?? [];
    assert.ok(cut.segments >= 4, `${cut.segments} segments`);
    assert.equal(top.filter((n) => n.op_type === 'If').length, cut.segments);
    assert.ok(top.length <= cut.segments + 2, 'only the condition and the segments are left at the top level');
    const options: ort.InferenceSession.SessionOptions = { executionMode: 'sequential', graphOptimizationLevel: 'basic', intraOpNumThreads: 1 };
    const [sa, sb] = [await ort.InferenceSession.create(whole.bytes, options), await ort.InferenceSession.create(cut.bytes, options)];
    const B = 3, seq = 7, h = whole.hiddenSize;
    const feeds: Record<string, ort.Tensor> = {};
    for (const inp of whole.inputs) {
      const i64 = (v: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), dims);
      switch (inp.name) {
        case 'inputs_embeds': feeds[inp.name] = new ort.Tensor('float32', Float32Array.from({ length: B * seq * h }, (_, i) => Math.sin(i * 0.37) * 0.3), [B, seq, h]); break;
        // A given id, the top token (-1) and a weighted pair.
        case 'target_ids': feeds[inp.name] = i64([3, 0, -1, 0, 5, 9], [B, 2]); break;
        case 'target_positions': feeds[inp.name] = i64([6, 0, 2, 0, 4, 6], [B, 2]); break;
        case 'target_weights': feeds[inp.name] = new ort.Tensor('float32', Float32Array.from([1, 0, 1, 0, 0.5, -2]), [B, 2]); break;
        case 'attention_mask': feeds[inp.name] = i64(Array.from({ length: B * seq }, (_, i) => (i === 2 * seq ? 0 : 1)), [B, seq]); break;
        case 'position_ids': feeds[inp.name] = i64(Array.from({ length: B * seq }, (_, i) => i % seq), [B, seq]); break;
        default: throw new Error(`unexpected input ${inp.name}`);
      }
    }
    const [ra, rb] = [await sa.run(feeds), await sb.run(feeds)];
    assert.deepEqual(Object.keys(rb).sort(), Object.keys(ra).sort());
    for (const k of Object.keys(ra)) {
      assert.deepEqual(rb[k].dims, ra[k].dims, k);
      if (ra[k].type === 'int64') {
        assert.deepEqual(rb[k].data, ra[k].data, k);
        continue;
      }
      const [x, y] = [ra[k].data as Float32Array, rb[k].data as Float32Array];
      const top = Math.max(...x.map(Math.abs));
      x.forEach((v, i) => assert.ok(Math.abs(v - y[i]) <= 1e-5 * top, `${k}[${i}]: ${v} vs ${y[i]}`));
    }
    const grad = ra.inputs_embeds_grad.data as Float32Array;
    assert.ok(grad.some((v) => v !== 0), 'a gradient that is not all zeros');
  });
});
