/**
 * The real hub download code against a hub-shaped server on 127.0.0.1 (test/runtime/hubServer.ts) serving
 * the bundled tiny LM: fresh download, resume after a dropped connection and after a cancel, a 404 file,
 * a gated model with and without HF_TOKEN, corrupt bytes, offline use, and a second run with no request.
 * Every downloaded file is compared byte for byte with the bundled original.
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { EngineError } from '../../src/core/engineProtocol';
import { LOCK } from '../../src/runtime/hub/cacheLock';
import { ensureHubModel, MANIFEST } from '../../src/runtime/hub/hubModel';
import { parseHubId } from '../../src/runtime/hub/hubId';
import { neededFiles } from '../../src/runtime/hub/neededFiles';
import { loadModel } from '../../src/runtime/loadedModel';
import { HubServer, type Logged } from './hubServer';

const TINY = path.resolve(__dirname, '../../models/promptscope-tiny-lm');
const SKIP = /^(eval|reference|README\.md)/;
const TOKEN = 'hf_test_only_3f9c2a71';
const NEEDED = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx', 'onnx/model.onnx_data'];
// An external-data file (the model does not reference it, onnxruntime ignores it) and a variant nobody asked for.
const EXTRA = { 'onnx/model.onnx_data': Buffer.alloc(300_000, 7), 'onnx/model_q4.onnx': Buffer.alloc(200_000, 9) };

function source(file: string): Buffer {
  return file in EXTRA ? EXTRA[file as keyof typeof EXTRA] : fs.readFileSync(path.join(TINY, file));
}

function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).map((p) => p.split(path.sep).join('/')).filter((p) => fs.statSync(path.join(dir, p)).isFile()).sort();
}

/** The cache holds only verified final files (identical to the originals) and the manifest; `partial` allows .part files. */
function assertConsistent(dir: string, partial = false): string[] {
  const files = listFiles(dir).filter((f) => f !== MANIFEST && !/\.part(\.json)?$/.test(f));
  for (const f of files) assert.ok(source(f).equals(fs.readFileSync(path.join(dir, f))), `${f} differs from the original`);
  if (!partial) assert.deepEqual(listFiles(dir).filter((f) => f.includes('.part')), [], 'no partial files left');
  if (fs.existsSync(path.join(dir, MANIFEST))) {
    const m = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST), 'utf8')) as { verified: string[] };
    assert.deepEqual([...m.verified].sort(), files.filter((f) => m.verified.includes(f)).sort());
    for (const v of m.verified) assert.ok(files.includes(v), `${v} is marked verified but missing`);
  }
  return files;
}

/** The address of a port nothing listens on (just opened and closed). */
async function closedPort(): Promise<string> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return `http://127.0.0.1:${port}`;
}

function catchEngineError(p: Promise<unknown>): Promise<EngineError> {
  return p.then(
    () => assert.fail('expected an error'),
    (err: unknown) => {
      assert.ok(err instanceof EngineError, String(err));
      return err;
    },
  );
}

