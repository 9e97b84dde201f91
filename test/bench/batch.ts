/**
 * Batch benchmark: prompts per second of `promptscope batch` (the built CLI, real worker processes) on the
 * bundled LM with 1 and 2 workers, against a ceiling: two independent CLI processes started at the same
 * time, each with half the rows. Runs are alternated so that all see the same machine load. Wall time
 * includes starting the processes and loading the model, as a user sees it. PROMPTSCOPE_BENCH_CLI_BEFORE
 * (another build's cli.js) adds its 1- and 2-worker rows to the same table (without CPU time: a build whose
 * process does not wait for its workers to end leaves their time uncounted). Threads per worker: a batch's
 * default (cores ÷ workers) unless PROMPTSCOPE_THREADS is set; without it, a row of 1 worker with 1 thread
 * shows what a lone worker's extra threads buy.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { median, printTable } from './table';

const WORDS = 'The quick brown fox jumps over the lazy dog while Alice tells Bob that the capital of France is Paris and'.split(' ');

/** Runs the CLI; resolves to its CPU seconds with its workers' (GNU time, when installed), else NaN. */
function runCli(cli: string, input: string, out: string, workers: number, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  fs.rmSync(out, { force: true });
  const args = [cli, 'batch', input, '--out', out, '--method', 'occlusion', '--no-trust', '--workers', String(workers)];
  const time = fs.existsSync(GNU_TIME);
  return new Promise((resolve, reject) => {
    const p = time ? spawn(GNU_TIME, ['-f', 'cpu %U %S', process.execPath, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env }) : spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`promptscope batch failed: ${err}`));
      const m = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(err);
      resolve(m ? Number(m[1]) + Number(m[2]) : NaN);
    });
  });
}

const GNU_TIME = '/usr/bin/time';

function writeRows(file: string, from: number, to: number): void {
  fs.writeFileSync(file, Array.from({ length: to - from }, (_, k) => from + k).map((i) => JSON.stringify({ prompt: WORDS.slice(i % 9, i % 9 + 4 + (i % 12)).join(' ') })).join('\n') + '\n');
}

export async function runBatchBench(rows = 200, runs = 3): Promise<void> {
  const cli = path.resolve(__dirname, '../../dist/cli.js');
  const before = process.env.PROMPTSCOPE_BENCH_CLI_BEFORE;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'promptscope-bench-batch-'));
  const input = path.join(dir, 'rows.jsonl');
  writeRows(input, 0, rows);
  const halves = [path.join(dir, 'a.jsonl'), path.join(dir, 'b.jsonl')];
  writeRows(halves[0], 0, rows / 2);
  writeRows(halves[1], rows / 2, rows);
  const cases: { label: string; run: () => Promise<number> }[] = [
    ...(before
      ? [1, 2].map((w) => ({ label: `before: ${w} worker${w > 1 ? 's' : ''}`, run: () => runCli(before, input, path.join(dir, `before-${w}.jsonl`), w) }))
      : []),
    ...[1, 2].map((w) => ({ label: `${w} worker${w > 1 ? 's' : ''}`, run: () => runCli(cli, input, path.join(dir, `out-${w}.jsonl`), w) })),
    // One worker with one onnxruntime thread: what the second thread of a lone worker buys on short passes.
    ...(process.env.PROMPTSCOPE_THREADS ? [] : [{ label: '1 worker, 1 thread', run: () => runCli(cli, input, path.join(dir, 'out-1t.jsonl'), 1, { ...process.env, PROMPTSCOPE_THREADS: '1' }) }]),
    // The ceiling's processes get the threads a batch gives each of its 2 workers.
    { label: '2 independent processes, 1 worker each (ceiling)', run: async () => (await Promise.all(halves.map((h, i) => runCli(cli, h, path.join(dir, `half-${i}.jsonl`), 1, { ...process.env, PROMPTSCOPE_THREADS: process.env.PROMPTSCOPE_THREADS || String(Math.max(1, Math.floor(os.availableParallelism() / 2))) })))).reduce((a, b) => a + b, 0) },
  ];
  const times = cases.map(() => [] as number[]);
  const cpus = cases.map(() => [] as number[]);
  const loads: number[] = [];
  for (let r = 0; r < runs; r++) {
    for (const [i, c] of cases.entries()) {
      loads.push(os.loadavg()[0]);
      const t0 = performance.now();
      cpus[i].push(await c.run());
      times[i].push(performance.now() - t0);
    }
  }
  const base = median(times[cases.findIndex((c) => c.label === '1 worker')]);
  printTable(
    `promptscope batch on promptscope-tiny-lm: ${rows} prompts of 4–15 words, occlusion, --no-trust, ${os.availableParallelism()} cores, threads per worker ${process.env.PROMPTSCOPE_THREADS || 'cores ÷ workers'}, load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} during the runs (goal: near-linear in workers up to the cores)`,
    ['run', 'wall s (median of ' + runs + ')', 'prompts / s', 'speed-up vs 1 worker', 'CPU s, all processes'],
    cases.map((c, i) => {
      const m = median(times[i]);
      return [c.label, (m / 1000).toFixed(2), ((rows * 1000) / m).toFixed(1), (base / m).toFixed(2), c.label.startsWith('before') ? '–' : median(cpus[i]).toFixed(2)];
    }),
  );
}
