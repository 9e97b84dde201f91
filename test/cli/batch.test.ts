/**
 * `promptscope batch` (the built CLI, real worker processes, the bundled models): every good row written
 * once, every bad row reported, an interrupted run resumed without duplicates, workers agreeing.
 */
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseResult, type AttributionResult } from '../../src/core/result';
import { csvRecords, parseBatchInput } from '../../src/cli/batchInput';
import { resumeFrom } from '../../src/cli/batchOutput';
import type { BatchSummary } from '../../src/cli/batchSummary';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist/cli.js');
const WORDS = 'The quick brown fox jumps over the lazy dog while Alice tells Bob that the capital of France is Paris and'.split(' ');

function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: ROOT, timeout: 120000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function lines(file: string): { row: number; result: AttributionResult }[] {
  return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => {
    const v = JSON.parse(l) as { row: number; result: unknown };
    return { row: v.row, result: parseResult(v.result) };
  });
}

function assertSameScores(a: AttributionResult, b: AttributionResult, what: string): void {
  assert.equal(a.runs.length, b.runs.length);
  assert.deepEqual(a.target.rows.map((r) => r.tokenId), b.target.rows.map((r) => r.tokenId), what);
  a.runs.forEach((run, i) => run.scores.forEach((row, r) => row.forEach((s, t) => {
    // Different onnxruntime thread counts may reorder float sums; anything beyond rounding is a difference.
    assert.ok(Math.abs(s - b.runs[i].scores[r][t]) <= 1e-4 * Math.max(1, Math.abs(s)), `${what}: ${run.method} row ${r} token ${t}: ${s} vs ${b.runs[i].scores[r][t]}`);
  })));
}

