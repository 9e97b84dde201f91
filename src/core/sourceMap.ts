/**
 * Where the characters of a prompt sit in its document when the prompt is not a verbatim slice of it (a
 * string literal with escapes: `\n` is one character of the prompt and two of the source). Offsets are
 * relative to the start of the source span, one per prompt character plus one for the end, non-decreasing.
 */
export interface SourceMap {
  /** The document text the prompt was decoded from. */
  source: string;
  /** offsets[i]: source offset of prompt character i; offsets[text.length] = source.length. */
  offsets: number[];
}

/** The map of prompt characters [from, to), relative to the source of character `from`. */
export function sliceSourceMap(map: SourceMap, from: number, to: number): SourceMap {
  const base = map.offsets[from];
  return { source: map.source.slice(base, map.offsets[to]), offsets: map.offsets.slice(from, to + 1).map((o) => o - base) };
}

/** The source span [start, end) that prompt characters [from, to) came from. */
export function sourceSpan(map: SourceMap, from: number, to: number): [number, number] {
  return [map.offsets[from], map.offsets[to]];
}

/** A map of a literal's content (absolute offsets from stringLiteralAt) made relative to its start. */
export function literalSourceMap(documentText: string, offsets: readonly number[]): SourceMap {
  const start = offsets[0];
  return { source: documentText.slice(start, offsets[offsets.length - 1]), offsets: offsets.map((o) => o - start) };
}
