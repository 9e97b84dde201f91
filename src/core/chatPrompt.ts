/**
 * The prompt tokens of a chat explanation: the template's rendering of the user's text, with every token
 * that covers user characters mapped back to offsets in that text and every other token marked as template.
 */
import { EngineError } from './engineProtocol';
import type { EncodedToken, PromptTokenizer } from './tokenizer';

export interface ChatToken extends EncodedToken {
  template: boolean;
  /** Template tokens: their text in the rendered prompt. */
  templateText?: string;
}

export function encodeChatPrompt(text: string, system: string | undefined, tokenizer: PromptTokenizer, modelId: string): ChatToken[] {
  const chat = tokenizer.chatPrompt?.(text, system);
  if (!chat) {
    throw new EngineError(
      'bad-target',
      `${modelId} has no chat template (tokenizer_config.json has no chat_template). Explain the text as a plain prompt, or use an instruction model.`,
    );
  }
  const { rendered, userStart, userEnd, userOffset } = chat;
  return chat.tokens.map((t) => {
    const start = Math.max(t.start, userStart);
    const end = Math.min(t.end, userEnd);
    // A token that covers user characters is the user's, even when it also holds a template space before them.
    if (!t.special && end > start) {
      return { id: t.id, start: start - userStart + userOffset, end: end - userStart + userOffset, special: false, template: false };
    }
    return { id: t.id, start: 0, end: 0, special: true, template: true, templateText: rendered.slice(t.start, t.end) };
  });
}
