/**
 * The results file of `promptscope batch`: one JSON line per explained row, `{"row": i, "result": {...}}`,
 * appended as rows finish (in any order). Re-running with the same file resumes: rows already written are
 * skipped, and a last line cut off by an interruption is discarded.
 */
import * as fs from 'node:fs';
import type { AttributionResult } from '../core/result';
import { UsageError } from './args';

export interface BatchLine {
  row: number;
  result: AttributionResult;
}

export interface ResumeInfo {
  /** Rows that already have a result. */
  done: Set<number>;
  /** Bytes of a cut-off last line that were removed. */
  discardedBytes: number;
}

const CHUNK = 1 << 20;

/**
 * Reads the lines already in `file` (if it exists), calling `onLine` for each, and truncates a partial last
 * line. `promptOf(row)` gives the input's prompt for a row (undefined: no such row), so that a results file of
 * another input is refused instead of being mixed with this one.
 */
export function resumeFrom(file: string, promptOf: (row: number) => string | undefined, onLine: (line: BatchLine) => void): ResumeInfo {
  const done = new Set<number>();
  if (!fs.existsSync(file)) return { done, discardedBytes: 0 };
  const fd = fs.openSync(file, 'r+');
  try {
    const size = fs.fstatSync(fd).size;
    let carry = Buffer.alloc(0);
    let offset = 0; // file offset of carry[0]
    let lineNo = 0;
    const buf = Buffer.alloc(CHUNK);
    for (let pos = 0; pos < size;) {
      const n = fs.readSync(fd, buf, 0, CHUNK, pos);
      if (n <= 0) break;
      pos += n;
      let data = Buffer.concat([carry, buf.subarray(0, n)]);
      let nl: number;
      while ((nl = data.indexOf(0x0a)) >= 0) {
        lineNo++;
        const text = data.subarray(0, nl).toString('utf8');
        data = data.subarray(nl + 1);
        offset += nl + 1;
        if (text.trim() === '') continue;
        const line = parseLine(text, file, lineNo);
        const prompt = promptOf(line.row);
        if (prompt === undefined || prompt !== line.result.input.text) {
          throw new UsageError(
            `${file} holds results of a different input (line ${lineNo}: ${prompt === undefined ? `row ${line.row} is not in this input` : `row ${line.row}'s prompt differs`}). Give another --out file, or delete it to start again.`,
          );
        }
        if (done.has(line.row)) continue;
        done.add(line.row);
        onLine(line);
      }
      carry = Buffer.from(data);
    }
    // No newline at the end: the process stopped while writing this line.
    if (carry.length) fs.ftruncateSync(fd, offset);
    return { done, discardedBytes: carry.length };
  } finally {
    fs.closeSync(fd);
  }
}

function parseLine(text: string, file: string, lineNo: number): BatchLine {
  let v: Partial<BatchLine> | undefined;
  try {
    v = JSON.parse(text) as Partial<BatchLine>;
  } catch {
    v = undefined;
  }
  if (!v || !Number.isInteger(v.row) || typeof v.result?.input?.text !== 'string') {
    throw new UsageError(`${file} line ${lineNo} is not a Promptscope batch result. Give another --out file, or delete it to start again.`);
  }
  return v as BatchLine;
}

/** Appends whole lines; each line is one write, so an interruption can cut only the last one. */
export class BatchWriter {
  private readonly fd: number;
  constructor(readonly file: string) {
    this.fd = fs.openSync(file, 'a');
  }

  write(line: BatchLine): void {
    const bytes = Buffer.from(JSON.stringify(line) + '\n', 'utf8');
    for (let at = 0; at < bytes.length;) at += fs.writeSync(this.fd, bytes, at, bytes.length - at);
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
