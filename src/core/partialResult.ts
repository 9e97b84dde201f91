/**
 * Partial results: what a long explain has computed so far, as an ordinary AttributionResult with a
 * `partial` field. The engine streams them while methods run; a cancelled run keeps the last one, marked
 * cancelled. Every number in a partial result was measured exactly as in the final one: a method only
 * reports scores it has finished (coarse-to-fine: every span occluded so far; occlusion: the tokens whose
 * passes ran); tokens not reached yet are listed in `pending` and score 0.
 */
import type { AttributionResult, MethodRun, SpanLevel } from './result';

/** The unit a streaming method is scoring in its latest chunk of passes. */
export type PartialUnit = SpanLevel | 'window';

export interface PartialState {
  /** 'running': more is coming; 'cancelled': the run was stopped and this is all there is. */
  state: 'running' | 'cancelled';
  /** The method whose run is incomplete (the runs before it in `runs` are complete). */
  method: string;
  /** Coarse-to-fine: the finest level occluded in the latest round; occlusion methods: their unit. */
  unit?: PartialUnit;
  /** Forward passes of the incomplete method so far, and how many it plans (its budget). */
  passes: number;
  totalPasses: number;
  /** Token indices the incomplete run has not scored yet (their score is 0, not a measurement). */
  pending?: number[];
  /** Set when every method finished and only the faithfulness figures are still being computed. */
  phase?: 'faithfulness';
}

/** What a method reports after a chunk of passes: its scores so far and how far it is. */
export interface MethodPartial {
  scores: number[][];
  unit?: PartialUnit;
  passes: number;
  totalPasses: number;
  pending?: number[];
  spanLevels?: (SpanLevel | null)[];
  meaning?: string;
}

export type PartialSink = (p: MethodPartial) => void;

/** Everything of a result that exists before any method ran (tokens, target, predictions). */
export type ResultSkeleton = Omit<AttributionResult, 'runs' | 'trust' | 'partial'>;

/**
 * Merges the finished runs and the latest chunk of the running method into one result. The running
 * method's run carries its partial scores; runs not started yet are absent.
 */
export function buildPartialResult(
  skeleton: ResultSkeleton,
  done: readonly MethodRun[],
  method: string,
  current: MethodPartial | undefined,
  /** The runner's forward passes for this method so far (with shared prefixes), as the final run counts them. */
  forwardPasses?: number,
): AttributionResult {
  const runs = [...done];
  if (current) {
    runs.push({
      method,
      params: {},
      scores: current.scores.map((row) => [...row]),
      meaning: current.meaning ?? '',
      diagnostics: {
        forwardPasses: forwardPasses ?? current.passes,
        backwardPasses: 0,
        elapsedMs: 0,
        batches: 0,
        // The passes the progress line and the partial note count, so the panel shows the same number.
        occlusions: current.passes,
        ...(current.spanLevels ? { spanLevels: [...current.spanLevels] } : {}),
      },
    });
  }
  const partial: PartialState = {
    state: 'running',
    method,
    passes: current?.passes ?? 0,
    totalPasses: current?.totalPasses ?? 0,
    ...(current?.unit ? { unit: current.unit } : {}),
    ...(current?.pending?.length ? { pending: [...current.pending] } : {}),
  };
  return { ...skeleton, runs, partial };
}

/** All methods finished; the faithfulness figures are still to come. */
export function resultBeforeTrust(skeleton: ResultSkeleton, runs: readonly MethodRun[]): AttributionResult {
  const last = runs[runs.length - 1];
  const passes = last?.diagnostics.forwardPasses ?? 0;
  return { ...skeleton, runs: [...runs], partial: { state: 'running', method: last?.method ?? '', passes, totalPasses: passes, phase: 'faithfulness' } };
}

/** The result a cancelled run leaves: the last partial one, marked cancelled. */
export function cancelledResult(last: AttributionResult): AttributionResult {
  const partial: PartialState = last.partial ? { ...last.partial, state: 'cancelled' } : { state: 'cancelled', method: last.runs.at(-1)?.method ?? '', passes: 0, totalPasses: 0 };
  return { ...last, partial };
}

export function isPartial(result: AttributionResult | undefined): boolean {
  return !!result?.partial;
}

const UNIT_PLURAL: Record<PartialUnit, string> = { paragraph: 'paragraphs', sentence: 'sentences', word: 'words', token: 'tokens', window: 'windows' };

/** The progress line of a streaming method: "Explaining · words · 34/120 passes". */
export function explainingLine(unit: PartialUnit | undefined, passes: number, totalPasses: number): string {
  return ['Explaining', ...(unit ? [UNIT_PLURAL[unit]] : []), `${passes}/${totalPasses} passes`].join(' · ');
}

/**
 * One line that says a result is partial and how far it got, for the hover, the legend and the panel:
 * "partial (cancelled) · words · 34/120 passes". Undefined for a final result.
 */
export function partialSummary(result: AttributionResult): string | undefined {
  const p = result.partial;
  if (!p) return undefined;
  if (p.phase === 'faithfulness') return p.state === 'cancelled' ? 'partial (cancelled before the faithfulness figures)' : 'partial · checking faithfulness';
  const head = p.state === 'cancelled' ? 'partial (cancelled)' : 'partial';
  return [head, ...(p.unit ? [UNIT_PLURAL[p.unit]] : []), `${p.passes}/${p.totalPasses} passes`].join(' · ');
}

/** Whether a token of a partial result has no score yet (its run has not reached it). */
export function isPendingToken(result: AttributionResult, runIndex: number, token: number): boolean {
  const p = result.partial;
  if (!p?.pending?.length || runIndex !== result.runs.length - 1 || result.runs[runIndex]?.method !== p.method) return false;
  return p.pending.includes(token);
}

/**
 * Limits how often partial results go out: the first one, every change of unit (a coarse-to-fine level
 * completed), and otherwise at most one per `intervalMs`. `now` is injectable for tests.
 */
export class PartialThrottle {
  private lastAt = -Infinity;
  private lastUnit: PartialUnit | undefined | null = null;
  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  shouldSend(unit: PartialUnit | undefined): boolean {
    const t = this.now();
    if (this.lastUnit === null || unit !== this.lastUnit || t - this.lastAt >= this.intervalMs) {
      this.lastAt = t;
      this.lastUnit = unit;
      return true;
    }
    return false;
  }

  /** A new method starts: its first chunk goes out at once. */
  reset(): void {
    this.lastUnit = null;
  }
}
