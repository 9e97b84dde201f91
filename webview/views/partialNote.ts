/** The notice above a partial result: still running (the panel updates as levels complete) or cancelled. */
import { partialSummary } from '../../src/core/partialResult';
import type { AttributionResult } from '../../src/core/result';
import { h } from '../dom';

export function renderPartialNote(result: AttributionResult): HTMLElement | undefined {
  const summary = partialSummary(result);
  if (!summary) return undefined;
  const cancelled = result.partial?.state === 'cancelled';
  const pending = result.partial?.pending?.length ?? 0;
  const detail = result.partial?.phase === 'faithfulness'
    ? cancelled
      ? 'The scores are complete; the run was cancelled before the faithfulness figures.'
      : 'The scores are complete; the faithfulness figures are being computed.'
    : cancelled
      ? 'The run was cancelled: these are the scores it had measured, each exact for its span.'
      : pending
        ? 'The model is still running: tokens are scored chunk by chunk.'
        : 'The model is still running: scores refine as levels complete.';
  return h('p', { class: `partial-note${cancelled ? ' cancelled' : ''}`, id: 'partial-note', attrs: { role: 'status' } },
    h('strong', {}, summary.charAt(0).toUpperCase() + summary.slice(1)),
    ` — ${detail}`,
    pending ? h('span', { class: 'muted' }, ` ${pending} token${pending === 1 ? '' : 's'} not scored yet.`) : undefined);
}
