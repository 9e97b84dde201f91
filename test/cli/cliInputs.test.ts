/**
 * The built CLI on inputs that used to mislead: unwritable export paths, prompts and continuations that do not
 * fit the context (the budget is checked by running the largest continuation it allows and one more), targets
 * and options that run but mean something else, and npm's configuration warning.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseResult } from '../../src/core/result';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist/cli.js');
const CONTEXT = (JSON.parse(fs.readFileSync(path.join(ROOT, 'models/promptscope-tiny-lm/config.json'), 'utf8')) as { n_positions: number }).n_positions;

function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT, timeout: 120000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Exit 2 with one line on stderr, no stack trace, no internal error. */
function assertRefused(r: { code: number; stderr: string }, message: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line, got: ${r.stderr}`);
}

const promptTokens = (text: string): number => parseResult(JSON.parse(cli(['explain', text, '--json']).stdout)).input.tokens.length;

describe('promptscope CLI inputs', function () {
  before(function () {
    assert.ok(fs.existsSync(CLI), 'dist/cli.js is missing: run npm run build first');
  });

  describe('export paths that cannot be written: one line, exit 2, no file left behind', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promptscope-export-'));
    const cases: [string, string[], RegExp][] = [
      ['a missing folder', ['--html', '/nonexistent/dir/x.html'], /Cannot write --html \/nonexistent\/dir\/x\.html: the folder \/nonexistent\/dir does not exist/],
      ['a folder', ['--html', dir], /Cannot write --html .*: it is a folder/],
      ['a file under /proc', ['--csv', '/proc/x.csv'], /Cannot write --csv \/proc\/x\.csv: /],
      ['a path through a file', ['--csv', path.join(CLI, 'x.csv')], /Cannot write --csv .*a part of the path is a file/],
    ];
    for (const [what, args, message] of cases) {
      it(what, () => {
        assertRefused(cli(['explain', 'Hello there', ...args]), message);
        assert.ok(!fs.existsSync('/proc/x.csv'));
      });
    }
    it('a writable path next to an unwritable one writes nothing', () => {
      const ok = path.join(dir, 'ok.html');
      assertRefused(cli(['explain', 'Hello there', '--html', ok, '--csv', '/nonexistent/y.csv']), /Cannot write --csv/);
      assert.ok(!fs.existsSync(ok), 'the --html file is not created when another export cannot be written');
    });
  });

  describe('the token budget', () => {
    const long = 'word '.repeat(200).trim();
    it('a continuation of N tokens feeds N − 1 after the prompt: the largest N it names runs, one more is refused', function () {
      const p = promptTokens(long);
      const most = CONTEXT - p + 1;
      const over = cli(['explain', long, '--generate', String(most + 1)]);
      assertRefused(over, new RegExp(`The text is ${p} tokens, more than the ${p - 1} that fit in the model's context of ${CONTEXT} with a ${most + 1}-token continuation \\(${most} fed back after the prompt\\)\\. Use less text, use --generate ${most} or fewer, or add --truncate to explain only the last ${p - 1} tokens\\.`));
      const fits = cli(['explain', long, '--generate', String(most), '--json']);
      assert.equal(fits.code, 0, fits.stderr);
      const r = parseResult(JSON.parse(fits.stdout));
      assert.equal(r.input.tokens.length, p);
      assert.ok(r.target.rows.length >= 1 && r.target.rows.length <= most);
    });

    it('--truncate keeps exactly the prompt tokens that fit beside the continuation', function () {
      const r = cli(['explain', 'word '.repeat(400) + 'The capital of France is', '--generate', '3', '--truncate', '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(parseResult(JSON.parse(r.stdout)).input.tokens.length, CONTEXT - 2);
    });

    it('--generate beyond the largest continuation is refused with the range, never a negative number', () => {
      const r = cli(['explain', 'The capital of France is', '--generate', '1000']);
      assertRefused(r, /Generate between 1 and 256 tokens \(got 1000\)/);
      assert.doesNotMatch(r.stderr, /-\d/);
    });

    it('a forced continuation longer than the context is refused, naming the largest that fits', () => {
      const r = cli(['explain', 'The capital of France is', '--force', ' word'.repeat(400)]);
      assertRefused(r, new RegExp(`The forced continuation of 400 tokens leaves no room for the prompt in the model's context of ${CONTEXT} tokens .* at most ${CONTEXT} continuation tokens`));
      assert.doesNotMatch(r.stderr, /-\d/);
    });

    it('--max-tokens: the message names the CLI flags, not an editor setting', () => {
      const r = cli(['explain', long, '--max-tokens', '24']);
      assertRefused(r, new RegExp(`The text is ${promptTokens(long)} tokens, more than the 24 that fit under the limit on prompt tokens\\. Select less text, raise --max-tokens \\(up to the model's context of ${CONTEXT}\\), or add --truncate to explain only the last 24 tokens\\.`));
      assert.doesNotMatch(r.stderr, /promptscope\.maxTokens/);
    });
  });

  describe('inputs that run but probably mean something else', () => {
    it('--target without the leading space the predicted token has: warns and names the spaced token', () => {
      const r = cli(['explain', 'The capital of France is', '--target', 'Paris']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /^promptscope: warning: "Paris" \(p = .+\) is not the token the model predicts here: " Paris" with a leading space has p = .+\. Use --target " Paris" to explain that one\.\n$/);
      const spaced = cli(['explain', 'The capital of France is', '--target', ' Paris']);
      assert.equal(spaced.code, 0, spaced.stderr);
      assert.equal(spaced.stderr, '');
    });

    it('--contrast with the same token on both sides is refused', () => {
      assertRefused(cli(['explain', 'The capital of France is', '--contrast', ' Paris, Paris']), /The target " Paris" and the foil " Paris" are the same tokens/);
    });

    it('options the chosen method does not use are warned about; used ones are not', () => {
      const r = cli(['explain', 'The capital of France is', '--method', 'occlusion', '--steps', '8', '--samples', '4']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stderr.trim().split('\n'), [
        'promptscope: warning: --steps was ignored: occlusion does not use it (see --help for the methods that do).',
        'promptscope: warning: --samples was ignored: occlusion does not use it (see --help for the methods that do).',
      ]);
      const used = cli(['explain', 'The capital of France is', '--method', 'integrated-gradients', '--steps', '8']);
      assert.equal(used.code, 0, used.stderr);
      assert.equal(used.stderr, '');
    });
  });

  it('npm reads the project configuration without an "Unknown project config" warning', () => {
    const r = spawnSync('npm', ['config', 'get', 'fund'], { cwd: ROOT, encoding: 'utf8', timeout: 60000 });
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /Unknown (project|env|user) config/);
  });
});
