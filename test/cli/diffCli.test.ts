/** `promptscope diff` on two results the built CLI saved: the prediction's move and the aligned tokens. */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseResult } from '../../src/core/result';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist/cli.js');

function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT, timeout: 120000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('promptscope diff', function () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promptscope-diff-'));
  const a = path.join(dir, 'a.json');
  const b = path.join(dir, 'b.json');
  before(function () {
    assert.ok(fs.existsSync(CLI), 'dist/cli.js is missing: run npm run build first');
    for (const [file, text] of [[a, 'The capital of France is'], [b, 'Bob lives in Rome. The capital of France is']]) {
      const r = cli(['explain', text, '--method', 'occlusion', '--no-trust', '--json']);
      assert.equal(r.code, 0, r.stderr);
      fs.writeFileSync(file, r.stdout);
    }
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('prints the prediction before → after and one line per aligned token', function () {
    const ra = parseResult(JSON.parse(fs.readFileSync(a, 'utf8')));
    const rb = parseResult(JSON.parse(fs.readFileSync(b, 'utf8')));
    const r = cli(['diff', a, b]);
    assert.equal(r.code, 0, r.stderr);
    const pct = (p: number) => `${(p * 100).toFixed(1)} %`;
    const target = ra.target.rows[0];
    const after = rb.predictions.find((p) => p.tokenId === target.tokenId);
    assert.ok(r.stdout.startsWith(`Prediction: ${JSON.stringify(target.text)} ${pct(target.probability)} → ${after ? pct(after.probability) : 'not among'}`), r.stdout);
    assert.match(r.stdout, /^= " France" +[+−]\d+\.\d{4} → [+−]\d+\.\d{4} +\([+−]\d+\.\d{4}\)$/m);
    assert.match(r.stdout, /^\+ " Rome" +[+−]\d+\.\d{4}$/m);
    const json = JSON.parse(cli(['diff', a, b, '--json']).stdout) as { tokens: { kind: string; b?: number }[] };
    assert.equal(json.tokens.filter((t) => t.b !== undefined).length, rb.input.tokens.filter((t) => !t.special).length);
  });

  it('names a missing file, a file that is not a result, and a wrong count', function () {
    const notResult = path.join(dir, 'x.json');
    fs.writeFileSync(notResult, '{"a": 1}');
    const bad = cli(['diff', a, notResult]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /x\.json is not a result this Promptscope reads: Not a Promptscope attribution result .* Save results with promptscope explain --json\./);
    assert.match(cli(['diff', a, path.join(dir, 'none.json')]).stderr, /Cannot read .*none\.json: no such file/);
    assert.match(cli(['diff', a]).stderr, /needs two result files/);
  });
});
