/** Locations of test models: bundled models in the repo, real-world exports beside it (may be absent). */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const REPO = path.resolve(__dirname, '../..');
export const REAL_EXPORTS = process.env.PROMPTSCOPE_REAL_EXPORTS ?? path.resolve(REPO, '../shared/fixtures/real-exports');

export function realExport(rel: string): string | undefined {
  const p = path.join(REAL_EXPORTS, rel);
  return fs.existsSync(p) ? p : undefined;
}

export function bundled(name: string): { dir: string; onnx: string; reference?: string } | undefined {
  const dir = path.join(REPO, 'models', name);
  const onnx = path.join(dir, 'onnx', 'model.onnx');
  if (!fs.existsSync(onnx)) return undefined;
  const reference = path.join(dir, 'reference', 'reference.json');
  return { dir, onnx, reference: fs.existsSync(reference) ? reference : undefined };
}

/** Skips the current test with a message saying what is missing. */
export function skipUnless<T>(ctx: Mocha.Context, value: T | undefined, what: string): T {
  if (value === undefined) {
    console.log(`      (skipped: ${what} not found)`);
    ctx.skip();
  }
  return value as T;
}
