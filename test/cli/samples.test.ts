/**
 * The samples gallery: every prompt of every file in samples/README.md's table runs through the built CLI
 * with the bundled model and the methods the table names, fits the model's context (read from its own
 * config.json), and the first prompt's prediction is the answer the table states.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseResult, type AttributionResult } from '../../src/core/result';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'dist/cli.js');
const SAMPLES = path.join(ROOT, 'samples');

interface Row { file: string; model: string; methods: string[]; answer: string }

/** The README table's rows: | `file` | `model` | `method`, … | answer |. */
function galleryRows(): Row[] {
  const readme = fs.readFileSync(path.join(SAMPLES, 'README.md'), 'utf8');
  const ticks = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
  return readme
    .split('\n')
    .filter((l) => /^\| `[^`]+` \|/.test(l))
    .map((l) => l.split('|').slice(1, -1).map((c) => c.trim()))
    .map(([file, model, methods, answer]) => ({ file: ticks(file)[0], model: ticks(model)[0], methods: ticks(methods), answer: answer.replace(/^"|"$/g, '') }));
}

/** The prompts of a sample file: its paragraphs, as Explain Line or Paragraph at Cursor takes them. */
function prompts(file: string): string[] {
  return fs.readFileSync(path.join(SAMPLES, file), 'utf8').split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean);
}

function contextLength(model: string): number {
  const config = JSON.parse(fs.readFileSync(path.join(ROOT, 'models', model, 'config.json'), 'utf8')) as Record<string, number>;
  return config.n_positions ?? config.max_position_embeddings;
}

describe('samples gallery', function () {
  const rows = galleryRows();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promptscope-samples-'));
  before(function () {
    assert.ok(fs.existsSync(CLI), 'dist/cli.js is missing: run npm run build first');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('lists every sample file in the README table, each with a bundled model and known methods', function () {
    // Text files only: the notebook's prompts are explained cell by cell in the editor.
    const files = fs.readdirSync(SAMPLES).filter((f) => f !== 'README.md' && !f.endsWith('.ipynb')).sort();
    assert.deepEqual(rows.map((r) => r.file).sort(), files);
    const listed = spawnSync(process.execPath, [CLI, '--list-methods'], { encoding: 'utf8' }).stdout;
    const known = new Set(listed.split('\n').map((l) => l.split(/\s+/)[0]).filter(Boolean));
    for (const r of rows) {
      assert.ok(fs.existsSync(path.join(ROOT, 'models', r.model, 'config.json')), `${r.file}: ${r.model} is bundled`);
      assert.ok(r.methods.length >= 1, r.file);
      for (const m of r.methods) assert.ok(known.has(m), `${r.file}: ${m} is a method`);
    }
  });

  for (const r of galleryRows()) {
    it(`${r.file}: every prompt runs with ${r.model} and ${r.methods.join(', ')}`, function () {
      const texts = prompts(r.file);
      const input = path.join(dir, `${r.file}.jsonl`);
      const out = path.join(dir, `${r.file}.out.jsonl`);
      fs.writeFileSync(input, texts.map((prompt) => JSON.stringify({ prompt })).join('\n') + '\n');
      const run = spawnSync(
        process.execPath,
        [CLI, 'batch', input, '--out', out, '--model', r.model, '--method', r.methods.join(','), '--no-trust', '--workers', '1', '--json'],
        { encoding: 'utf8', cwd: ROOT, timeout: 120_000 },
      );
      assert.equal(run.status, 0, run.stderr);
      assert.deepEqual(JSON.parse(run.stdout).failures, []);
      const results = new Map<number, AttributionResult>();
      for (const line of fs.readFileSync(out, 'utf8').trim().split('\n')) {
        const { row, result } = JSON.parse(line) as { row: number; result: unknown };
        results.set(row, parseResult(result));
      }
      assert.equal(results.size, texts.length);
      const limit = contextLength(r.model);
      for (const [i, text] of texts.entries()) {
        const res = results.get(i);
        assert.ok(res, `${r.file} prompt ${i + 1} has a result`);
        assert.equal(res.input.text, text);
        assert.ok(res.input.tokens.length <= limit, `${r.file} prompt ${i + 1}: ${res.input.tokens.length} tokens fit the context of ${limit}`);
        assert.deepEqual(res.runs.map((run) => run.method), r.methods);
        for (const run of res.runs) {
          for (const rowScores of run.scores) {
            assert.equal(rowScores.length, res.input.tokens.length);
            assert.ok(rowScores.every(Number.isFinite), `${r.file} prompt ${i + 1}: ${run.method} gives finite scores`);
            assert.ok(rowScores.some((s) => s !== 0), `${r.file} prompt ${i + 1}: ${run.method} scores are not all zero`);
          }
        }
      }
      if (r.answer) {
        const first = results.get(0);
        assert.equal(first?.target.rows[0].text, r.answer, `${r.file}: the first prompt's prediction`);
      }
    });
  }
});
