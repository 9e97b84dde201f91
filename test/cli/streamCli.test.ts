/**
 * promptscope explain --stream: a line per partial result on stderr, and Ctrl+C (SIGINT) prints what was
 * computed, marked cancelled, with exit code 130. Runs the built CLI with the bundled LM.
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseResult } from '../../src/core/result';

const CLI = path.resolve(__dirname, '../../dist/cli.js');
const TEXT = 'The keeper of the old lighthouse climbed the stairs every evening and lit the lamp before the sun went down. Ships in the bay saw the light and turned away from the rocks. In the morning the fishermen came to thank him, and the keeper said that the light belongs to the';

function run(args: string[], interruptOnPartial: boolean): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'explain', TEXT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      if (interruptOnPartial && !sent && /promptscope: partial · tokens/.test(stderr)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('promptscope explain --stream', function () {
  before(function () {
    assert.ok(fs.existsSync(CLI), 'dist/cli.js is missing: run npm run build first');
  });

  it('prints a line per partial result, and the final JSON has no partial field', async function () {
    const r = await run(['--method', 'coarse-to-fine', '--pass-budget', '40', '--stream', '--json', '--no-trust'], false);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('promptscope: partial · '));
    assert.ok(lines.length >= 2, r.stderr);
    assert.match(lines[0], /^promptscope: partial · (paragraphs|sentences) · \d+\/\d+ passes$/);
    assert.equal(parseResult(JSON.parse(r.stdout)).partial, undefined);
  });

  it('Ctrl+C prints what was computed, marked cancelled, and exits 130', async function () {
    const r = await run(['--method', 'occlusion', '--generate', '8', '--batch-tokens', '64', '--stream', '--json', '--no-trust'], true);
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /cancelled; printing what was computed \(partial \(cancelled\) · tokens · \d+\/\d+ passes\)/);
    const result = parseResult(JSON.parse(r.stdout));
    assert.equal(result.partial?.state, 'cancelled');
    assert.equal(result.partial?.method, 'occlusion');
    const pending = new Set(result.partial?.pending);
    assert.ok(pending.size > 0, 'some tokens were not reached');
    for (const t of pending) assert.ok(result.runs[0].scores.every((row) => row[t] === 0), 'a token not reached scores 0');
    assert.ok(result.partial!.passes < result.partial!.totalPasses);
  });
});
