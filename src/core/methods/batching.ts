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
 */
export function planBatches(items: readonly ForwardItem[], cap: number, maxItems = Infinity): ForwardItem[][] {
  const batches: ForwardItem[][] = [];
  let cur: ForwardItem[] = [];
  let longest = 0;
  let shared = 0;
  for (const item of items) {
    const len = Math.max(longest, item.inputIds.length);
    const common = cur.length ? Math.min(shared, commonPrefix(cur[0], item)) : item.inputIds.length;
    if (cur.length > 0 && ((cur.length + 1) * (len - common) > cap || cur.length >= maxItems)) {
      batches.push(cur);
      cur = [];
      longest = 0;
    }
    shared = cur.length ? Math.min(shared, commonPrefix(cur[0], item)) : item.inputIds.length;
    cur.push(item);
    longest = Math.max(longest, item.inputIds.length);
  }
  if (cur.length) batches.push(cur);
  return batches;
}

/** Leading positions where two items feed the same token, unmasked, at its default position. */
function commonPrefix(a: ForwardItem, b: ForwardItem): number {
  const same = (x: ForwardItem, i: number) => (x.attentionMask?.[i] ?? 1) === 1 && (x.positionIds?.[i] ?? i) === i;
  let i = 0;
  while (i < a.inputIds.length && i < b.inputIds.length && a.inputIds[i] === b.inputIds[i] && same(a, i) && same(b, i)) i++;
  return i;
}

/**
 * Items per run: about an eighth of the work. Occluding token i leaves tokens before i untouched, so a run
 * whose items perturb nearby tokens shares a long prefix that is computed once; smaller runs share longer
 * prefixes, at a small fixed cost per run. Measured on the bundled LM (npm run bench).
 */
function itemsPerBatch(total: number): number {
  const n = Number(process.env.PROMPTSCOPE_ITEMS_PER_BATCH);
  return n > 0 ? n : Math.max(8, Math.ceil(total / 8));
}

/** Score all items in capped batches, in order, reporting progress per batch. */
export async function scoreInBatches(
  runner: ModelRunner,
  items: readonly ForwardItem[],
  cap: number,
  signal?: AbortSignal,
  onProgress?: ProgressSink,
  /** Called after each run with every value so far (streaming methods turn them into partial scores). */
  onValues?: (values: readonly ScoreValue[][]) => void,
): Promise<{ values: ScoreValue[][]; batches: number }> {
  const batches = planBatches(items, effectiveTokenCap(cap, runner.info.vocabSize, runner.info.kind === 'sequence-classifier'), itemsPerBatch(items.length));
  const values: ScoreValue[][] = [];
  let done = 0;
  for (const batch of batches) {
    throwIfAborted(signal);
    values.push(...(await runner.score(batch, signal)));
    done += batch.length;
    onValues?.(values);
    onProgress?.(done, items.length);
  }
  return { values, batches: batches.length };
}
