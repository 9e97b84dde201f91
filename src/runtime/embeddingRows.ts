/**
 * The token-embedding matrix of a gradient backend, [vocab, hidden] fp32. When it sits as plain fp32 bytes in the
 * model file (the usual case), rows are read from the file when asked for instead of keeping a copy of the whole
 * matrix (74 MB for a 32k × 576 table) in memory; the page cache serves repeated reads.
 */
import * as fs from 'node:fs';

export class EmbeddingRows {
  private constructor(
    readonly vocabSize: number,
    readonly hiddenSize: number,
    private readonly matrix?: Float32Array,
    private readonly file?: { path: string; offset: number },
  ) {}

  static inMemory(matrix: Float32Array, vocabSize: number, hiddenSize: number): EmbeddingRows {
    return new EmbeddingRows(vocabSize, hiddenSize, matrix);
  }

  static inFile(path: string, offset: number, vocabSize: number, hiddenSize: number): EmbeddingRows {
    const need = offset + vocabSize * hiddenSize * 4;
    if (fs.statSync(path).size < need) throw new Error(`${path} is shorter than its graph says.`);
    return new EmbeddingRows(vocabSize, hiddenSize, undefined, { path, offset });
  }

  /** Rows `first` … `first + count − 1`, row-major. */
  rows(first: number, count: number): Float32Array {
    return this.withFile((read) => read(first, count));
  }

  /** The rows of these ids, row-major [ids, hidden]. */
  lookup(ids: number[]): Float32Array {
    const h = this.hiddenSize, v = this.vocabSize;
    const out = new Float32Array(ids.length * h);
    this.withFile((read) => ids.forEach((id, i) => {
      if (!Number.isInteger(id) || id < 0 || id >= v) throw new Error(`Token id ${id} is outside the vocabulary (size ${v}).`);
      out.set(read(id, 1), i * h);
    }));
    return out;
  }

  private withFile<T>(use: (read: (first: number, count: number) => Float32Array) => T): T {
    const h = this.hiddenSize;
    if (this.matrix) return use((first, count) => this.matrix!.subarray(first * h, (first + count) * h));
    const { path, offset } = this.file!;
    const fd = fs.openSync(path, 'r');
    try {
      return use((first, count) => {
        const out = new Float32Array(count * h);
        const bytes = new Uint8Array(out.buffer);
        for (let done = 0; done < bytes.length;) {
          const n = fs.readSync(fd, bytes, done, bytes.length - done, offset + first * h * 4 + done);
          if (n <= 0) throw new Error(`${path} is shorter than its graph says.`);
          done += n;
        }
        return out;
      });
    } finally {
      fs.closeSync(fd);
    }
  }

  /** The mean of all rows, accumulated in float64 over chunks of rows. */
  mean(): Float32Array {
    const h = this.hiddenSize, v = this.vocabSize;
    const acc = new Float64Array(h);
    const chunk = Math.max(1, Math.floor((4 << 20) / (4 * h)));
    this.withFile((read) => {
      for (let r0 = 0; r0 < v; r0 += chunk) {
        const n = Math.min(chunk, v - r0);
        const e = read(r0, n);
        for (let r = 0; r < n; r++) for (let k = 0; k < h; k++) acc[k] += e[r * h + k];
      }
    });
    return Float32Array.from(acc, (x) => x / v);
  }

  /** The whole matrix (read from the file on each call when it is not kept in memory). */
  all(): Float32Array {
    return this.rows(0, this.vocabSize);
  }
}