describe('promptscope batch', function () {
  this.timeout(240000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promptscope-batch-'));
  const input = path.join(dir, 'rows.jsonl');
  const prompts: string[] = [];
  const bad = new Map<number, RegExp>([
    [17, /Nothing to explain/],
    [93, /more than the \d+ that fit/],
    [150, /not valid JSON/],
    [181, /Class labels apply to classifiers only/],
  ]);
  const good: number[] = [];

  before(function () {
    assert.ok(fs.existsSync(CLI), 'dist/cli.js is missing: run npm run build first');
    const out: string[] = [];
    for (let i = 0; i < 200; i++) {
      const prompt = WORDS.slice(i % 9, i % 9 + 2 + (i % 13)).join(' ');
      prompts.push(prompt);
      if (i === 17) out.push(JSON.stringify({ prompt: '  ' }));
      else if (i === 93) out.push(JSON.stringify({ prompt: 'word '.repeat(400) }));
      else if (i === 150) out.push('{"prompt": "unterminated');
      else if (i === 181) out.push(JSON.stringify({ prompt, label: 'positive' }));
      else {
        out.push(JSON.stringify(i % 5 === 0 ? { prompt, target: ' the' } : { prompt }));
        good.push(i);
      }
      if (i === 60) out.push(''); // a blank line is not a row
    }
    fs.writeFileSync(input, out.join('\n') + '\n');
  });

  let full: Map<number, AttributionResult>;

  it('writes every good row once with two workers and reports each bad row with its reason', function () {
    const out = path.join(dir, 'two.jsonl');
    const r = cli(['batch', input, '--out', out, '--method', 'occlusion', '--no-trust', '--workers', '2', '--json']);
    assert.equal(r.code, 1, r.stderr); // some rows failed
    assert.match(r.stderr, /Batch: 200\/200 rows \(100 %\), 4 failed, [\d.]+ rows\/s, ETA 0:00/);
    const got = lines(out);
    assert.deepEqual(got.map((l) => l.row).sort((a, b) => a - b), good);
    for (const l of got) {
      assert.equal(l.result.input.text, prompts[l.row]);
      assert.equal(l.result.runs[0].method, 'occlusion');
      if (l.row % 5 === 0) assert.equal(l.result.target.rows[0].text, ' the');
    }
    const summary = JSON.parse(r.stdout) as BatchSummary;
    assert.equal(summary.rows, 200);
    assert.equal(summary.written, good.length);
    assert.deepEqual(summary.failures.map((f) => f.row), [...bad.keys()]);
    for (const f of summary.failures) assert.match(f.reason, bad.get(f.row) as RegExp, `row ${f.row}`);
    assert.equal(summary.failures.find((f) => f.row === 150)?.line, 152); // after the blank line
    full = new Map(got.map((l) => [l.row, l.result]));

    // The same engine as explain: one row explained on its own gives the same scores.
    const one = cli(['explain', prompts[42], '--method', 'occlusion', '--no-trust', '--json']);
    assert.equal(one.code, 0, one.stderr);
    assertSameScores(parseResult(JSON.parse(one.stdout)), full.get(42) as AttributionResult, 'explain vs batch');
  });

  it('resumes after SIGKILL without duplicates, and one worker gives the same scores as two', async function () {
    if (!full) this.skip();
    const out = path.join(dir, 'one.jsonl');
    const args = [CLI, 'batch', input, '--out', out, '--method', 'occlusion', '--no-trust', '--workers', '1'];
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    for (let t = 0; ; t++) {
      await new Promise((r) => setTimeout(r, 50));
      const n = fs.existsSync(out) ? fs.readFileSync(out, 'utf8').split('\n').length - 1 : 0;
      if (n >= 30) break;
      assert.ok(t < 2000, 'no rows written within 100 s');
    }
    child.kill('SIGKILL');
    await exited;
    const before = lines(out).length;
    assert.ok(before >= 30 && before < good.length, `killed midway (${before} rows written)`);
    // Also the state a kill during a write leaves: a cut-off last line.
    fs.appendFileSync(out, '{"row": 199, "result": {"schema": "promptscope.attr');

    const r = cli(['batch', input, '--out', out, '--method', 'occlusion', '--no-trust', '--workers', '1']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /discarded a cut-off last line/);
    assert.match(r.stdout, new RegExp(`${good.length} of 200 rows explained in .*one\\.jsonl \\(${before} from an earlier run\\); 4 failed`));
    const got = lines(out);
    assert.deepEqual(got.map((l) => l.row).sort((a, b) => a - b), good, 'every good row exactly once');
    for (const l of got) assertSameScores(l.result, full.get(l.row) as AttributionResult, `row ${l.row}`);

    // Nothing left: a third run writes nothing and says so.
    const again = cli(['batch', input, '--out', out, '--method', 'occlusion', '--no-trust']);
    assert.match(again.stdout, new RegExp(`${good.length} of 200 rows explained .*\\(${good.length} from an earlier run\\)`));
    assert.equal(lines(out).length, good.length);
  });

  it('reads CSV for the classifier, names an unknown label, and averages the trust figures per method', function () {
    const csv = path.join(dir, 'reviews.csv');
    fs.writeFileSync(csv, [
      'prompt,label',
      '"A wonderful, warm film",positive',
      'Dull and far too long,negative',
      'I loved every minute,',
      'Not for me,neutral',
      '"He said ""great"" and left",positive',
    ].join('\r\n'));
    const out = path.join(dir, 'reviews.jsonl');
    const r = cli(['batch', csv, '--out', out, '--model', 'promptscope-tiny-sentiment', '--method', 'occlusion,gradient-x-input', '--workers', '1', '--json']);
    assert.equal(r.code, 1, r.stderr);
    const summary = JSON.parse(r.stdout) as BatchSummary;
    assert.deepEqual(summary.failures.map((f) => [f.row, f.line]), [[3, 5]]);
    assert.match(summary.failures[0].reason, /Unknown label "neutral"\. This model's labels are: negative, positive/);
    const got = lines(out).sort((a, b) => a.row - b.row);
    assert.deepEqual(got.map((l) => l.result.input.text), ['A wonderful, warm film', 'Dull and far too long', 'I loved every minute', 'He said "great" and left']);
    assert.equal(got[1].result.target.rows[0].text, 'negative');
    // Independent mean: straight from the written trust figures.
    for (const method of ['occlusion', 'gradient-x-input']) {
      const per = got.map((l) => {
        const m = l.result.trust?.methods.find((x) => x.method === method);
        assert.ok(m, `${method} trust figures in row ${l.row}`);
        return m.rows.reduce((s, x) => s + x.aopcComprehensiveness, 0) / m.rows.length;
      });
      const s = summary.methods.find((m) => m.method === method);
      assert.ok(s);
      assert.equal(s.results, 4);
      assert.ok(Math.abs(s.comprehensiveness - per.reduce((a, b) => a + b, 0) / per.length) < 1e-12);
    }
  });

  it('refuses a results file of another input and options that do not apply, with one message each', function () {
    const other = path.join(dir, 'other.jsonl');
    fs.writeFileSync(other, JSON.stringify({ prompt: 'Something else entirely' }) + '\n');
    const r = cli(['batch', other, '--out', path.join(dir, 'two.jsonl'), '--method', 'occlusion']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /holds results of a different input \(line 1: row 0's prompt differs\)\. Give another --out file/);
    const html = cli(['batch', other, '--out', path.join(dir, 'x.jsonl'), '--html', 'a.html']);
    assert.match(html.stderr, /--html does not apply to promptscope batch/);
    const noOut = cli(['batch', other]);
    assert.match(noOut.stderr, /Give the results file with --out FILE/);
    const noModel = cli(['batch', other, '--out', path.join(dir, 'y.jsonl'), '--model', path.join(dir, 'no-such-model')]);
    assert.equal(noModel.code, 2);
    assert.equal(fs.existsSync(path.join(dir, 'y.jsonl')) ? fs.readFileSync(path.join(dir, 'y.jsonl'), 'utf8') : '', '');
  });
});

describe('batch input and results file', function () {
  it('parses quoted CSV cells with commas, quotes and line breaks', function () {
    const recs = csvRecords('prompt,target\n"a, ""b""\nc", x\nplain,\n');
    assert.deepEqual(recs, [{ line: 1, cells: ['prompt', 'target'] }, { line: 2, cells: ['a, "b"\nc', ' x'] }, { line: 4, cells: ['plain', ''] }]);
    const input = parseBatchInput('prompt,target,contrast\nThe capital of France is, Paris,London\n', 'csv');
    assert.deepEqual(input.rows[0].target, { kind: 'contrastive', text: ' Paris', foil: ' London' });
  });

  it('reports rows it cannot read instead of dropping them', function () {
    const input = parseBatchInput('{"prompt": 3}\n["x"]\n{"text": "no prompt"}\n{"prompt": "a", "contrast": "b"}\n{"prompt": "ok"}\n', 'jsonl');
    assert.equal(input.total, 5);
    assert.deepEqual(input.rows.map((r) => r.row), [4]);
    assert.deepEqual(input.bad.map((b) => b.row), [0, 1, 2, 3]);
    assert.match(input.bad[3].reason, /give "target" too/);
  });

  it('truncates a cut-off last line and keeps the complete ones', function () {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'promptscope-resume-')), 'r.jsonl');
    const line = (row: number, text: string) => JSON.stringify({ row, result: { input: { text } } }) + '\n';
    fs.writeFileSync(file, line(0, 'a') + line(2, 'c') + '{"row": 1, "res');
    const seen: number[] = [];
    const info = resumeFrom(file, (row) => ['a', 'b', 'c'][row], (l) => seen.push(l.row));
    assert.deepEqual(seen, [0, 2]);
    assert.deepEqual([...info.done], [0, 2]);
    assert.equal(fs.readFileSync(file, 'utf8'), line(0, 'a') + line(2, 'c'));
  });
});
