/**
 * Batch benchmark: prompts per second of `promptscope batch` (the built CLI, real worker processes) on the
 * bundled LM with 1 and 2 workers, runs alternated so that both see the same machine load. Wall time includes
 * starting the workers and loading the model, as a user sees it.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { median, printTable } from './table';

const WORDS = 'The quick brown fox jumps over the lazy dog while Alice tells Bob that the capital of France is Paris and'.split(' ');

export async function runBatchBench(rows = 200, runs = 3): Promise<void> {
  const cli = path.resolve(__dirname, '../../dist/cli.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promptscope-bench-batch-'));
  const input = path.join(dir, 'rows.jsonl');
  fs.writeFileSync(input, Array.from({ length: rows }, (_, i) => JSON.stringify({ prompt: WORDS.slice(i % 9, i % 9 + 4 + (i % 12)).join(' ') })).join('\n') + '\n');
  const workers = [1, 2];
  const times = new Map<number, number[]>(workers.map((w) => [w, []]));
  for (let r = 0; r < runs; r++) {
    for (const w of workers) {
      const out = path.join(dir, `out-${w}.jsonl`);
      fs.rmSync(out, { force: true });
      const t0 = performance.now();
      const p = spawnSync(process.execPath, [cli, 'batch', input, '--out', out, '--method', 'occlusion', '--no-trust', '--workers', String(w)], { encoding: 'utf8' });
      const ms = performance.now() - t0;
      if (p.status !== 0) throw new Error(`promptscope batch failed: ${p.stderr}`);
      times.get(w)?.push(ms);
    }
  }
  const base = median(times.get(1) ?? []);
  printTable(
    `promptscope batch on promptscope-tiny-lm: ${rows} prompts of 4–15 words, occlusion, --no-trust, ${os.availableParallelism()} cores, load average ${os.loadavg()[0].toFixed(1)} (goal: near-linear in workers up to the cores)`,
    ['workers', 'wall s (median of ' + runs + ')', 'prompts / s', 'speed-up vs 1 worker'],
    workers.map((w) => {
      const m = median(times.get(w) ?? []);
      return [w, (m / 1000).toFixed(2), ((rows * 1000) / m).toFixed(1), (base / m).toFixed(2)];
    }),
  );
}
