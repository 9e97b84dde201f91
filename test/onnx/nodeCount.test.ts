/** Counting an encoded model's nodes from the wire format agrees with decoding it. */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { countGraphNodes } from '../../src/onnx/nodeCount';
import { decodeModel } from '../../src/onnx/onnxProto';

describe('countGraphNodes', () => {
  for (const name of ['promptscope-tiny-lm', 'promptscope-tiny-sentiment']) {
    it(`counts the nodes of ${name} as decoding does`, () => {
      const bytes = fs.readFileSync(path.resolve(__dirname, `../../models/${name}/onnx/model.onnx`));
      const decoded = decodeModel(bytes).graph?.node?.length ?? 0;
      assert.ok(decoded > 10);
      assert.equal(countGraphNodes(bytes), decoded);
    });
  }
});
