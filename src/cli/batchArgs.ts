/** Command-line parsing for `promptscope batch`: its own flags, then explain's method and target flags. */
import * as os from 'node:os';
import { parseArgs, UsageError, type CliOptions } from './args';

export interface BatchOptions {
  input: string;
  out: string;
  workers: number;
  /** Method, model, target and trust options, as `explain` reads them (the target is every row's default). */
  explain: CliOptions;
}

export const BATCH_USAGE = `Usage: promptscope batch INPUT --out FILE [options]

Explains every row of INPUT, a JSONL file (one object per line) or a CSV file with a header row.
Fields: prompt (required); target (a next token), contrast (a foil compared with target), label
(classifiers) or force (a forced continuation) — a row without them uses the target options below.
Results are appended to FILE as they finish, one JSON line {"row": N, "result": {...}} per row, in the
same result schema as explain --json. Running the same command again resumes: rows already in FILE are
skipped and a line cut off by an interruption is discarded. Failed rows are listed with the reason.

Options:
  --out FILE             the results file (JSONL; created, or resumed when it exists)
  --workers N            worker processes (default: the number of CPU cores)
  --json                 print the summary as JSON instead of text
  Every method, model and target option of explain applies (--method, --model, --variant, --chat,
  --system, --target, --force, --generate, --contrast, --label, --baseline, --steps, --samples, --seed,
  --max-tokens, --truncate, --no-trust, …); see promptscope explain --help.
`;

/** Flags of explain that write or show one result; in a batch every result goes to --out. */
const NOT_IN_BATCH: Record<string, string> = {
  '--html': 'every result is written to --out',
  '--csv': 'every result is written to --out',
  '--top': 'no terminal view is printed',
  '--granularity': 'no terminal view is printed',
  '--color': 'no terminal view is printed',
  '--colour': 'no terminal view is printed',
  '--no-color': 'no terminal view is printed',
  '--no-colour': 'no terminal view is printed',
  '--seed-variants': 'variation over variants is not run per row',
  '--method-seeds': 'variation over variants is not run per row',
  '--baselines': 'variation over variants is not run per row',
};

export function parseBatchArgs(argv: string[]): BatchOptions {
  let out: string | undefined;
  let workers = Math.max(1, os.availableParallelism());
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a in NOT_IN_BATCH) throw new UsageError(`${a} does not apply to promptscope batch: ${NOT_IN_BATCH[a]}.`);
    if (a === '--out' || a === '--workers') {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value.`);
      if (a === '--out') out = v;
      else {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1 || n > 64) throw new UsageError(`--workers needs a whole number from 1 to 64 (got "${v}").`);
        workers = n;
      }
    } else rest.push(a);
  }
  const explain = parseArgs(rest);
  const input = explain.file ?? explain.text;
  if (input === undefined || input === '-') throw new UsageError('Give the input file: promptscope batch rows.jsonl --out results.jsonl.');
  if (out === undefined) throw new UsageError('Give the results file with --out FILE (an existing file is resumed).');
  return { input, out, workers, explain };
}
