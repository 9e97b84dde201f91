/** src/onnx has no import cycles (type-only imports included): each rule table and rewrite stands on its own. */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ONNX = path.resolve(__dirname, '../../src/onnx');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Relative imports and re-exports of a file, resolved to files inside `root`. */
function localImports(file: string, root: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*?\bfrom\s+['"](\.{1,2}\/[^'"]+)['"]/gm)) {
    const base = path.resolve(path.dirname(file), m[1]);
    const hit = [base + '.ts', path.join(base, 'index.ts')].find((p) => fs.existsSync(p));
    if (hit && hit.startsWith(root + path.sep)) out.push(hit);
  }
  return out;
}

function cycles(root: string): string[][] {
  const files = sources(root);
  const deps = new Map(files.map((f) => [f, localImports(f, root)]));
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (f: string): void => {
    state.set(f, 'open');
    stack.push(f);
    for (const d of deps.get(f) ?? []) {
      if (state.get(d) === 'open') found.push([...stack.slice(stack.indexOf(d)), d].map((x) => path.relative(root, x)));
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of files) if (!state.has(f)) visit(f);
  return found;
}

describe('src/onnx imports', () => {
  it('form no cycle', () => {
    const files = sources(ONNX);
    assert.ok(files.length > 10 && files.some((f) => f.endsWith('vjpRules.ts')), 'the scan sees the sources');
    assert.deepEqual(cycles(ONNX).map((c) => c.join(' → ')), []);
  });

  it('the scan finds a cycle when there is one', () => {
    const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'promptscope-cycle-')));
    try {
      fs.writeFileSync(path.join(dir, 'a.ts'), "import type { B } from './b';\nexport type A = B;\n");
      fs.writeFileSync(path.join(dir, 'b.ts'), "import { x } from './a';\nexport type B = number;\n");
      assert.deepEqual(cycles(dir), [['a.ts', 'b.ts', 'a.ts']]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
