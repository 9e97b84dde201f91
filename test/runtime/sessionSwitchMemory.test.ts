/**
 * What large models' session switches rely on to peak low: the embedding-input graph is built without reading the
 * embedding table (src/onnx/embeddingCut.ts reads it on first use), and collectGarbage() reclaims unreachable
 * buffers before a session that maps the weights opens.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildEmbedsForwardModel } from '../../src/onnx/embedsForward';
import { cutAtEmbeddings } from '../../src/onnx/embeddingCut';
import { Graph } from '../../src/onnx/graph';
import { readModelSkeleton } from '../../src/onnx/modelSkeleton';
import { collectGarbage } from '../../src/runtime/collectGarbage';

describe('session switches of large models', function () {
  const source = path.join(__dirname, '..', '..', 'models', 'promptscope-tiny-lm', 'onnx', 'model.onnx');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promptscope-switch-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('build the embedding-input graph without reading the weights, while the cut still gives the table on request', function () {
    const file = path.join(dir, 'model.onnx');
    fs.copyFileSync(source, file);
    const skeleton = readModelSkeleton(file);
    const original = readModelSkeleton(source);
    // Weights gone from the file: any read of them now fails.
    fs.writeFileSync(file, Buffer.alloc(0));
    const built = buildEmbedsForwardModel(skeleton.model, { causal: true });
    assert.ok(built.bytes.length > 0 && built.inputs.some((i) => i.name === 'inputs_embeds'));
    const cut = cutAtEmbeddings(Graph.fromModelProto(original.model));
    assert.equal(cut.matrix.length, cut.vocabSize * cut.hiddenSize);
    assert.ok(cut.matrix.some((x) => x !== 0), 'the table read from the model file');
    assert.throws(() => cutAtEmbeddings(Graph.fromModelProto(skeleton.model)).matrix);
  });

  it('collect unreachable buffers on request', async function () {
    let buffer: Float32Array | undefined = new Float32Array(1 << 20);
    const ref = new WeakRef(buffer);
    buffer = undefined;
    // A WeakRef's target stays alive until the job that made it ends.
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbage();
    assert.equal(ref.deref(), undefined);
  });
});
