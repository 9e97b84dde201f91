/**
 * The one way the panel builds DOM: elements with text children set as text nodes. Token and model text is
 * user data, so nothing here (or anywhere in webview/) parses HTML.
 */
type Child = Node | string | undefined | false;

export interface Props {
  class?: string;
  title?: string;
  id?: string;
  attrs?: Record<string, string>;
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props: Props = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props.class) el.className = props.class;
  if (props.title !== undefined) el.title = props.title;
  if (props.id) el.id = props.id;
  for (const [k, v] of Object.entries(props.attrs ?? {})) el.setAttribute(k, v);
  append(el, ...children);
  return el;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === undefined || c === false) continue;
    parent.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  }
}

/** Make an element behave as a button for mouse and keyboard without being a <button> (keeps inline flow). */
export function clickable(el: HTMLElement, onActivate: () => void, label?: string): HTMLElement {
  el.setAttribute('role', 'button');
  el.tabIndex = 0;
  if (label) el.setAttribute('aria-label', label);
  el.addEventListener('click', onActivate);
  el.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      onActivate();
    }
  });
  return el;
}

export function section(title: string, id: string, ...children: Child[]): HTMLElement {
  return h('section', { id, class: 'section' }, h('h2', {}, title), ...children);
}

/** Signed number with a real minus sign and fixed significant digits. */
export function formatScore(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  return (x > 0 ? '+' : x < 0 ? '−' : '±') + Math.abs(x).toPrecision(3);
}

export function formatPercent(p: number): string {
  const v = p * 100;
  return (v >= 10 ? v.toFixed(1) : v >= 0.1 ? v.toFixed(2) : v.toExponential(1)) + '%';
}
