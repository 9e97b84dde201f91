/** The built CLI (dist/cli.js) on the bundled model: outputs, exports, and one clear error per bad input. */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseResult } from '../../src/core/result';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist/cli.js');

function cli(args: string[], input?: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', cwd: ROOT, timeout: 120000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('promptscope CLI', function () {
  before(function () {
    assert.ok(fs.existsSync(CLI), 'dist/cli.js is missing: run npm run build first');
  });

  it('explains a prompt from an argument: prediction, probability and top tokens', function () {
    const r = cli(['explain', 'The capital of France is']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Prediction: " Paris" \(p = 0\.\d+\)/);
    assert.match(r.stdout, /1\. ".+"\s+[+-]\d/);
    assert.doesNotMatch(r.stdout, /\x1b\[/, 'no colour codes when stdout is not a terminal');
  });

  it('reads stdin and --file, and colours on request', function () {
    const viaStdin = cli(['explain', '--color'], 'The capital of France is');
    assert.equal(viaStdin.code, 0, viaStdin.stderr);
    assert.match(viaStdin.stdout, /\x1b\[48;2;\d+;\d+;\d+m/);
    const file = path.join(os.tmpdir(), `promptscope-cli-${process.pid}.txt`);
    fs.writeFileSync(file, 'The capital of France is');
    const viaFile = cli(['explain', '--file', file, '--granularity', 'word']);
    assert.equal(viaFile.code, 0, viaFile.stderr);
    assert.match(viaFile.stdout, /" capital"|" France"/);
  });

  it('writes JSON, CSV and HTML that agree with each other', function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promptscope-'));
    const r = cli(['explain', 'Alice met Bob. Later, Alice said hello to', '--generate', '2', '--json', '--csv', path.join(dir, 'a.csv'), '--html', path.join(dir, 'a.html')]);
    assert.equal(r.code, 0, r.stderr);
    const result = parseResult(JSON.parse(r.stdout));
    assert.equal(result.target.rows.length, 2);
    const csv = fs.readFileSync(path.join(dir, 'a.csv'), 'utf8').trim().split('\n');
    assert.equal(csv.length, 1 + 2 * result.input.tokens.length);
    const html = fs.readFileSync(path.join(dir, 'a.html'), 'utf8');
    assert.match(html, /Content-Security-Policy/);
    assert.doesNotMatch(html, /<script/i);
    assert.equal((html.match(/<span title=/g) ?? []).length, 2 * result.input.tokens.filter((t) => !t.special).length);
  });

  const bad: [string, string[], string | undefined, RegExp][] = [
    ['empty input', ['explain', '   '], undefined, /Nothing to explain/],
    ['whitespace from stdin', ['explain'], ' \n\t ', /Nothing to explain/],
    ['text beyond the context length', ['explain', 'word '.repeat(400)], undefined, /more than the \d+ that fit in the model.s context of \d+\. Use less text or add --truncate/],
    ['an unknown method', ['explain', 'Hello there', '--method', 'magic'], undefined, /Unknown method "magic"\. Available methods: occlusion/],
    ['a target that is not one vocabulary token', ['explain', 'Hello there', '--target', ' antidisestablishmentarianism'], undefined, /must be one token/],
    ['a missing model folder', ['explain', 'Hello', '--model', '/nonexistent/model'], undefined, /Model folder not found/],
    ['a folder that is not a model', ['explain', 'Hello', '--model', 'src'], undefined, /not a model folder: config\.json is missing/],
    ['a classifier label on a language model', ['explain', 'Hello', '--label', 'positive'], undefined, /Class labels apply to classifiers only/],
    ['an unknown option', ['explain', 'Hello', '--bogus'], undefined, /Unknown option --bogus/],
    ['an unknown integrated-gradients baseline', ['explain', 'Hello', '--ig-baseline', 'one'], undefined, /Unknown integrated-gradients baseline "one"/],
    ['a gradient method with an out-of-range step count', ['explain', 'Hello', '--method', 'integrated-gradients', '--steps', '100000'], undefined, /steps must be between 1 and 4096/],
  ];
  for (const [what, args, input, message] of bad) {
    it(`rejects ${what} with one clear message and a non-zero exit`, function () {
      const r = cli(args, input);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line, got: ${r.stderr}`);
    });
  }

  it('rejects a corrupt .onnx file with a message that names the file', function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promptscope-corrupt-'));
    const src = path.join(ROOT, 'models/promptscope-tiny-lm');
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) fs.copyFileSync(path.join(src, f), path.join(dir, f));
    fs.mkdirSync(path.join(dir, 'onnx'));
    fs.writeFileSync(path.join(dir, 'onnx/model.onnx'), Buffer.from('this is not a protobuf'));
    const r = cli(['explain', 'Hello', '--model', dir]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /could not be loaded .*corrupt or truncated/);
  });

  it('runs gradient methods with their parameters and reports them', function () {
    const r = cli(['explain', 'The capital of France is', '--method', 'integrated-gradients,smoothgrad', '--ig-baseline', 'pad', '--steps', '8', '--max-steps', '8', '--samples', '4', '--seed', '3', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const result = parseResult(JSON.parse(r.stdout));
    assert.deepEqual(result.runs.map((x) => x.method), ['integrated-gradients', 'smoothgrad']);
    assert.deepEqual(result.runs[0].params, { steps: 8, maxSteps: 8, igBaseline: 'pad', rule: 'adaptive' });
    assert.equal(result.runs[0].diagnostics.backwardPasses, 9, 'f(x), f(baseline) and the 7 interior nodes of 8 intervals');
    assert.equal(result.runs[0].diagnostics.completenessGap!.length, 1);
    assert.equal(result.runs[0].diagnostics.relativeCompletenessGap!.length, 1);
    assert.equal(result.runs[1].diagnostics.seed, 3);
  });

  it('explains the last tokens of a long prompt with --truncate', function () {
    const r = cli(['explain', 'word '.repeat(400) + 'The capital of France is', '--truncate', '--max-tokens', '24', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const result = parseResult(JSON.parse(r.stdout));
    assert.ok(result.input.truncatedAt! > 0);
    assert.equal(result.input.tokens.length, 24);
    assert.ok(result.input.text.slice(result.input.truncatedAt!).endsWith('The capital of France is'));
  });
});
