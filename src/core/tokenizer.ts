/** The tokenizer as methods and targets see it: ids with exact character ranges. */

export interface EncodedToken {
  id: number;
  start: number;
  end: number;
  special: boolean;
}

export interface PromptTokenizer {
  /** Tokens of a prompt, including the special tokens the model expects (BOS, CLS/SEP). */
  encodePrompt(text: string): EncodedToken[];
  /** Ids of a continuation appended after a prompt (no special tokens). */
  encodeContinuation(text: string): number[];
  decode(ids: readonly number[]): string;
  /** Readable text of one token, for lists and hovers. */
  tokenText(id: number): string;
  readonly vocabSize: number;
}
