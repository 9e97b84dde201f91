/**
 * `promptscope batch`: explains every row of a JSONL or CSV file with worker processes running the engine,
 * streams results to a JSONL file (resumable), and ends with a summary: mean faithfulness per method and
 * every failed row with its reason.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EngineError, type EngineErrorCode } from '../core/engineProtocol';
import { withoutAttentionDetail } from '../core/exporters/attentionDetail';
import { AUTO_METHOD } from '../core/methods/defaultMethod';
import { METHODS } from '../core/methods/registry';
import type { ExplainRequest } from '../core/request';
import { EXECUTION_PROVIDER_SETTINGS } from '../runtime/executionProviderSettings';
import { UsageError } from './args';
import type { BatchOptions } from './batchArgs';
import { BatchInputError, formatOf, parseBatchInput, type BatchRow } from './batchInput';
import { BatchWriter, resumeFrom } from './batchOutput';
import { BatchProgress } from './batchProgress';
import { FaithfulnessTally, summaryText, type BatchFailure, type BatchSummary } from './batchSummary';
import { BatchWorker, type WorkerReply } from './batchWorkers';

/** Errors that would fail every row alike: the batch stops with the message instead. */
const FATAL: readonly EngineErrorCode[] = ['model-load', 'unsupported-model', 'gradients-unsupported', 'attention-unsupported', 'unknown-method'];

