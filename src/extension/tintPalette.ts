/**
 * The fixed set of tint decoration types: one per sign and bucket level (2 × 8), created once and rebuilt
 * only when the opacity setting changes. At full opacity the colours are the contributed theme colours
 * `promptscope.positive1..8` / `promptscope.negative1..8`, so themes can override them; below that, the
 * built-in scale is used with the alpha scaled.
 *
 * Text on the strongest tints gets its own colour (`promptscope.strongTintForeground`): the theme's text
 * colour loses contrast there (grey on strong orange in dark themes, dark grey on strong blue in light
 * ones). High-contrast themes also underline every tint in its sign's colour (solid: raises, dashed:
 * lowers), through `promptscope.positiveBorder` / `promptscope.negativeBorder`, which are transparent in
 * the other themes.
 */
import * as vscode from 'vscode';
import { BUCKETS_PER_SIGN, bucketColourId, bucketHex, type Bucket, type Sign } from '../core/colourScale';
import { Disposable, disposeAll } from './lifecycle';

/** Alpha of the strongest bucket in the package.json defaults, per theme kind. */
export const THEME_ALPHA = { light: 0.7, dark: 0.8 } as const;

/** From this level up, tinted text uses the strong-tint foreground (contrast ≥ 4.5 with it, see package.json). */
export const STRONG_LEVEL = 6;

/** Text colours for the strongest tints when the tints are faded below the theme colours. */
const STRONG_TEXT = { light: '#000000', dark: '#ffffff' } as const;

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
    for (const b of allBuckets()) {
      const options = optionsFor(b, opacity);
      this.types.set(bucketKey(b), vscode.window.createTextEditorDecorationType(options));
      this.types.set(TintPalette.backgroundOnly(bucketKey(b)), vscode.window.createTextEditorDecorationType(backgroundOnly(options)));
    }
    return true;
  }

  /** Key of the background-only twin of a bucket's type (for lines of right-to-left or joining scripts). */
  static backgroundOnly(key: string): string {
    return `${key}:bg`;
  }

  typeFor(key: string): vscode.TextEditorDecorationType | undefined {
    return this.types.get(key);
  }

  entries(): [string, vscode.TextEditorDecorationType][] {
    return [...this.types.entries()];
  }
}

export function optionsFor(b: Bucket, opacity: number): vscode.DecorationRenderOptions {
  const base: vscode.DecorationRenderOptions = {
    rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
    borderRadius: '2px',
    // Transparent in normal themes; a sign-coded underline (solid: raises, dashed: lowers) in high-contrast
    // ones. The colour is the contributed theme colour's CSS variable (decorations take no ThemeColor for
    // text decorations); an underline takes no room, so the tint box keeps the line's height.
    textDecoration: `underline ${b.sign === 'pos' ? 'solid' : 'dashed'} var(--vscode-promptscope-${b.sign === 'pos' ? 'positiveBorder' : 'negativeBorder'}, transparent) 2px`,
  };
  if (opacity >= 1) {
    return {
      ...base,
      backgroundColor: new vscode.ThemeColor(bucketColourId(b)),
      ...(b.level >= STRONG_LEVEL && { color: new vscode.ThemeColor('promptscope.strongTintForeground') }),
    };
  }
  // Faded tints are as strong as the theme colours of level `b.level × opacity`.
  const strong = b.level * opacity >= STRONG_LEVEL;
  return {
    ...base,
    light: { backgroundColor: bucketHex(b, THEME_ALPHA.light * opacity), ...(strong && { color: STRONG_TEXT.light }) },
    dark: { backgroundColor: bucketHex(b, THEME_ALPHA.dark * opacity), ...(strong && { color: STRONG_TEXT.dark }) },
  };
}

/** The same tint without text colour or underline: the editor draws it beneath the text, never splitting it. */
export function backgroundOnly(o: vscode.DecorationRenderOptions): vscode.DecorationRenderOptions {
  const strip = (t: vscode.ThemableDecorationRenderOptions | undefined) => t && { backgroundColor: t.backgroundColor };
  return {
    rangeBehavior: o.rangeBehavior,
    borderRadius: o.borderRadius,
    ...(o.backgroundColor !== undefined && { backgroundColor: o.backgroundColor }),
    ...(o.light && { light: strip(o.light) }),
    ...(o.dark && { dark: strip(o.dark) }),
  };
}
