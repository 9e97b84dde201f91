/**
 * Character offsets for tokens, derived from the token strings because the tokenizers we run give none.
 * Every token gets an exact [start, end) range of the input (UTF-16 indices), in order, never overlapping:
 * - byte-level BPE: tokens are byte sequences; a boundary inside a multi-byte character rounds up to the
 *   character's end, so the first token touching a character owns all of it and later pieces of the same
 *   character are zero-width;
 * - SentencePiece / Metaspace: '▁' is a space; <0xNN> byte-fallback pieces are bytes; a leading dummy space
 *   that is not in the text is skipped;
 * - WordPiece: the input is normalised one character at a time (lowercasing, accent stripping) and tokens are
 *   matched against that; characters the normaliser drops (combining marks, control characters) join the
 *   token before them;
 * - special tokens that the post-processor inserts (BOS, CLS, SEP) are zero-width; special tokens literally
 *   written in the text cover their characters.
 */

export type TokenizerFamily = 'byte-level' | 'metaspace' | 'wordpiece';

export interface TokenizerShape {
  family: TokenizerFamily;
  /** Vocabulary string of a token id. */
  tokenString(id: number): string;
  /** Special / added tokens: id → literal content. */
  special: Map<number, string>;
  unkId?: number;
  /** WordPiece continuation prefix (usually "##"). */
  continuingPrefix?: string;
  /** The tokenizer's own normaliser, applied to one character at a time (identity when absent). */
  normalize?: (s: string) => string;
  /** Byte-level / SentencePiece tokenizers whose normaliser is a Unicode normal form (Qwen's NFC). */
  unicodeForm?: 'NFC' | 'NFKC' | 'NFD' | 'NFKD';
}

export interface TokenRange {
  start: number;
  end: number;
  special: boolean;
}

export function tokenRanges(text: string, ids: readonly number[], shape: TokenizerShape): TokenRange[] {
  return shape.family === 'wordpiece' ? wordPieceRanges(text, ids, shape) : byteRanges(text, ids, shape);
}

// ---------- byte-level BPE and SentencePiece ----------

let byteDecoder: Map<string, number> | undefined;

/** Inverse of GPT-2's bytes_to_unicode table: printable stand-in character → byte. */
function gpt2ByteDecoder(): Map<string, number> {
  if (byteDecoder) return byteDecoder;
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  byteDecoder = new Map(bs.map((b, i) => [String.fromCharCode(cs[i]), b]));
  return byteDecoder;
}

const utf8 = new TextEncoder();

function tokenBytes(tok: string, family: TokenizerFamily): Uint8Array {
  if (family === 'byte-level') {
    const dec = gpt2ByteDecoder();
    const out: number[] = [];
    for (const ch of tok) {
      const b = dec.get(ch);
      if (b === undefined) out.push(...utf8.encode(ch));
      else out.push(b);
    }
    return Uint8Array.from(out);
  }
  const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(tok);
  if (m) return Uint8Array.of(parseInt(m[1], 16));
  return utf8.encode(tok.replace(/▁/g, ' '));
}

/**
 * The text as the tokenizer sees it, in units that normalise independently: one character, or with a Unicode
 * normal form one grapheme cluster (NFC composes e + U+0301 into é, and conjoining jamo into a syllable).
 */
function normalisedUnits(text: string, form: TokenizerShape['unicodeForm']): { norm: string; len: number }[] {
  if (!form) return [...text].map((ch) => ({ norm: ch, len: ch.length }));
  // Normal forms compose within a grapheme cluster (combining marks, Hangul jamo), never across one.
  const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(text);
  return [...graphemes].map((g) => ({ norm: g.segment.normalize(form), len: g.segment.length }));
}

function byteRanges(text: string, ids: readonly number[], shape: TokenizerShape): TokenRange[] {
  // Tokens are matched against the normalised text's bytes; boundary[b] maps byte b back to the UTF-16 index
  // of the first original character boundary at or after it.
  const units = normalisedUnits(text, shape.unicodeForm);
  const bytes = utf8.encode(units.map((x) => x.norm).join(''));
  const boundary = new Int32Array(bytes.length + 1);
  {
    let b = 0;
    let u = 0;
    for (const unit of units) {
      const len = utf8.encode(unit.norm).length;
      for (let k = 0; k < len; k++) boundary[b + k] = k === 0 ? u : u + unit.len;
      b += len;
      u += unit.len;
    }
    boundary[bytes.length] = text.length;
  }
  const ranges: TokenRange[] = [];
  let cursor = 0;
  for (let t = 0; t < ids.length; t++) {
    const id = ids[t];
    const specialContent = shape.special.get(id);
    let piece: Uint8Array;
    if (specialContent !== undefined) {
      piece = utf8.encode(specialContent);
      if (!startsWithAt(bytes, piece, cursor)) {
        ranges.push({ start: boundary[cursor], end: boundary[cursor], special: true });
        continue;
      }
    } else {
      piece = tokenBytes(shape.tokenString(id), shape.family);
      // SentencePiece adds a dummy leading space that the text may not have.
      if (shape.family === 'metaspace' && piece[0] === 0x20 && bytes[cursor] !== 0x20) piece = piece.subarray(1);
    }
    let start = cursor;
    if (!startsWithAt(bytes, piece, cursor)) {
      // The tokenizer changed the text (a normaliser); resynchronise on the next occurrence.
      const found = indexOfBytes(bytes, piece, cursor);
      if (found < 0) {
        ranges.push({ start: boundary[cursor], end: boundary[cursor], special: specialContent !== undefined });
        continue;
      }
      start = cursor; // the skipped bytes belong to this token so that nothing is left uncovered
      cursor = found;
    }
    const end = Math.min(bytes.length, cursor + piece.length);
    ranges.push({ start: boundary[start], end: boundary[end], special: specialContent !== undefined });
    cursor = end;
  }
  // Trailing bytes nobody claimed (should not happen) join the last visible token.
  extendLast(ranges, boundary[cursor], text.length);
  return ranges;
}