export async function runBatch(opts: BatchOptions, signal: AbortSignal): Promise<number> {
  const t0 = performance.now();
  const o = opts.explain;
  for (const m of o.methods) if (m !== AUTO_METHOD && !METHODS.some((x) => x.name === m)) throw new EngineError('unknown-method', `Unknown method "${m}". Available methods: ${METHODS.map((x) => x.name).join(', ')}.`);
  if (o.executionProvider !== undefined) {
    if (!(EXECUTION_PROVIDER_SETTINGS as readonly string[]).includes(o.executionProvider)) throw new UsageError(`--ep needs one of ${EXECUTION_PROVIDER_SETTINGS.join(', ')} (got "${o.executionProvider}").`);
    process.env.PROMPTSCOPE_EP = o.executionProvider;
  }
  if (path.resolve(opts.out) === path.resolve(opts.input)) throw new UsageError('--out must be another file than the input.');
  let text: string;
  try {
    text = fs.readFileSync(opts.input, 'utf8');
  } catch (err) {
    throw new UsageError(`Cannot read ${opts.input}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}.`);
  }
  let input;
  try {
    input = parseBatchInput(text, formatOf(opts.input));
  } catch (err) {
    if (err instanceof BatchInputError) throw new UsageError(`${opts.input}: ${err.message}`);
    throw err;
  }
  if (input.total === 0) throw new UsageError(`${opts.input} has no rows. Each line of a JSONL file is one {"prompt": "…"} object; a CSV file needs a header and rows.`);

  const byRow = new Map(input.rows.map((r) => [r.row, r]));
  const tally = new FaithfulnessTally();
  const resumed = resumeFrom(opts.out, (row) => byRow.get(row)?.prompt, (line) => tally.add(line.result));
  if (resumed.discardedBytes) process.stderr.write(`promptscope: discarded a cut-off last line (${resumed.discardedBytes} bytes) of ${opts.out}; that row is explained again.\n`);
  const failures: BatchFailure[] = input.bad.map((b) => ({ row: b.row, line: b.line, code: 'bad-row', reason: b.reason }));
  const queue = input.rows.filter((r) => !resumed.done.has(r.row));

  const workers = Math.max(1, Math.min(opts.workers, queue.length));
  const progress = new BatchProgress(input.total, resumed.done.size + input.bad.length);
  let writtenNow = 0;
  let fatal: EngineError | undefined;
  const finishedNow = (): number => writtenNow + failures.length - input.bad.length;

  const writer = queue.length ? new BatchWriter(opts.out) : undefined;
  const template: Omit<ExplainRequest, 'text' | 'target'> = {
    ...(o.model !== undefined ? { model: o.model } : {}),
    ...(o.variant ? { variant: o.variant } : {}),
    ...(o.chat ? { chat: o.system ? { system: o.system } : {} } : {}),
    methods: o.methods,
    params: o.params,
    ...(o.maxTokens !== undefined ? { maxTokens: o.maxTokens } : {}),
    ...(o.batchTokens !== undefined ? { maxTokensPerBatch: o.batchTokens } : {}),
    truncateFromStart: o.truncate,
    trust: o.trust,
    ...(o.logitLens ? { logitLens: true } : {}),
  };
  const stopped = (): boolean => signal.aborted || fatal !== undefined;

  const settle = (row: BatchRow, reply: WorkerReply): void => {
    if (reply.ok) {
      writer?.write({ row: row.row, result: o.attentionDetail ? reply.result : withoutAttentionDetail(reply.result) });
      tally.add(reply.result);
      writtenNow++;
    } else if (signal.aborted) {
      // Interrupted (a cancelled call, or a worker that Ctrl-C stopped too): the row stays for the next run.
    } else if (FATAL.includes(reply.error.code)) {
      fatal ??= new EngineError(reply.error.code, reply.error.message, reply.error.details);
    } else {
      failures.push({ row: row.row, line: row.line, code: reply.error.code, reason: reply.error.message });
    }
    progress.update(finishedNow(), failures.length);
  };

  const live = new Set<BatchWorker>();
  const started: BatchWorker[] = [];
  const onAbort = (): void => { for (const w of live) w.cancel(); };
  signal.addEventListener('abort', onAbort);
  // Each worker gets its share of the cores for onnxruntime's threads (PROMPTSCOPE_THREADS overrides it).
  const threads = Math.max(1, Math.floor(os.availableParallelism() / workers));
  // Only the first worker's messages for the first row are shown (loading, downloading, preparing graphs);
  // later ones would interleave the workers' method progress with the batch's own line.
  let warmingUp = true;
  let lastMessage: string | undefined;
  const startWorker = (shown = false): BatchWorker => {
    const w = new BatchWorker(threads, shown ? (message) => {
      if (warmingUp && message !== lastMessage) progress.message((lastMessage = message));
    } : undefined);
    live.add(w);
    started.push(w);
    return w;
  };
  const lane = async (first: BatchWorker, loaded?: Promise<void>): Promise<void> => {
    let w = first;
    await loaded;
    for (let row = queue.shift(); row && !stopped(); row = queue.shift()) {
      // A worker that crashed on a row (reported as that row's failure) is replaced for the next one.
      if (!w.alive) {
        live.delete(w);
        w = startWorker();
      }
      settle(row, await w.explain({ ...template, text: row.prompt, target: row.target ?? o.target }));
    }
    live.delete(w);
    w.close();
  };

  try {
    if (queue.length) {
      progress.update(0, failures.length, true);
      // All workers start at once. The first one explains the first row alone, so that it loads (and, for a
      // hub id, downloads) the model and prepares derived graphs that the others then find in the caches;
      // meanwhile the others start up and load the model itself, which writes nothing.
      const first = startWorker(true);
      const row = queue.shift() as BatchRow;
      const firstRow = first.explain({ ...template, text: row.prompt, target: row.target ?? o.target }, true);
      const purpose = o.methods.some((name) => METHODS.find((x) => x.name === name)?.needsGradients) ? 'gradients' : 'forward';
      const others: BatchWorker[] = [];
      const loads: Promise<void>[] = [];
      for (let i = 1; i < workers; i++) {
        const w = startWorker();
        others.push(w);
        loads.push(w.load(template, purpose));
      }
      settle(row, await firstRow);
      warmingUp = false;
      const lanes = [lane(first)];
      for (const [i, w] of others.entries()) {
        if (queue.length && !stopped()) lanes.push(lane(w, loads[i]));
        else {
          live.delete(w);
          w.close();
        }
      }
      await Promise.all(lanes);
      progress.update(finishedNow(), failures.length, true);
      progress.done();
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    for (const w of live) w.kill();
    writer?.close();
    // Workers end on disconnect; waiting for them (a few seconds at most) lets their CPU time count as the batch's.
    await Promise.race([Promise.all(started.map((w) => w.ended)), new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
  }
  if (fatal) throw fatal;

  failures.sort((a, b) => a.row - b.row);
  const elapsedMs = performance.now() - t0;
  const written = resumed.done.size + writtenNow;
  const summary: BatchSummary = {
    input: opts.input,
    output: opts.out,
    rows: input.total,
    written,
    writtenNow,
    failures,
    remaining: input.total - written - failures.length,
    withoutTrust: tally.withoutTrust,
    methods: tally.methods(),
    workers,
    elapsedMs: Math.round(elapsedMs),
    rowsPerSecond: (finishedNow() * 1000) / elapsedMs,
  };
  process.stdout.write(o.json ? JSON.stringify(summary, null, 2) + '\n' : summaryText(summary));
  if (summary.remaining) return 130;
  return failures.length ? 1 : 0;
}