describe('hub downloads (local hub server)', function () {
  const server = new HubServer();
  let cache: string;
  const id = parseHubId('promptscope/tiny-lm')!;
  const since = (n: number, f?: (l: Logged) => boolean) => server.log.slice(n).filter(f ?? (() => true));
  const fetchOpts = () => ({ cacheRoot: cache, endpoint: server.url });

  before(async function () {
    server.addRepo('promptscope/tiny-lm', TINY, { skip: SKIP, extra: EXTRA });
    server.addRepo('promptscope/gated-lm', TINY, { skip: SKIP, extra: EXTRA });
    server.faults.gated.set('promptscope/gated-lm', TOKEN);
    await server.start();
  });
  after(() => server.stop());
  beforeEach(function () {
    cache = fs.mkdtempSync(path.join(os.tmpdir(), 'promptscope-hub-'));
    server.faults = { dropAfter: new Map(), corrupt: new Map(), missing: new Set(), gated: server.faults.gated };
    server.faults.gatedFilesOnly = false;
    delete process.env.HF_TOKEN;
  });
  afterEach(() => fs.rmSync(cache, { recursive: true, force: true }));

  it('downloads the files the variant needs, verified, then reuses them with no request', async function () {
    const progress: [number, number][] = [];
    const n0 = server.log.length;
    const got = await ensureHubModel(id, { ...fetchOpts(), onProgress: (done, total) => progress.push([done, total]) });
    assert.equal(got.onnx, 'onnx/model.onnx');
    assert.equal(got.variant, 'fp32');
    assert.deepEqual(assertConsistent(got.dir), [...NEEDED].sort(), 'exactly the needed files, none of the other variant');
    const total = NEEDED.reduce((s, f) => s + source(f).length, 0);
    assert.equal(got.downloadedBytes, total);
    assert.ok(progress.every(([, t]) => t === total));
    assert.ok(progress.every(([d], i) => i === 0 || d >= progress[i - 1][0]), 'progress never goes back');
    assert.deepEqual(progress.at(-1), [total, total]);
    const log = since(n0);
    assert.ok(log.filter((l) => l.url.includes('/tree/')).length > 1, 'the paged listing was followed');
    assert.ok(log.some((l) => l.url.startsWith('/storage/') && l.host === new URL(server.storageUrl).host), 'the LFS redirect was followed');

    const manifest = JSON.parse(fs.readFileSync(path.join(got.dir, MANIFEST), 'utf8')) as { auto?: Record<string, { variant: string }> };
    assert.equal(manifest.auto?.forward?.variant, 'fp32', 'what auto picked is kept for the next runs');
    const n1 = server.log.length;
    const again = await ensureHubModel(id, fetchOpts());
    assert.equal(again.dir, got.dir);
    assert.equal(again.downloadedBytes, 0);
    assert.equal(server.log.length, n1, 'a second run makes no request');
  });

  it('resumes with a Range request after the connection drops mid-file', async function () {
    server.faults.dropAfter.set('onnx/model.onnx', 3_000_000);
    const n0 = server.log.length;
    const got = await ensureHubModel(id, fetchOpts());
    assertConsistent(got.dir);
    const ranged = since(n0, (l) => l.url.startsWith('/storage/') && !!l.range);
    assert.equal(ranged.length, 1, 'one resumed request');
    const start = Number(ranged[0].range!.match(/^bytes=(\d+)-$/)![1]);
    assert.ok(start > 0 && start <= 3_000_000, `resumed at ${start}`);
    assert.equal(ranged[0].ifRange, `"${server.repos.get('promptscope/tiny-lm')!.find((f) => f.path === 'onnx/model.onnx')!.sha256}"`);
  });

  it('a busy storage host (HTTP 503) is asked again; one that stays busy gives one message', async function () {
    server.faults.busy = new Map([['onnx/model.onnx', 2]]);
    const got = await ensureHubModel(id, fetchOpts());
    assertConsistent(got.dir);
    fs.rmSync(cache, { recursive: true, force: true });
    server.faults.busy = new Map([['onnx/model.onnx', 100]]);
    const err = await catchEngineError(ensureHubModel(id, fetchOpts()));
    assert.match(err.message, /lists onnx\/model\.onnx in promptscope\/tiny-lm but answered HTTP 503 \(Service temporarily unavailable\)/);
    assertConsistent(got.dir);
  });

  it('a cancelled download keeps its part file and the next run resumes it', async function () {
    server.faults.slow = new Set(['onnx/model.onnx']);
    const controller = new AbortController();
    const onnxSize = source('onnx/model.onnx').length;
    const err = await ensureHubModel(id, {
      ...fetchOpts(),
      signal: controller.signal,
      onProgress: (_d, _t, message) => {
        if (message.includes('onnx/model.onnx ·') && _d > 2_000_000) controller.abort();
      },
    }).then(() => undefined, (e: Error) => e);
    assert.equal(err?.name, 'CancelledError');
    const dir = path.join(cache, 'hub', 'promptscope', 'tiny-lm', 'main');
    assertConsistent(dir, true);
    assert.ok(!fs.existsSync(path.join(dir, 'onnx/model.onnx')), 'no unverified final file');
    const part = fs.statSync(path.join(dir, 'onnx/model.onnx.part')).size;
    assert.ok(part > 0 && part < onnxSize);

    server.faults.slow = undefined;
    const n0 = server.log.length;
    await ensureHubModel(id, fetchOpts());
    assertConsistent(dir);
    const onnxRequests = since(n0, (l) => l.url.startsWith('/storage/') && l.url.includes(server.repos.get('promptscope/tiny-lm')!.find((f) => f.path === 'onnx/model.onnx')!.sha256));
    assert.deepEqual(onnxRequests.map((l) => l.range), [`bytes=${part}-`]);
    assert.ok(!since(n0).some((l) => l.url.endsWith('/config.json')), 'verified files are not fetched again');
  });

  it('a 404 file gives one message naming the cache folder; the rest stays verified and the retry fetches only that file', async function () {
    server.faults.missing.add('onnx/model.onnx');
    const err = await catchEngineError(ensureHubModel(id, fetchOpts()));
    const dir = path.join(cache, 'hub', 'promptscope', 'tiny-lm', 'main');
    assert.match(err.message, /lists onnx\/model\.onnx in promptscope\/tiny-lm but answered HTTP 404/);
    assert.ok(err.message.includes(dir), 'names the cache folder');
    assert.equal(err.details?.cacheDir, dir);
    const files = assertConsistent(dir);
    assert.ok(!files.includes('onnx/model.onnx'));

    server.faults.missing.clear();
    const n0 = server.log.length;
    await ensureHubModel(id, fetchOpts());
    assertConsistent(dir);
    const resolves = since(n0, (l) => l.url.includes('/resolve/')).map((l) => l.url.split('/resolve/main/')[1]);
    assert.deepEqual(resolves.sort(), ['onnx/model.onnx', 'onnx/model.onnx_data'].sort().filter((f) => !files.includes(f)));
  });

  it('a gated model: refused without HF_TOKEN or with a wrong one, downloaded with it; the token goes to the hub only', async function () {
    const gated = parseHubId('promptscope/gated-lm')!;
    const dir = path.join(cache, 'hub', 'promptscope', 'gated-lm', 'main');
    const without = await catchEngineError(ensureHubModel(gated, fetchOpts()));
    assert.match(without.message, /refused access to promptscope\/gated-lm \(HTTP 401\).*HF_TOKEN/);
    assert.ok(without.message.includes(dir));
    assert.deepEqual(assertConsistent(dir), []);

    process.env.HF_TOKEN = 'hf_wrong_token_0000';
    const wrong = await catchEngineError(ensureHubModel(gated, fetchOpts()));
    assert.match(wrong.message, /refused the access token in HF_TOKEN/);
    assert.ok(!wrong.message.includes('hf_wrong_token_0000'), 'the token is never in a message');

    process.env.HF_TOKEN = TOKEN;
    const n0 = server.log.length;
    const got = await ensureHubModel(gated, fetchOpts());
    assertConsistent(got.dir);
    const log = since(n0);
    const storageHost = new URL(server.storageUrl).host;
    assert.ok(log.filter((l) => l.host !== storageHost).every((l) => l.authorization === `Bearer ${TOKEN}`));
    assert.ok(log.filter((l) => l.host === storageHost).every((l) => l.authorization === undefined), 'no token to the storage host');
    for (const f of listFiles(cache)) assert.ok(!fs.readFileSync(path.join(cache, f)).includes(TOKEN), `token stored in ${f}`);
  });

  it('a gated model whose listing is public: the refused download gives the same message and writes no file', async function () {
    server.faults.gatedFilesOnly = true;
    const gated = parseHubId('promptscope/gated-lm')!;
    const err = await catchEngineError(ensureHubModel(gated, fetchOpts()));
    assert.match(err.message, /refused access to promptscope\/gated-lm \(HTTP 401\).*HF_TOKEN/);
    const dir = path.join(cache, 'hub', 'promptscope', 'gated-lm', 'main');
    assert.deepEqual(assertConsistent(dir), []);
    process.env.HF_TOKEN = TOKEN;
    assertConsistent((await ensureHubModel(gated, fetchOpts())).dir);
  });

  it('waits for another process downloading the same model, and takes over a lock whose process is gone', async function () {
    const dir = path.join(cache, 'hub', 'promptscope', 'tiny-lm', 'main');
    fs.mkdirSync(dir, { recursive: true });
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      fs.writeFileSync(path.join(dir, LOCK), String(other.pid));
      const messages: string[] = [];
      const n0 = server.log.length;
      const pending = ensureHubModel(id, { ...fetchOpts(), onProgress: (_d, _t, m) => messages.push(m) });
      await new Promise((r) => setTimeout(r, 600));
      assert.equal(server.log.length, n0, 'no request while the other process holds the folder');
      assert.deepEqual(messages, ['Downloading promptscope/tiny-lm: waiting for another Promptscope process that is downloading it']);
      other.kill();
      await new Promise((r) => other.once('exit', r));
      assertConsistent((await pending).dir);
      assert.ok(!fs.existsSync(path.join(dir, LOCK)), 'the lock is released');
    } finally {
      other.kill();
    }
  });

  it('a cache folder that cannot be written gives one message', async function () {
    const blocked = path.join(cache, 'not-a-folder');
    fs.writeFileSync(blocked, '');
    const err = await catchEngineError(ensureHubModel(id, { cacheRoot: blocked, endpoint: server.url }));
    assert.match(err.message, /^Promptscope could not store promptscope\/tiny-lm in .*not-a-folder.*: it is not a folder that can be written to \(ENOTDIR/);
  });

  it('corrupt bytes are thrown away and fetched again; corrupt twice gives one message and keeps nothing', async function () {
    server.faults.corrupt.set('onnx/model.onnx', 1);
    server.faults.corrupt.set('tokenizer.json', 1); // a git-stored file: checked by its blob id
    const n0 = server.log.length;
    const got = await ensureHubModel(id, fetchOpts());
    assertConsistent(got.dir);
    const onnxSha = server.repos.get('promptscope/tiny-lm')!.find((f) => f.path === 'onnx/model.onnx')!.sha256;
    assert.equal(since(n0, (l) => l.url.includes(onnxSha)).length, 2, 'fetched twice');
    assert.equal(since(n0, (l) => l.url.endsWith('/tokenizer.json')).length, 2);

    fs.rmSync(cache, { recursive: true, force: true });
    server.faults.corrupt.set('onnx/model.onnx', 2);
    const err = await catchEngineError(ensureHubModel(id, fetchOpts()));
    assert.match(err.message, /onnx\/model\.onnx of promptscope\/tiny-lm did not match the size and checksum/);
    assert.ok(!assertConsistent(got.dir).includes('onnx/model.onnx'));
  });

  it('offline: one message naming the folder; files placed there by hand are used', async function () {
    const offline = await closedPort();
    const dir = path.join(cache, 'hub', 'promptscope', 'tiny-lm', 'main');
    const err = await catchEngineError(ensureHubModel(id, { cacheRoot: cache, endpoint: offline }));
    assert.ok(err.message.startsWith(`Could not reach ${offline} to download promptscope/tiny-lm (ECONNREFUSED).`), err.message);
    assert.ok(err.message.includes(`place the model's files by hand in ${dir}`));
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx']) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.copyFileSync(path.join(TINY, f), path.join(dir, f));
    }
    const got = await ensureHubModel(id, { cacheRoot: cache, endpoint: offline });
    assert.equal(got.dir, dir);
    process.env.PROMPTSCOPE_CACHE_DIR = cache;
    try {
      const model = await loadModel('promptscope/tiny-lm', { hubEndpoint: offline });
      assert.equal(model.runner.info.architecture, 'gpt2');
      assert.equal(model.folder.dir, dir);
    } finally {
      delete process.env.PROMPTSCOPE_CACHE_DIR;
    }
  });

  it('an unknown repository and a missing variant each give one message', async function () {
    const missing = await catchEngineError(ensureHubModel(parseHubId('promptscope/nope@v2')!, fetchOpts()));
    assert.match(missing.message, /promptscope\/nope@v2 was not found on .* \(HTTP 404: Repository not found\)/);
    const variant = await catchEngineError(ensureHubModel(id, { ...fetchOpts(), variant: 'fp16' }));
    assert.match(variant.message, /has no fp16 variant \(model_fp16\.onnx\)\. Present: fp32 \(model\.onnx\), q4 \(model_q4\.onnx\)/);

    // A named variant downloads that variant only.
    const q4 = await ensureHubModel(id, { ...fetchOpts(), variant: 'q4' });
    assert.equal(q4.onnx, 'onnx/model_q4.onnx');
    assert.deepEqual(assertConsistent(q4.dir), ['config.json', 'generation_config.json', 'onnx/model_q4.onnx', 'tokenizer.json', 'tokenizer_config.json']);
  });
});

