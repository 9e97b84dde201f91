/** Embedding rows read from a weight file on demand equal the matrix they were written from. */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EmbeddingRows } from '../../src/runtime/embeddingRows';

describe('embedding rows from the model file', function () {
  // 64 wide: the mean reads 16384 rows at a time, so 70001 rows take five reads.
  const vocab = 70_001, hidden = 64, offset = 12;
  const matrix = Float32Array.from({ length: vocab * hidden }, (_, i) => Math.sin(i) * (1 + (i % 7)));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promptscope-emb-'));
  const file = path.join(dir, 'weights.bin');
  before(() => fs.writeFileSync(file, Buffer.concat([Buffer.alloc(offset, 0xff), Buffer.from(matrix.buffer), Buffer.alloc(5)])));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('looks up rows, reads all of them and averages them in float64 like the matrix in memory', function () {
    const rows = EmbeddingRows.inFile(file, offset, vocab, hidden);
    const ids = [0, vocab - 1, 5, 5, 1234];
    assert.deepEqual(Array.from(rows.lookup(ids)), ids.flatMap((id) => Array.from(matrix.subarray(id * hidden, (id + 1) * hidden))));
    const all = rows.all();
    assert.ok(Buffer.from(all.buffer, all.byteOffset, all.byteLength).equals(Buffer.from(matrix.buffer)), 'the whole matrix');
    const mean = Array.from({ length: hidden }, (_, k) => {
      let s = 0;
      for (let r = 0; r < vocab; r++) s += matrix[r * hidden + k];
      return Math.fround(s / vocab);
    });
    assert.deepEqual(Array.from(rows.mean()), mean);
    assert.deepEqual(Array.from(EmbeddingRows.inMemory(matrix, vocab, hidden).mean()), mean);
    assert.throws(() => rows.lookup([vocab]), /outside the vocabulary/);
  });

  it('refuses a file shorter than the matrix', function () {
    assert.throws(() => EmbeddingRows.inFile(file, offset + 10, vocab, hidden), /shorter than its graph says/);
  });
});
