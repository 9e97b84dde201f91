/**
 * The only file that knows about @vscode/webview-ui-toolkit (deprecated upstream). Everything else builds
 * controls through these helpers, so moving to @vscode-elements/elements is a change to this file alone.
 */
import {
  provideVSCodeDesignSystem,
  vsCodeButton,
  vsCodeDropdown,
  vsCodeOption,
  vsCodeTextField,
} from '@vscode/webview-ui-toolkit';

let registered = false;

export function registerToolkit(): void {
  if (registered) return;
  provideVSCodeDesignSystem().register(vsCodeButton(), vsCodeDropdown(), vsCodeOption(), vsCodeTextField());
  registered = true;
}

export interface Choice {
  value: string;
  label: string;
}

/** Elements whose value the toolkit exposes as a property. */
type Valued = HTMLElement & { value: string };

export interface Dropdown {
  element: HTMLElement;
  value(): string;
  /** Replace the options and select one, without firing change. */
  setOptions(choices: readonly Choice[], selected: string): void;
  setValue(value: string): void;
}

export function createDropdown(id: string, label: string, onChange: (value: string) => void): Dropdown {
  const el = document.createElement('vscode-dropdown') as Valued;
  el.id = id;
  el.setAttribute('aria-label', label);
  el.setAttribute('position', 'below');
  let suppress = false;
  el.addEventListener('change', () => {
    if (!suppress) onChange(el.value);
  });
  const dropdown: Dropdown = {
    element: el,
    value: () => el.value,
    setOptions(choices, selected) {
      suppress = true;
      el.replaceChildren(
        ...choices.map((c) => {
          const opt = document.createElement('vscode-option') as Valued;
          opt.setAttribute('value', c.value);
          opt.textContent = c.label;
          if (c.value === selected) opt.setAttribute('selected', '');
          return opt;
        }),
      );
      el.value = selected;
      suppress = false;
    },
    setValue(value) {
      suppress = true;
      el.value = value;
      suppress = false;
    },
  };
  return dropdown;
}

export function createButton(label: string, onClick: () => void, opts: { id?: string; secondary?: boolean; title?: string } = {}): HTMLElement {
  const el = document.createElement('vscode-button');
  el.textContent = label;
  if (opts.id) el.id = opts.id;
  if (opts.secondary) el.setAttribute('appearance', 'secondary');
  if (opts.title) el.title = opts.title;
  el.addEventListener('click', onClick);
  return el;
}

export interface TextField {
  element: HTMLElement;
  value(): string;
  setValue(value: string): void;
  setPlaceholder(text: string): void;
}

export function createTextField(id: string, label: string, onEnter: () => void): TextField {
  const el = document.createElement('vscode-text-field') as Valued;
  el.id = id;
  el.setAttribute('aria-label', label);
  el.addEventListener('keydown', (e) => {
    if ((e as KeyboardEvent).key === 'Enter') onEnter();
  });
  return {
    element: el,
    value: () => el.value ?? '',
    setValue: (v) => {
      el.value = v;
    },
    setPlaceholder: (t) => el.setAttribute('placeholder', t),
  };
}
