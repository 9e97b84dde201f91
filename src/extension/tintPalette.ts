/**
 * The fixed set of tint decoration types: one per sign and bucket level (2 × 8), created once and rebuilt
 * only when the opacity setting changes. At full opacity the colours are the contributed theme colours
 * `promptscope.positive1..8` / `promptscope.negative1..8`, so themes can override them; below that, the
 * built-in scale is used with the alpha scaled.
 */
import * as vscode from 'vscode';
import { BUCKETS_PER_SIGN, bucketColourId, bucketHex, type Bucket, type Sign } from '../core/colourScale';
import { Disposable, disposeAll } from './lifecycle';

/** Alpha of the strongest bucket in the package.json defaults, per theme kind. */
export const THEME_ALPHA = { light: 0.7, dark: 0.8, highContrast: 0.95 } as const;

export function bucketKey(b: Bucket): string {
  return `${b.sign}${b.level}`;
}

export function allBuckets(): Bucket[] {
  const out: Bucket[] = [];
  for (const sign of ['pos', 'neg'] as Sign[]) for (let level = 1; level <= BUCKETS_PER_SIGN; level++) out.push({ sign, level });
  return out;
}

export class TintPalette extends Disposable {
  private types = new Map<string, vscode.TextEditorDecorationType>();
  private opacity = -1;

  constructor() {
    super();
    this._register({ dispose: () => disposeAll(this.types.values()) });
  }

  /** Decoration types for `opacity`; returns true when they were (re)created, so callers re-apply. */
  ensure(opacity: number): boolean {
    if (opacity === this.opacity && this.types.size) return false;
    disposeAll(this.types.values());
    this.types.clear();
    this.opacity = opacity;
    for (const b of allBuckets()) this.types.set(bucketKey(b), vscode.window.createTextEditorDecorationType(optionsFor(b, opacity)));
    return true;
  }

  typeFor(key: string): vscode.TextEditorDecorationType | undefined {
    return this.types.get(key);
  }

  entries(): [string, vscode.TextEditorDecorationType][] {
    return [...this.types.entries()];
  }
}

function optionsFor(b: Bucket, opacity: number): vscode.DecorationRenderOptions {
  const base: vscode.DecorationRenderOptions = {
    rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
    borderRadius: '2px',
  };
  if (opacity >= 1) return { ...base, backgroundColor: new vscode.ThemeColor(bucketColourId(b)) };
  return {
    ...base,
    light: { backgroundColor: bucketHex(b, THEME_ALPHA.light * opacity) },
    dark: { backgroundColor: bucketHex(b, THEME_ALPHA.dark * opacity) },
  };
}
