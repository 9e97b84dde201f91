/**
 * Method, target and granularity controls and export buttons. Choosing a method that the result already
 * holds only switches the view; anything that needs new numbers asks the host to re-run.
 */
import type { Granularity, TargetSpec } from '../src/core/request';
import { EXPORT_FORMATS, GRANULARITIES, PANEL_METHODS, parseTargetSpec, type ExportFormat, type PanelView } from '../src/core/panelProtocol';
import type { AttributionResult } from '../src/core/result';
import { h } from './dom';
import { createButton, createDropdown, createTextField, type Choice } from './toolkit';

export interface ControlActions {
  showMethod(method: string): void;
  rerunMethod(method: string): void;
  changeGranularity(granularity: Granularity): void;
  rerunTarget(target: TargetSpec): void;
  exportAs(format: ExportFormat): void;
}

type TargetKind = TargetSpec['kind'];

const TARGET_LABELS: Record<TargetKind, string> = {
  'next-token': 'Next token (model’s choice)',
  token: 'A given next token',
  forced: 'Forced continuation',
  generate: 'Generated continuation',
  contrastive: 'This rather than that',
  class: 'Class label',
};

const TEXT_PLACEHOLDER: Record<TargetKind, string> = {
  'next-token': '',
  token: 'token text',
  forced: 'continuation text',
  generate: 'number of tokens',
  contrastive: 'expected text',
  class: 'label (empty: predicted)',
};

export interface Controls {
  element: HTMLElement;
  /** `keepTarget`: a streamed update of the result already shown, so the target fields the user may be editing stay. */
  update(result: AttributionResult, view: PanelView, keepTarget?: boolean): void;
}

export function createControls(actions: ControlActions): Controls {
  let runMethods: string[] = [];
  let kind: TargetKind = 'next-token';

  const method = createDropdown('method', 'Attribution method', (m) => {
    if (runMethods.includes(m)) actions.showMethod(m);
    else actions.rerunMethod(m);
  });
  const granularity = createDropdown('granularity', 'Granularity', (g) => {
    if ((GRANULARITIES as readonly string[]).includes(g)) actions.changeGranularity(g as Granularity);
  });
  const targetKind = createDropdown('target-kind', 'Target', (k) => {
    kind = k as TargetKind;
    layoutTargetFields();
  });
  const targetText = createTextField('target-text', 'Target text', () => rerun());
  const targetFoil = createTextField('target-foil', 'Foil text', () => rerun());
  targetFoil.setPlaceholder('rather than');
  const targetError = h('span', { class: 'control-error', attrs: { role: 'status' } });
  const rerunButton = createButton('Re-run', () => rerun(), { id: 'rerun', title: 'Explain again with this target' });

  function layoutTargetFields(): void {
    targetText.element.hidden = kind === 'next-token';
    targetFoil.element.hidden = kind !== 'contrastive';
    targetText.setPlaceholder(TEXT_PLACEHOLDER[kind]);
    targetError.textContent = '';
  }

  function targetFromFields(): TargetSpec | undefined {
    const text = targetText.value();
    switch (kind) {
      case 'next-token':
        return { kind };
      case 'token':
        return parseTargetSpec({ kind, text });
      case 'forced':
        return parseTargetSpec({ kind, text });
      case 'generate':
        return /^\s*\d+\s*$/.test(text) ? parseTargetSpec({ kind, tokens: Number(text) }) : undefined;
      case 'contrastive':
        return parseTargetSpec({ kind, text, foil: targetFoil.value() });
      case 'class':
        return parseTargetSpec(text === '' ? { kind } : { kind, label: text });
    }
  }

  function rerun(): void {
    const target = targetFromFields();
    if (!target) {
      targetError.textContent = kind === 'generate' ? 'Enter a number of tokens (1–1024).' : 'Enter the text to explain.';
      return;
    }
    targetError.textContent = '';
    actions.rerunTarget(target);
  }

  const exports = h('div', { class: 'exports', attrs: { role: 'group', 'aria-label': 'Export' } },
    h('span', { class: 'control-label' }, 'Export'),
    ...EXPORT_FORMATS.map((f) => createButton(f.toUpperCase(), () => actions.exportAs(f), { id: `export-${f}`, secondary: true, title: `Save as ${f.toUpperCase()}` })),
  );

  const element = h('div', { class: 'controls' },
    h('label', { class: 'control' }, h('span', { class: 'control-label' }, 'Method'), method.element),
    h('label', { class: 'control' }, h('span', { class: 'control-label' }, 'Granularity'), granularity.element),
    h('div', { class: 'control target' },
      h('span', { class: 'control-label' }, 'Target'), targetKind.element, targetText.element, targetFoil.element, rerunButton, targetError),
    exports,
  );

  return {
    element,
    update(result, view, keepTarget = false) {
      runMethods = result.runs.map((r) => r.method);
      const all = [...new Set([...runMethods, ...result.request.methods, ...PANEL_METHODS])];
      const choices: Choice[] = all.map((m) => ({ value: m, label: runMethods.includes(m) ? m : `${m} (re-run)` }));
      method.setOptions(choices, view.method && runMethods.includes(view.method) ? view.method : runMethods[0] ?? all[0]);
      granularity.setOptions(GRANULARITIES.map((g) => ({ value: g, label: g })), view.granularity);
      if (keepTarget) return;
      const kinds: TargetKind[] = result.model.kind === 'sequence-classifier' ? ['class', 'contrastive'] : ['next-token', 'token', 'forced', 'generate', 'contrastive'];
      const spec = result.target.spec;
      kind = kinds.includes(spec.kind) ? spec.kind : kinds[0];
      targetKind.setOptions(kinds.map((k) => ({ value: k, label: TARGET_LABELS[k] })), kind);
      targetText.setValue(
        spec.kind === 'generate' ? String(spec.tokens)
          : spec.kind === 'forced' || spec.kind === 'contrastive' ? spec.text
            : spec.kind === 'token' ? spec.text ?? ''
              : spec.kind === 'class' ? spec.label ?? '' : '',
      );
      targetFoil.setValue(spec.kind === 'contrastive' ? spec.foil : '');
      layoutTargetFields();
    },
  };
}
