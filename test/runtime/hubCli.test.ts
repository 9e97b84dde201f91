/**
 * `promptscope explain --model org/name` (the built dist/cli.js) against the local hub server: the first run
 * downloads with a progress line on stderr, the result equals the one from the bundled copy of the same
 * model, and a second run with the server stopped gives the same result from the cache.
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseResult } from '../../src/core/result';
import { HubServer } from './hubServer';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist/cli.js');
const TOKEN = 'hf_cli_test_token_71c0';

/** Asynchronous, so the server in this process keeps answering while the CLI runs. */
function cli(args: string[], env: Record<string, string | undefined>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, HF_TOKEN: undefined, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('promptscope explain --model org/name (local hub server)', function () {
  const server = new HubServer();
  let cache: string;
  let env: Record<string, string | undefined>;
  const prompt = 'The capital of France is';

  before(async function () {
    assert.ok(fs.existsSync(CLI), 'dist/cli.js is missing: run npm run build first');
    const tiny = path.join(ROOT, 'models/promptscope-tiny-lm');
    server.addRepo('promptscope/tiny-lm', tiny, { skip: /^(eval|reference)/ });
    server.addRepo('promptscope/gated-lm', tiny, { skip: /^(eval|reference)/ });
    server.faults.gated.set('promptscope/gated-lm', TOKEN);
    await server.start();
    cache = fs.mkdtempSync(path.join(os.tmpdir(), 'promptscope-hubcli-'));
    env = { PROMPTSCOPE_CACHE_DIR: cache, HF_ENDPOINT: server.url };
  });
  after(async function () {
    await server.stop();
    fs.rmSync(cache, { recursive: true, force: true });
  });

  it('downloads once with a progress line, explains like the bundled copy, and works again with the server stopped', async function () {
    // Occlusion: deterministic to the last bit, so the two copies must agree exactly.
    const bundled = await cli(['explain', prompt, '--method', 'occlusion', '--json'], {});
    assert.equal(bundled.code, 0, bundled.stderr);
    const expected = parseResult(JSON.parse(bundled.stdout));

    const first = await cli(['explain', prompt, '--model', 'promptscope/tiny-lm', '--method', 'occlusion', '--json'], env);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /Downloading promptscope\/tiny-lm: onnx\/model\.onnx · .* of 10\.\d MB/);
    const dir = path.join(cache, 'hub', 'promptscope', 'tiny-lm', 'main');
    assert.ok(first.stderr.includes(`Model files are in ${dir}`));
    const got = parseResult(JSON.parse(first.stdout));
    assert.equal(got.model.id, 'promptscope/tiny-lm');
    assert.deepEqual(got.target.rows.map((r) => r.text), expected.target.rows.map((r) => r.text));
    assert.deepEqual(got.runs[0].scores, expected.runs[0].scores);
    assert.ok(!fs.existsSync(path.join(dir, 'README.md')), 'only the files the model needs');

    const missing = await cli(['explain', prompt, '--model', 'promptscope/tiny-lm', '--variant', 'fp16'], env);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^promptscope: promptscope\/tiny-lm has no fp16 variant \(model_fp16\.onnx\)\. Present: fp32 \(model\.onnx\)\./);

    const listed = await cli(['--list-models'], env);
    assert.deepEqual(listed.stdout.trim().split('\n').filter((l) => l.startsWith('promptscope/')), ['promptscope/tiny-lm (downloaded)']);

    await server.stop();
    const offline = await cli(['explain', prompt, '--model', 'promptscope/tiny-lm', '--method', 'occlusion', '--json'], env);
    assert.equal(offline.code, 0, offline.stderr);
    assert.equal(offline.stderr, '', 'no download, no message');
    assert.deepEqual(parseResult(JSON.parse(offline.stdout)).runs[0].scores, expected.runs[0].scores);

    const never = await cli(['explain', prompt, '--model', 'promptscope/other-lm'], env);
    assert.equal(never.code, 2);
    const lines = never.stderr.trim().split('\n');
    assert.equal(lines.length, 1, never.stderr);
    assert.match(lines[0], /^promptscope: Could not reach http:\/\/127\.0\.0\.1:\d+ to download promptscope\/other-lm \(ECONNREFUSED\)/);
    assert.ok(lines[0].includes(path.join(cache, 'hub', 'promptscope', 'other-lm', 'main')));
    await server.start();
  });

  it('a gated model: one message without HF_TOKEN, downloaded with it, the token printed nowhere', async function () {
    const local = { ...env, HF_ENDPOINT: server.url };
    const refused = await cli(['explain', prompt, '--model', 'promptscope/gated-lm'], local);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /^promptscope: .* refused access to promptscope\/gated-lm \(HTTP 401\).*HF_TOKEN.*\n$/);
    const ok = await cli(['explain', prompt, '--model', 'promptscope/gated-lm'], { ...local, HF_TOKEN: TOKEN });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /Prediction: "/);
    assert.ok(!(ok.stdout + ok.stderr + refused.stderr).includes(TOKEN));
  });
});
