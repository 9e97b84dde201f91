/** Splitting forward items into onnxruntime runs under a cap on padded tokens per run. */
import { throwIfAborted, type ForwardItem, type ModelRunner, type ProgressSink, type ScoreValue } from '../modelRunner';

/** Logits for this many floats per run at most (≈512 MB), whatever the token cap says. */
const MAX_LOGIT_FLOATS = 2 ** 27;

export function effectiveTokenCap(cap: number, vocabSize: number, classifier: boolean): number {
  const perToken = classifier ? 1 : vocabSize;
  return Math.max(1, Math.min(cap, Math.floor(MAX_LOGIT_FLOATS / Math.max(1, perToken))));
}

/**
 * Groups of consecutive items whose padded size stays within the cap. The size counts only tokens after the
 * prefix the items share, because runners compute a shared prefix once.
 *
 * `fullCap` bounds the padded tokens counting the shared prefix too (the memory budget: every item's keys and values
 * of the prefix are alive in the run as well).
 *
 * A batch that could not take the next item ends, within its second half, at the item index with the most
 * trailing zero bits (16 before 12 before 10 before 9). The greedy end moves with the prompt's length, this one
 * seldom does, so a re-run after an edit at the end starts its batches at the same items and finds their
 * shared prefixes in the runner's cache. Batches keep at least half the greedy size (a narrower window, the
 * last quarter, kept only a third of the boundaries on a 1,227-token prompt grown by 3 tokens).
 */
export function planBatches(items: readonly ForwardItem[], cap: number, maxItems = Infinity, fullCap = Infinity, from = 0): ForwardItem[][] {
  const batches: ForwardItem[][] = [];
  for (let start = from; start < items.length; ) {
    let end = start + 1;
    let longest = items[start].inputIds.length;
    let shared = longest;
    for (; end < items.length && end - start < maxItems; end++) {
      const len = Math.max(longest, items[end].inputIds.length);
      const common = Math.min(shared, commonPrefix(items[start], items[end]));
      if ((end - start + 1) * (len - common) > cap || (end - start + 1) * len > fullCap) break;
      longest = len;
      shared = common;
    }
    if (end < items.length) end = mostAligned(start + Math.ceil(((end - start) * 1) / 2), end);
    batches.push(items.slice(start, end));
    start = end;
  }
  return batches;
}

/** The index in [from, to] with the most trailing zero bits (the largest such on ties). */
function mostAligned(from: number, to: number): number {
  let best = to;
  for (let bit = 1; bit <= to; bit *= 2) {
    const candidate = Math.floor(to / bit) * bit;
    if (candidate >= from) best = candidate;
    else break;
  }
  return best;
}

/** Leading positions where two items feed the same token, unmasked, at its default position. */
function commonPrefix(a: ForwardItem, b: ForwardItem): number {
  const same = (x: ForwardItem, i: number) => (x.attentionMask?.[i] ?? 1) === 1 && (x.positionIds?.[i] ?? i) === i;
  let i = 0;
  while (i < a.inputIds.length && i < b.inputIds.length && a.inputIds[i] === b.inputIds[i] && same(a, i) && same(b, i)) i++;
  return i;
}

/**
 * Items per run: about a sixteenth of the work, rounded to a power of two. Occluding token i leaves tokens before
 * i untouched, so a run whose items perturb nearby tokens shares a long prefix that is not run again (its keys and
 * values are a slice of the prompt's); smaller runs share longer prefixes, at a fixed cost per run (one read of
 * the weights). Llama-135M shape, 128 tokens: 8450 token-passes in 16 runs against 8962 in 8 (npm run bench scale).
 */
function itemsPerBatch(total: number): number {
  const n = Number(process.env.PROMPTSCOPE_ITEMS_PER_BATCH);
  // A power of two, so that a prompt a few tokens longer mostly keeps the same batch size.
  return n > 0 ? n : Math.max(8, 2 ** Math.round(Math.log2(Math.max(1, total / 16))));
}

/**
 * How a batch is run: `in-order` runs the planned batches front to back; `cheapest-first` runs the same
 * batches (same items in each, so the same numbers) in order of their padded tokens after the shared prefix,
 * ties front first. Deleting a late span leaves a long prefix shared with the prompt and a short suffix, so
 * cheapest first measures the end of the prompt first and the first results arrive after a short run.
 */
export type BatchOrder = 'in-order' | 'cheapest-first';

