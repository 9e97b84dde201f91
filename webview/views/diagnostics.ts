/** What the numbers mean, what they cost, and how far to trust them. */
import { h } from '../dom';
import { trustNoteFor } from '../trustNotes';
import type { ViewModel } from '../viewModel';

export function renderDiagnostics(vm: ViewModel): HTMLElement {
  const run = vm.run;
  if (!run) return h('p', { class: 'muted' }, 'This result holds no attribution run.');
  const d = run.diagnostics;
  const facts = [
    // Occlusion methods count their passes as the progress line does; shared prefixes add forward passes.
    ...(d.occlusions !== undefined ? [`${d.occlusions} occlusion pass${d.occlusions === 1 ? '' : 'es'}`] : []),
    `${d.forwardPasses} forward pass${d.forwardPasses === 1 ? '' : 'es'}${d.occlusions !== undefined && d.forwardPasses > d.occlusions ? ' with the shared prefixes' : ''}`,
    `${d.backwardPasses} backward pass${d.backwardPasses === 1 ? '' : 'es'}`,
    `${d.batches} batch${d.batches === 1 ? '' : 'es'}`,
    `${Math.round(d.elapsedMs)} ms`,
  ];
  if (d.seed !== undefined) facts.push(`seed ${d.seed}`);
  const gap = d.completenessGap?.[vm.row];
  const rel = d.relativeCompletenessGap?.[vm.row];
  if (rel !== undefined) facts.push(`completeness gap ${(rel * 100).toPrecision(2)} % of f(input) − f(baseline)`);
  else if (gap !== undefined) facts.push(`completeness gap ${gap.toPrecision(3)}`);
  // Same threshold as src/core/completenessNote.ts: above 1 % the scores do not add up closely enough.
  const gapHint = rel !== undefined && rel > 0.01
    ? h('p', { class: 'gap-hint', id: 'gap-hint' }, 'The completeness gap is above 1 %: the scores do not add up to the score difference yet. Raise the integrated-gradients steps.')
    : undefined;
  if (d.samples !== undefined) facts.push(`${d.samples} samples`);
  const se = d.samplingError?.[vm.row];
  if (se) facts.push(`standard error up to ${Math.max(0, ...se).toPrecision(2)}`);
  const r2 = d.fitR2?.[vm.row];
  if (r2 !== undefined) facts.push(`fit R² ${r2.toFixed(3)}`);
  const params = Object.entries(run.params ?? {}).map(([k, v]) => `${k} ${String(v)}`).join(', ');
  return h('div', { class: 'diagnostics' },
    h('p', { class: 'meaning' }, h('strong', {}, run.method), ': ', run.meaning),
    h('p', { class: 'facts muted', id: 'diagnostics-facts' }, facts.join(' · ') + (params ? ` · ${params}` : '')),
    ...(gapHint ? [gapHint] : []),
    h('p', { class: 'trust', id: 'trust-note' }, h('strong', {}, 'How far to trust this: '), trustNoteFor(run.method)),
  );
}