describe('hub ids and needed files', function () {
  it('parses org/name and @revision, and rejects paths', function () {
    assert.deepEqual(parseHubId('onnx-community/Qwen2.5-0.5B-Instruct'), { repo: 'onnx-community/Qwen2.5-0.5B-Instruct', revision: 'main' });
    assert.deepEqual(parseHubId('Xenova/gpt2@refs/pr/3'), { repo: 'Xenova/gpt2', revision: 'refs/pr/3' });
    for (const bad of ['gpt2', 'a/b/c', '../x/y', 'x/..', 'a/b@', 'a/b@../c']) assert.equal(parseHubId(bad), undefined, bad);
  });

  it('picks one variant with its external data, in order, by the same rules as a local folder', function () {
    const listed = (paths: string[], sizes: Record<string, number> = {}) => paths.map((p) => ({ path: p, size: sizes[p] ?? 1000 }));
    const tree = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'README.md', 'onnx/model.onnx', 'onnx/model.onnx_data', 'onnx/model_fp16.onnx', 'onnx/model_fp16.onnx_data', 'onnx/model_fp16.onnx_data_10', 'onnx/model_fp16.onnx_data_2', 'onnx/model_q4.onnx'];
    assert.deepEqual(neededFiles(listed(tree), 'fp16').files, ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model_fp16.onnx', 'onnx/model_fp16.onnx_data', 'onnx/model_fp16.onnx_data_2', 'onnx/model_fp16.onnx_data_10']);
    assert.deepEqual(neededFiles(listed(tree)).files, ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx', 'onnx/model.onnx_data']);
    // fp32 too large for memory: auto fetches a smaller variant for forward passes, still fp32 for gradients.
    const huge = listed(tree, { 'onnx/model.onnx_data': 1e15 });
    assert.equal(neededFiles(huge, 'auto', 'x', 'forward').variant, 'q4');
    assert.equal(neededFiles(huge, 'auto', 'x', 'gradients').variant, 'fp32');
    // Older Transformers.js exports name the decoder decoder_model_merged.
    assert.equal(neededFiles(listed(['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/decoder_model_merged_quantized.onnx'])).onnx, 'onnx/decoder_model_merged_quantized.onnx');
    assert.throws(() => neededFiles(listed(['config.json', 'onnx/model.onnx'])), /no tokenizer\.json/);
    assert.throws(() => neededFiles(listed(tree), 'fp64'), /Unknown model variant "fp64"/);
  });
});