/** Padded tokens of a batch after the prefix its items share (what one run of it computes; one item runs whole). */
export function batchCost(batch: readonly ForwardItem[]): number {
  let shared = batch.length > 1 ? batch[0].inputIds.length : 0;
  for (const item of batch.slice(1)) shared = Math.min(shared, commonPrefix(batch[0], item));
  return batch.length * (Math.max(...batch.map((i) => i.inputIds.length)) - shared);
}

/**
 * Padded tokens per run, shared prefix included, within the model's memory budget (ModelInfo.batchTokens), but never
 * below four of the longest items: each run reads all the weights once, and below four sequences per run that cost
 * shows (GPT-2 shape, occlusion of 128 tokens beside a gradient method: 26 % more CPU at two per run, none at four).
 */
export const MIN_ITEMS_IN_BUDGET = 4;
function memoryCap(budget: number | undefined, items: readonly ForwardItem[]): number {
  if (budget === undefined || items.length === 0) return Infinity;
  return Math.max(budget, MIN_ITEMS_IN_BUDGET * Math.max(...items.map((i) => i.inputIds.length)));
}

/** Score all items in capped batches, reporting progress per batch (batches in `order`, values in item order). */
export async function scoreInBatches(
  runner: ModelRunner,
  items: readonly ForwardItem[],
  cap: number,
  signal?: AbortSignal,
  onProgress?: ProgressSink,
  /**
   * Called after each run with every value so far, in item order; an item whose batch has not run yet is a
   * hole (undefined). Streaming methods turn them into partial scores.
   */
  onValues?: (values: readonly (ScoreValue[] | undefined)[]) => void,
  order: BatchOrder = 'in-order',
): Promise<{ values: ScoreValue[][]; batches: number }> {
  // Items the prediction's pass ran alongside the prompt (see firstBatchAlongside) need no run of their own.
  const early = runner.takePrecomputed?.(items) ?? [];
  // The later batches end where they would have (aligned item indices, see planBatches).
  const batches = planFor(runner, items, cap, early.length);
  const starts: number[] = [];
  batches.reduce((at, b) => (starts.push(at), at + b.length), early.length);
  const runOrder = batches.map((_, i) => i);
  if (order === 'cheapest-first') {
    const costs = batches.map(batchCost);
    runOrder.sort((a, b) => costs[a] - costs[b] || a - b);
  }
  const values: (ScoreValue[] | undefined)[] = new Array(items.length).fill(undefined);
  early.forEach((v, k) => (values[k] = v));
  let done = early.length;
  if (done > 0 && batches.length > 0) {
    onValues?.(values);
    onProgress?.(done, items.length);
  }
  for (const bi of runOrder) {
    throwIfAborted(signal);
    const out = await runner.score(batches[bi], signal);
    out.forEach((v, k) => (values[starts[bi] + k] = v));
    done += batches[bi].length;
    onValues?.(values);
    onProgress?.(done, items.length);
  }
  return { values: values as ScoreValue[][], batches: batches.length + (early.length > 0 ? 1 : 0) };
}

/** The runs scoreInBatches makes of `items`. */
function planFor(runner: ModelRunner, items: readonly ForwardItem[], cap: number, from = 0): ForwardItem[][] {
  return planBatches(items, runnerTokenCap(runner, cap), itemsPerBatch(items.length), memoryCap(runner.info.batchTokens, items), from);
}

const runnerTokenCap = (runner: ModelRunner, cap: number): number => effectiveTokenCap(cap, runner.info.vocabSize, runner.info.kind === 'sequence-classifier');

/**
 * The items of the first run scoreInBatches makes of `items`, when that run can take the unperturbed prompt too (within
 * the caps, counting the prompt): what the prediction's pass may run alongside the prompt (ModelRunner.topTokens), so
 * that the prediction and the first batch take one run instead of two, and the later batches stay as they were. The
 * first batch of an occlusion starts at the prompt's first tokens and shares no prefix anyway.
 */
export function firstBatchAlongside(runner: ModelRunner, prompt: readonly number[], items: readonly ForwardItem[], cap: number): ForwardItem[] {
  if (items.length === 0) return [];
  const first = planFor(runner, items, cap)[0];
  const withPrompt: ForwardItem[] = [{ inputIds: [...prompt], queries: [{ position: prompt.length - 1, tokenId: 0 }] }, ...first];
  const tokens = withPrompt.length * Math.max(...withPrompt.map((i) => i.inputIds.length));
  const fits = tokens <= runnerTokenCap(runner, cap) && tokens <= memoryCap(runner.info.batchTokens, items);
  return fits ? first : [];
}
