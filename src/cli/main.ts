/** `promptscope explain`: the command-line front end of the engine. */
import * as fs from 'node:fs';
import { EngineError } from '../core/engineProtocol';
import { explain } from '../core/explain';
import { toCsv } from '../core/exporters/csv';
import { toHtml } from '../core/exporters/html';
import { attentionSummary, withoutAttentionDetail } from '../core/exporters/attentionDetail';
import { toJson } from '../core/exporters/json';
import { METHODS } from '../core/methods/registry';
import { describeTooLong, type TooLongDetails } from '../core/tokenBudget';
import { listCachedHubModels } from '../runtime/hub/cachedModels';
import { EXECUTION_PROVIDER_SETTINGS } from '../runtime/executionProviderSettings';
import { listBundledModels } from '../runtime/modelFolder';
import { askModelToRate, assertCanRate, compareWithResult } from '../core/trust/askModel';
import { AUTO_METHOD } from '../core/methods/defaultMethod';
import { parseArgs, USAGE, UsageError } from './args';
import { runBatch } from './batch';
import { BATCH_USAGE, parseBatchArgs } from './batchArgs';
import { checkWritable, writeExport } from './exportPaths';
import { ignoredOptionWarnings, spacedTargetWarning } from './inputWarnings';
import { renderResult } from './terminalView';
import { DIFF_USAGE, renderDiff } from './diffView';
import { diffRuns } from '../core/runDiff';
import { parseResult, type AttributionResult } from '../core/result';
import { cancelledResult, partialSummary } from '../core/partialResult';
import { CancelledError } from '../core/modelRunner';
import { logitLensText } from './logitLensText';

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'batch') return batchMain(argv.slice(1));
  if (argv[0] === 'diff') return diffMain(argv.slice(1));
  if (argv.length === 0 || argv[0] === '-h' || argv[0] === '--help' || argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return argv.length === 0 ? 2 : 0;
  }
  if (argv.includes('--list-methods')) {
    for (const m of METHODS) process.stdout.write(`${m.name.padEnd(22)} ${m.description}\n`);
    return 0;
  }
  if (argv.includes('--list-models')) {
    process.stdout.write([...listBundledModels(), ...listCachedHubModels().map((id) => `${id} (downloaded)`)].join('\n') + '\n');
    return 0;
  }
  const [command, ...rest] = argv;
  if (command !== 'explain') throw new UsageError(`Unknown command "${command}": use promptscope explain, promptscope batch or promptscope diff (--help for their options).`);
  const opts = parseArgs(rest);
  const text = opts.file !== undefined ? readFile(opts.file) : opts.text ?? (process.stdin.isTTY ? '' : fs.readFileSync(0, 'utf8'));
  for (const m of opts.methods) if (m !== AUTO_METHOD && !METHODS.some((x) => x.name === m)) throw new EngineError('unknown-method', `Unknown method "${m}". Available methods: ${METHODS.map((x) => x.name).join(', ')}.`);

  if (opts.html) checkWritable('--html', opts.html);
  if (opts.csv) checkWritable('--csv', opts.csv);

  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  if (opts.executionProvider !== undefined) {
    if (!(EXECUTION_PROVIDER_SETTINGS as readonly string[]).includes(opts.executionProvider)) throw new UsageError(`--ep needs one of ${EXECUTION_PROVIDER_SETTINGS.join(', ')} (got "${opts.executionProvider}").`);
    process.env.PROMPTSCOPE_EP = opts.executionProvider;
  }
  // The runtime (onnxruntime, transformers) loads only for the command that runs a model: batch, diff and
  // --help start without it, and batch starts its workers sooner.
  const [{ ensureAttention, ensureGradients, ensureLogitLens, loadModel }, { addVariation }, { resolveAutoMethods }] = await Promise.all([
    import('../runtime/loadedModel'),
    import('../runtime/seedVariants'),
    import('../runtime/autoMethod'),
  ]);
  const download = downloadProgress();
  const needsGradients = opts.methods.some((m) => METHODS.find((x) => x.name === m)?.needsGradients);
  const model = await loadModel(opts.model, { signal: controller.signal, onProgress: download.report, variant: opts.variant, purpose: needsGradients ? 'gradients' : 'forward' });
  download.finish(model.folder.dir);
  opts.methods = await resolveAutoMethods(opts.methods, model);
  if (opts.methods.some((m) => METHODS.find((x) => x.name === m)?.needsGradients)) await ensureGradients(model);
  // Soft-NC / Soft-NS need the embeddings-input path; without it the other figures still come.
  else if (opts.trust) await ensureGradients(model).catch(() => undefined);
  if (opts.methods.some((m) => METHODS.find((x) => x.name === m)?.needsAttention)) await ensureAttention(model);
  if (!model.runner.gradients && opts.methods.some((m) => METHODS.find((x) => x.name === m)?.usesGradients)) await ensureGradients(model).catch(() => undefined);
  if (opts.logitLens) await ensureLogitLens(model);
  const progress = process.stderr.isTTY && !opts.json
    ? (done: number, total: number, message?: string) => process.stderr.write(`\r${message ?? 'Explaining'}: ${done}/${total}\x1b[K`)
    : undefined;
  if (opts.selfRate) assertCanRate(model.runner);
  // The last partial result: Ctrl+C prints it, marked cancelled, instead of nothing.
  let latest: AttributionResult | undefined;
  const onPartial = (partial: AttributionResult) => {
    latest = partial;
    if (opts.stream) process.stderr.write(`promptscope: ${partialSummary(partial)}\n`);
  };
  let result = await explain(
    {
      text,
      model: opts.model,
      ...(opts.variant ? { variant: opts.variant } : {}),
      ...(opts.chat ? { chat: opts.system ? { system: opts.system } : {} } : {}),
      methods: opts.methods,
      params: opts.params,
      target: opts.target,
      maxTokens: opts.maxTokens,
      maxTokensPerBatch: opts.batchTokens,
      truncateFromStart: opts.truncate,
      trust: opts.trust,
      ...(opts.logitLens ? { logitLens: true } : {}),
    },
    model,
    { signal: controller.signal, onProgress: progress, onPartial },
  ).catch((err: unknown) => {
    if (!(err instanceof CancelledError && latest)) throw err;
    return cancelledResult(latest);
  });
  const stopped = result.partial?.state === 'cancelled';
  if (stopped) process.stderr.write(`promptscope: cancelled; printing what was computed (${partialSummary(result)}).\n`);
  if (opts.selfRate && !stopped) result = { ...result, selfRating: compareWithResult(await askModelToRate(model.runner, model.tokenizer, text, { signal: controller.signal, ...(opts.system ? { system: opts.system } : {}) }), result) };
  if (opts.variation && !stopped) result = await addVariation(result, opts.variation, model, (id) => loadModel(id), { signal: controller.signal, onProgress: progress });
  if (progress) process.stderr.write('\r\x1b[K');
  const exported = opts.attentionDetail ? result : withoutAttentionDetail(result);
  if (opts.html) writeExport('--html', opts.html, toHtml(exported));
  if (opts.csv) writeExport('--csv', opts.csv, toCsv(exported));
  const spaced = spacedTargetWarning(opts.target, result);
  for (const w of [...ignoredOptionWarnings(opts.params, result), ...(spaced ? [spaced] : [])]) process.stderr.write(`promptscope: warning: ${w}\n`);
  if (opts.json) process.stdout.write(toJson(exported));
  else {
    const color = opts.color ?? (process.stdout.isTTY === true && !process.env.NO_COLOR);
    process.stdout.write(renderResult(result, { color, granularity: opts.granularity, top: opts.top }));
    if (result.logitLens) process.stdout.write(logitLensText(result.logitLens, result.target.rows));
    if (opts.attentionDetail) {
      for (const run of result.runs) if (run.attention) process.stdout.write(`\n${run.method}: ${attentionSummary(run.attention, (i) => result.input.tokens[i]?.text ?? '')}`);
    }
  }
  return stopped ? 130 : 0;
}

