/**
 * The string literal around a cursor in Python, TypeScript or JavaScript source, decoded: its content is the
 * prompt, and `offsets` maps every character of the decoded text back to the source, so that tints land on the
 * characters (or escapes) that produced it. Comments are skipped so that a quote inside one opens nothing.
 * Not handled: JavaScript regular-expression literals holding quotes, and template literals whose `${…}`
 * expressions contain backticks.
 */

export type LiteralLanguage = 'python' | 'typescript' | 'javascript';

export interface LiteralContent {
  /** The decoded content (escapes resolved). */
  text: string;
  /** Source offset of each character of `text`, plus one entry for the end of the content. */
  offsets: number[];
  /** [contentStart, contentEnd) in the source: between the quotes. */
  contentStart: number;
  contentEnd: number;
  /** Whether decoding changed anything (then text ≠ source.slice(contentStart, contentEnd)). */
  hasEscapes: boolean;
}

interface Literal {
  start: number;
  end: number;
  contentStart: number;
  contentEnd: number;
  raw: boolean;
}

/** The literal whose quotes enclose `cursor` (on a quote counts), decoded; undefined outside any literal. */
export function stringLiteralAt(source: string, cursor: number, language: LiteralLanguage): LiteralContent | undefined {
  const lit = (language === 'python' ? pythonLiterals : scriptLiterals)(source, cursor);
  if (!lit) return undefined;
  return decode(source, lit, language);
}

/** Scans up to the literal that holds `cursor`. */
function pythonLiterals(s: string, cursor: number): Literal | undefined {
  let i = 0;
  while (i < s.length && i <= cursor) {
    const c = s[i];
    if (c === '#') {
      while (i < s.length && s[i] !== '\n') i++;
      continue;
    }
    if (c === '"' || c === "'") {
      // Prefix letters (r, b, f, u and pairs) just before the quote.
      let p = i;
      while (p > 0 && /[rRbBfFuU]/.test(s[p - 1]) && i - p < 2) p--;
      const prefixOk = p === 0 || !/[\w]/.test(s[p - 1]);
      const raw = prefixOk && /[rR]/.test(s.slice(p, i));
      const start = prefixOk ? p : i;
      const triple = s.startsWith(c.repeat(3), i);
      const q = triple ? c.repeat(3) : c;
      const contentStart = i + q.length;
      let j = contentStart;
      for (; j < s.length; j++) {
        if (s[j] === '\\') {
          j++;
          continue;
        }
        if (!triple && s[j] === '\n') break;
        if (s.startsWith(q, j)) break;
      }
      const closed = j < s.length && s.startsWith(q, j);
      const end = closed ? j + q.length : j;
      if (cursor >= start && cursor <= end) return { start, end, contentStart, contentEnd: Math.min(j, s.length), raw };
      i = end;
      continue;
    }
    i++;
  }
  return undefined;
}

function scriptLiterals(s: string, cursor: number): Literal | undefined {
  let i = 0;
  while (i < s.length && i <= cursor) {
    const c = s[i];
    if (c === '/' && s[i + 1] === '/') {
      while (i < s.length && s[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && s[i + 1] === '*') {
      const close = s.indexOf('*/', i + 2);
      i = close < 0 ? s.length : close + 2;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      for (; j < s.length; j++) {
        if (s[j] === '\\') {
          j++;
          continue;
        }
        if (c !== '`' && s[j] === '\n') break;
        if (s[j] === c) break;
      }
      const closed = j < s.length && s[j] === c;
      const end = closed ? j + 1 : j;
      if (cursor >= i && cursor <= end) return { start: i, end, contentStart: i + 1, contentEnd: Math.min(j, s.length), raw: false };
      i = end;
      continue;
    }
    i++;
  }
  return undefined;
}

const SIMPLE: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', v: '\v', '\\': '\\', "'": "'", '"': '"', '`': '`' };

function decode(s: string, lit: Literal, language: LiteralLanguage): LiteralContent {
  let text = '';
  const offsets: number[] = [];
  const put = (chars: string, at: number) => {
    for (let k = 0; k < chars.length; k++) {
      offsets.push(at);
      text += chars[k];
    }
  };
  let i = lit.contentStart;
  while (i < lit.contentEnd) {
    const c = s[i];
    if (c !== '\\' || lit.raw || i + 1 >= lit.contentEnd) {
      put(c, i);
      i++;
      continue;
    }
    const e = s[i + 1];
    if (e === '\n' || e === '\r') {
      // A backslash at the end of a line continues the string: nothing enters the text.
      i += e === '\r' && s[i + 2] === '\n' ? 3 : 2;
      continue;
    }
    if (e in SIMPLE && !(language === 'python' && e === '`')) {
      put(SIMPLE[e], i);
      i += 2;
      continue;
    }
    const hex = (from: number, n: number) => (/^[0-9a-fA-F]+$/.test(s.slice(from, from + n)) && from + n <= lit.contentEnd ? parseInt(s.slice(from, from + n), 16) : undefined);
    if (e === 'x' && hex(i + 2, 2) !== undefined) {
      put(String.fromCharCode(hex(i + 2, 2)!), i);
      i += 4;
      continue;
    }
    if (e === 'u' && s[i + 2] === '{' && language !== 'python') {
      const close = s.indexOf('}', i + 3);
      const v = close > 0 && close < lit.contentEnd ? hex(i + 3, close - i - 3) : undefined;
      if (v !== undefined && v <= 0x10ffff) {
        put(String.fromCodePoint(v), i);
        i = close + 1;
        continue;
      }
    }
    if (e === 'u' && hex(i + 2, 4) !== undefined) {
      put(String.fromCharCode(hex(i + 2, 4)!), i);
      i += 6;
      continue;
    }
    if (e === 'U' && language === 'python' && hex(i + 2, 8) !== undefined && hex(i + 2, 8)! <= 0x10ffff) {
      put(String.fromCodePoint(hex(i + 2, 8)!), i);
      i += 10;
      continue;
    }
    if (/[0-7]/.test(e) && (language === 'python' || e === '0')) {
      let n = 1;
      while (language === 'python' && n < 3 && /[0-7]/.test(s[i + 1 + n] ?? '') && i + 1 + n < lit.contentEnd) n++;
      put(String.fromCharCode(parseInt(s.slice(i + 1, i + 1 + n), 8)), i);
      i += 1 + n;
      continue;
    }
    // Unknown escapes: Python keeps the backslash, JavaScript drops it (the character maps to the backslash,
    // so that its source span covers the whole escape).
    if (language === 'python') {
      put('\\', i);
      put(e, i + 1);
    } else {
      put(e, i);
    }
    i += 2;
  }
  offsets.push(lit.contentEnd);
  return { text, offsets, contentStart: lit.contentStart, contentEnd: lit.contentEnd, hasEscapes: text !== s.slice(lit.contentStart, lit.contentEnd) };
}
