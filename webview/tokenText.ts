/**
 * Token text with whitespace made visible without changing it: each run of spaces, tabs or newlines is
 * wrapped in a span whose CSS pseudo-element draws a faint marker, so textContent stays the exact token.
 * A combining mark without its base character (a token of only an accent) is drawn on a dotted circle.
 */
import { showMarks } from '../src/core/viewUnits';
import { h } from './dom';

const WHITESPACE = /(\r?\n| |\t)/;

export function appendTokenText(parent: HTMLElement, text: string): void {
  for (const part of showMarks(text).split(WHITESPACE)) {
    if (part === '') continue;
    if (part === ' ') parent.appendChild(h('span', { class: 'ws ws-space' }, part));
    else if (part === '\t') parent.appendChild(h('span', { class: 'ws ws-tab' }, part));
    else if (part === '\n' || part === '\r\n') parent.appendChild(h('span', { class: 'ws ws-nl' }, part));
    else parent.appendChild(document.createTextNode(part));
  }
  if (text === '') parent.appendChild(h('span', { class: 'ws ws-empty' }, ''));
}