async function batchMain(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(BATCH_USAGE);
    return 0;
  }
  const opts = parseBatchArgs(argv);
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  return runBatch(opts, controller.signal);
}

function diffMain(argv: string[]): number {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(DIFF_USAGE);
    return 0;
  }
  const json = argv.includes('--json');
  const files = argv.filter((a) => a !== '--json');
  const unknown = files.find((a) => a.startsWith('-') && a !== '-');
  if (unknown) throw new UsageError(`Unknown option ${unknown} for promptscope diff: only --json.`);
  if (files.length !== 2) throw new UsageError('promptscope diff needs two result files: promptscope diff A.json B.json (save them with promptscope explain --json > A.json).');
  const [a, b] = files.map((f) => {
    try {
      return parseResult(JSON.parse(readFile(f)));
    } catch (err) {
      if (err instanceof UsageError) throw err;
      throw new UsageError(`${f} is not a result this Promptscope reads: ${(err as Error).message.replace(/\.?\s*$/, '.')} Save results with promptscope explain --json.`);
    }
  });
  const d = diffRuns(a, b);
  process.stdout.write(json ? JSON.stringify(d, null, 2) + '\n' : renderDiff(d));
  return 0;
}

/** A hub download reports on stderr: one line rewritten in a terminal, one line per file otherwise. */
function downloadProgress(): { report: (done: number, total: number, message: string) => void; finish: (dir: string) => void } {
  const tty = process.stderr.isTTY === true;
  let lastFile: string | undefined;
  let used = false;
  return {
    report: (done, total, message) => {
      used = true;
      const pct = total > 0 ? ` (${Math.floor((100 * done) / total)}%)` : '';
      if (tty) process.stderr.write(`\r${message}${pct}\x1b[K`);
      else {
        const file = message.split(' · ')[0];
        if (file !== lastFile) process.stderr.write(`${message}${pct}\n`);
        lastFile = file;
      }
    },
    finish: (dir) => {
      if (used) process.stderr.write(`${tty ? '\r\x1b[K' : ''}Model files are in ${dir}\n`);
    },
  };
}

function readFile(file: string): string {
  try {
    return fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new UsageError(`Cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}.`);
  }
}

/** The engine's message, re-worded with this CLI's own flags where the engine gives the facts. */
function cliMessage(err: UsageError | EngineError): string {
  if (!(err instanceof EngineError) || err.code !== 'too-long' || err.details?.binding === undefined) return err.message;
  const d = err.details as TooLongDetails;
  const shortenTarget = d.targetKind === 'generate' ? 'use --generate {n} or fewer' : d.targetKind === 'forced' ? 'shorten --force to at most {n} tokens' : d.targetKind === 'contrastive' ? 'shorten each side of --contrast to at most {n} tokens' : undefined;
  return describeTooLong(d, { raiseLimit: 'raise --max-tokens', truncate: 'add --truncate to explain only the last {n} tokens', shortenTarget });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError || err instanceof EngineError) {
      process.stderr.write(`promptscope: ${cliMessage(err)}\n`);
      process.exit(2);
    }
    if ((err as Error)?.name === 'CancelledError') {
      process.stderr.write('promptscope: cancelled.\n');
      process.exit(130);
    }
    process.stderr.write(`promptscope: internal error: ${String((err as Error)?.stack ?? err)}\n`);
    process.exit(1);
  },
);
