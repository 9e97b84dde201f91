/** Formatting of user data (token text, targets) and numbers for hovers and the status bar. Pure. */
import { editLine, editsOfToken } from '../core/counterfactualText';
import type { CounterfactualEdits, SpanLevel } from '../core/result';

/** Token text with its whitespace made visible, e.g. " Paris\n" → "·Paris⏎". */
export function visibleWhitespace(text: string): string {
  return text
    .replace(/ /g, '·')
    .replace(/\r\n/g, '⏎')
    .replace(/[\n\r]/g, '⏎')
    .replace(/\t/g, '→')
    .replace(/\u00a0/g, '⍽')
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export function formatScore(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const s = Math.abs(v) >= 100 || (Math.abs(v) < 0.001 && v !== 0) ? v.toExponential(2) : v.toFixed(4);
  // A true minus sign, as in the panel.
  return v > 0 ? `+${s}` : v < 0 ? `−${s.slice(1)}` : s;
}

export function formatPercent(p: number): string {
  if (!Number.isFinite(p)) return '–';
  const pct = p * 100;
  return pct >= 10 || pct === 0 ? `${pct.toFixed(1)}%` : `${pct.toPrecision(2)}%`;
}

/** Shortens long user text for one-line places (status bar). */
export function ellipsis(text: string, max = 24): string {
  return text.length > max ? text.slice(0, max - 1) + '…' : text;
}

/** The best verified counterfactual edits of a token, one per line (plain text: append with appendText). */
export function counterfactualHoverText(cf: CounterfactualEdits | undefined, token: number, max = 3): string | undefined {
  const edits = cf ? editsOfToken(cf, token).slice(0, max) : [];
  if (!edits.length) return undefined;
  return `verified edits (light bulb applies one):\n${edits.map((e) => `• ${editLine(e)}`).join('\n')}`;
}

/** Coarse-to-fine occlusion: which span the token's score was measured on. */
export function spanLevelText(level: SpanLevel | null | undefined): string | undefined {
  if (level === undefined) return undefined;
  if (level === null) return 'not scored';
  if (level === 'token') return 'measured at token level: this token occluded alone';
  return `measured at ${level} level: the whole ${level} occluded, its score shared evenly by its tokens (not refined within the budget)`;
}
