/**
 * Whitespace at the end of a selection (the newline after Select All) becomes tokens nobody sees, and a
 * model's next-token prediction leans on them heavily. By default the prompt leaves it out.
 */

/** The text without its trailing whitespace, and what was left out. */
export function splitTrailingWhitespace(text: string): { kept: string; leftOut: string } {
  const m = /\s+$/u.exec(text);
  if (!m || m.index === 0) return { kept: text, leftOut: '' };
  return { kept: text.slice(0, m.index), leftOut: m[0] };
}

/**
 * Whether text looks like binary data rather than a prompt: a NUL, or more than 1 % (at least 4) of its
 * characters being control characters other than tab / newline / form feed, or U+FFFD, which a decoder puts
 * where bytes were not valid text.
 */
export function looksBinary(text: string): boolean {
  if (text.includes('\u0000')) return true;
  let odd = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 32 && c !== 9 && c !== 10 && c !== 12 && c !== 13) || c === 0x7f || c === 0xfffd) odd++;
  }
  return odd >= 4 && odd > text.length / 100;
}