function startsWithAt(hay: Uint8Array, needle: Uint8Array, at: number): boolean {
  if (at + needle.length > hay.length) return false;
  for (let i = 0; i < needle.length; i++) if (hay[at + i] !== needle[i]) return false;
  return true;
}

function indexOfBytes(hay: Uint8Array, needle: Uint8Array, from: number): number {
  if (needle.length === 0) return from;
  for (let i = from; i + needle.length <= hay.length; i++) if (startsWithAt(hay, needle, i)) return i;
  return -1;
}

function extendLast(ranges: TokenRange[], coveredTo: number, textLength: number): void {
  if (coveredTo >= textLength) return;
  for (let i = ranges.length - 1; i >= 0; i--) {
    if (!ranges[i].special && ranges[i].end === coveredTo) {
      ranges[i].end = textLength;
      return;
    }
  }
}

// ---------- WordPiece ----------

interface NormChar {
  ch: string;
  /** Original UTF-16 range of the character this normalised character came from. */
  start: number;
  end: number;
}

function wordPieceRanges(text: string, ids: readonly number[], shape: TokenizerShape): TokenRange[] {
  const normalize = shape.normalize ?? ((s: string) => s);
  const prefix = shape.continuingPrefix ?? '##';
  const norm: NormChar[] = [];
  let u = 0;
  for (const ch of text) {
    for (const n of normalize(ch)) norm.push({ ch: n, start: u, end: u + ch.length });
    u += ch.length;
  }
  const ranges: TokenRange[] = [];
  let cursor = 0; // index into norm
  const origPos = () => (cursor < norm.length ? norm[cursor].start : text.length);
  for (const id of ids) {
    const specialContent = shape.special.get(id);
    if (specialContent !== undefined && id !== shape.unkId) {
      const before = cursor;
      skipSpaces();
      if (!matchAt(normalizeAll(specialContent))) {
        // Inserted by the post-processor (CLS, SEP): zero-width right after the previous token.
        cursor = before;
        const at = ranges.length ? ranges[ranges.length - 1].end : 0;
        ranges.push({ start: at, end: at, special: true });
        continue;
      }
      const start = norm[cursor].start;
      cursor += [...normalizeAll(specialContent)].length;
      ranges.push({ start, end: absorbDropped(norm[cursor - 1].end), special: true });
      continue;
    }
    let piece = shape.tokenString(id);
    if (id === shape.unkId) {
      skipSpaces();
      if (cursor >= norm.length) {
        ranges.push({ start: text.length, end: text.length, special: false });
        continue;
      }
      // [UNK] stands for one whole pre-token: a punctuation mark or a run of other non-space characters.
      const start = norm[cursor].start;
      if (isPunct(norm[cursor].ch)) cursor++;
      else while (cursor < norm.length && !/\s/u.test(norm[cursor].ch) && !isPunct(norm[cursor].ch)) cursor++;
      ranges.push({ start, end: absorbDropped(norm[cursor - 1].end), special: false });
      continue;
    }
    if (piece.startsWith(prefix) && piece.length > prefix.length) piece = piece.slice(prefix.length);
    else skipSpaces();
    const chars = [...piece];
    if (!matchAt(piece)) {
      const found = findFrom(chars);
      if (found < 0) {
        ranges.push({ start: origPos(), end: origPos(), special: false });
        continue;
      }
      cursor = found;
    }
    const start = norm[cursor].start;
    cursor += chars.length;
    ranges.push({ start, end: absorbDropped(norm[cursor - 1].end), special: false });
  }
  return ranges;

  function normalizeAll(s: string): string {
    return [...s].map((c) => normalize(c)).join('');
  }
  function skipSpaces(): void {
    while (cursor < norm.length && /\s/u.test(norm[cursor].ch)) cursor++;
  }
  function matchAt(piece: string): boolean {
    let i = cursor;
    for (const c of piece) {
      if (i >= norm.length || norm[i].ch !== c) return false;
      i++;
    }
    return true;
  }
  function findFrom(chars: string[]): number {
    for (let s = cursor; s + chars.length <= norm.length; s++) {
      let ok = true;
      for (let k = 0; k < chars.length && ok; k++) ok = norm[s + k].ch === chars[k];
      if (ok) return s;
    }
    return -1;
  }
  /** Extend an end offset over following characters that normalise to nothing and are not spaces. */
  function absorbDropped(end: number): number {
    const next = cursor < norm.length ? norm[cursor].start : text.length;
    let e = end;
    while (e < next) {
      const cp = text.codePointAt(e)!;
      const ch = String.fromCodePoint(cp);
      if (/\s/u.test(ch) || normalize(ch) !== '') break;
      e += ch.length;
    }
    return e;
  }
}

function isPunct(ch: string): boolean {
  const cp = ch.codePointAt(0)!;
  // BERT treats every non-letter/number ASCII symbol as punctuation, plus Unicode P* categories.
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) return true;
  return /\p{P}/u.test(ch);
}
