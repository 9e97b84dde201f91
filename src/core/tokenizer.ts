/** The tokenizer as methods and targets see it: ids with exact character ranges. */

export interface EncodedToken {
  id: number;
  start: number;
  end: number;
  special: boolean;
}

/** A chat message rendered by the model's own template: the prompt text and where the user's text sits in it. */
export interface ChatPrompt {
  /** The whole rendered prompt (role markers, special tokens, system prompt, user text, generation prompt). */
  rendered: string;
  /** [userStart, userEnd) in `rendered`: the user's text as the template placed it. */
  userStart: number;
  userEnd: number;
  /** Offset in the user's own text of rendered[userStart] (templates may strip leading spaces). */
  userOffset: number;
  /** Tokens of `rendered` (no special tokens added beyond what the template wrote), offsets in `rendered`. */
  tokens: EncodedToken[];
}

export interface PromptTokenizer {
  /** The user text as a chat message, when the tokenizer has a chat template (else undefined). */
  chatPrompt?(user: string, system?: string): ChatPrompt | undefined;
  /** Tokens of a prompt, including the special tokens the model expects (BOS, CLS/SEP). */
  encodePrompt(text: string): EncodedToken[];
  /** Ids of a continuation appended after a prompt (no special tokens). */
  encodeContinuation(text: string): number[];
  decode(ids: readonly number[]): string;
  /** Readable text of one token, for lists and hovers. */
  tokenText(id: number): string;
  readonly vocabSize: number;
}
