/**
 * A user message rendered with the tokenizer's own chat template (@huggingface/transformers'
 * apply_chat_template, i.e. @huggingface/jinja): the whole prompt, and where the user's text landed in it.
 * The text is located by rendering once with a marker in its place, so templates that strip or wrap the
 * content are handled, and the rendering with the real text must then match around it.
 */
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { EngineError } from '../core/engineProtocol';

export interface RenderedChat {
  rendered: string;
  userStart: number;
  userEnd: number;
  userOffset: number;
}

const MARKER = 'PROMPTSCOPEUSERTEXT7f3a';

export function hasChatTemplate(hf: PreTrainedTokenizer): boolean {
  return !!(hf as unknown as { chat_template?: unknown }).chat_template;
}

export function renderChat(hf: PreTrainedTokenizer, user: string, system?: string): RenderedChat {
  const render = (content: string): string => {
    const messages = [...(system ? [{ role: 'system', content: system }] : []), { role: 'user', content }];
    try {
      return hf.apply_chat_template(messages, { tokenize: false, add_generation_prompt: true }) as unknown as string;
    } catch (err) {
      const why = (err as Error).message.split('\n')[0];
      throw new EngineError('bad-target', `The model's chat template could not be applied (${why}).${system ? ' The template may not accept a system prompt: leave it empty.' : ''}`);
    }
  };
  const withMarker = render(MARKER);
  const at = withMarker.indexOf(MARKER);
  if (at < 0 || withMarker.indexOf(MARKER, at + 1) >= 0) {
    throw new EngineError('bad-target', 'The chat template does not place the user message once, verbatim, in the prompt; Promptscope cannot tell which tokens are yours. Explain the text as a plain prompt.');
  }
  const before = withMarker.slice(0, at);
  const after = withMarker.slice(at + MARKER.length);
  const rendered = render(user);
  if (!rendered.startsWith(before) || !rendered.endsWith(after) || rendered.length < before.length + after.length) {
    throw new EngineError('bad-target', 'The chat template changes the user message in a way Promptscope cannot map back to your text. Explain the text as a plain prompt.');
  }
  const placed = rendered.slice(before.length, rendered.length - after.length);
  // Templates may trim the message (Llama 2's content.strip()); the rest must be the user's text itself.
  const userOffset = user.indexOf(placed);
  if (placed.length > 0 && userOffset < 0) {
    throw new EngineError('bad-target', 'The chat template rewrites the user message; Promptscope cannot map its tokens back to your text. Explain the text as a plain prompt.');
  }
  return { rendered, userStart: before.length, userEnd: before.length + placed.length, userOffset: Math.max(0, userOffset) };
}
