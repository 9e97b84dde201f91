/**
 * One row of the scale benchmark, in its own process so that its peak RSS is its own (test/bench/scale.ts spawns it).
 *   plain MODEL_DIR                       a bare onnxruntime InferenceSession.create of onnx/model.onnx
 *   explain MODEL_DIR METHOD LENGTH REPS [trust]  Promptscope's load (model + gradients when needed) and the method, REPS
 *                                         times (with `trust`: trust figures on, and compute = the whole explain call)
 * Prints one JSON line.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { explain } from '../../src/core/explain';
import { METHODS } from '../../src/core/methods/registry';
import { ensureGradients, loadModel } from '../../src/runtime/loadedModel';

const ms = (t: bigint): number => Number(process.hrtime.bigint() - t) / 1e6;
const peakMb = (): number => process.resourceUsage().maxRSS / 1024;
/** Linux: the peak RSS since the last reset (VmHWM), and its reset (clear_refs 5), so that the method's own peak is read apart from the load's. */
const hwmMb = (): number | undefined => {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
  } catch {
    return undefined;
  }
};
const resetHwm = (): void => {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    /* not Linux: no method peak */
  }
};

/** A prompt of exactly `length` tokens: words repeated (from word `offset`), cut at a token boundary. */
function promptOf(lm: Awaited<ReturnType<typeof loadModel>>, length: number, offset = 0): string {
  const words = 'the old lighthouse keeper walked along the rocky shore every morning to watch ships sail past the harbour while gulls circled overhead and'.split(' ');
  let text = '';
  for (let i = 0; lm.tokenizer.encodePrompt(text).length < length; i++) text += (i ? ' ' : '') + words[(i + offset) % words.length];
  while (lm.tokenizer.encodePrompt(text).length > length) text = text.slice(0, -1);
  return text;
}

async function main(): Promise<void> {
  const [mode, dir, method, lengthArg, repsArg, trustArg] = process.argv.slice(2);
  const trust = trustArg === 'trust';
  if (mode === 'plain') {
    const t = process.hrtime.bigint();
    await ort.InferenceSession.create(path.join(dir, 'onnx', 'model.onnx'), { graphOptimizationLevel: 'all', extra: { session: { intra_op: { allow_spinning: '0' } } } });
    console.log(JSON.stringify({ loadMs: ms(t), peakMb: peakMb() }));
    return;
  }
  const t0 = process.hrtime.bigint();
  const needsGradients = METHODS.find((m) => m.name === method)?.needsGradients;
  // The purpose the CLI and the editor load with.
  const lm = await loadModel(dir, { purpose: needsGradients ? 'gradients' : 'forward' });
  const forwardLoadMs = ms(t0);
  if (needsGradients) await ensureGradients(lm);
  const loadMs = ms(t0);
  // Resident memory once loaded, before the method's activations: what the goal on the weights' multiple reads.
  const loadedMb = process.memoryUsage().rss / 1048576;
  // The whole process's peak (maxRSS) keeps the load's; the method's own is read from here on.
  const loadPeakMb = peakMb();
  resetHwm();
  const text = promptOf(lm, Number(lengthArg));
  const computes: number[] = [];
  const cpus: number[] = [];
  const calls: number[] = [];
  let last;
  for (let r = 0; r < Number(repsArg || 1); r++) {
    // Trust figures off (as --no-trust) unless asked: the row measures the method itself.
    const c0 = process.cpuUsage();
    const w0 = process.hrtime.bigint();
    // A gradient run keeps the last prompt's prediction rows (a prompt explained again skips that pass): each
    // repetition explains a prompt of its own, so that every row measures a first explain of its prompt.
    const prompt = needsGradients && r > 0 ? promptOf(lm, Number(lengthArg), r) : text;
    last = await explain({ text: prompt, methods: [method], params: {}, target: { kind: 'next-token' }, trust }, lm, {});
    calls.push(ms(w0));
    const c = process.cpuUsage(c0);
    computes.push(trust ? ms(w0) : last.runs[0].diagnostics.elapsedMs);
    // CPU time of the whole call, every thread (the target's own passes included): less sensitive to other jobs.
    cpus.push((c.user + c.system) / 1000);
  }
  computes.sort((a, b) => a - b);
  cpus.sort((a, b) => a - b);
  calls.sort((a, b) => a - b);
  const run = last!.runs[0];
  console.log(JSON.stringify({
    forwardLoadMs, loadMs, loadedMb, loadPeakMb, methodPeakMb: hwmMb(), computeMs: computes[Math.floor(computes.length / 2)], cpuMs: cpus[Math.floor(cpus.length / 2)], callMs: calls[Math.floor(calls.length / 2)], peakMb: Math.max(loadPeakMb, peakMb()),
    inputIds: last!.input.tokens.map((t) => t.id), special: last!.input.tokens.map((t) => t.special), target: last!.target.rows[0].tokenId, score: last!.target.rows[0].score,
    scores: run.scores[0], params: run.params, diagnostics: run.diagnostics,
  }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
