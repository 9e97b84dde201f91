/**
 * A tokenizer without @huggingface/transformers: @huggingface/tokenizers' Tokenizer (the very code, and version,
 * that transformers bundles inside its PreTrainedTokenizer) with the special-token ids read from
 * tokenizer_config.json as PreTrainedTokenizer reads them. Loading transformers costs a process ~70 ms of CPU
 * and 110-150 ms of wall time (it loads sharp and libvips as well), a large part of starting an explain or a
 * batch worker. Only for tokenizer classes that add nothing to PreTrainedTokenizer and configs without a chat
 * template (rendering one needs transformers' apply_chat_template).
 */
import { Tokenizer } from '@huggingface/tokenizers';

/** transformers 4.3's tokenizer classes that override nothing of PreTrainedTokenizer but fields unused here. */
const PLAIN_CLASSES = new Set([
  'PreTrainedTokenizer', 'AlbertTokenizer', 'BartTokenizer', 'BertTokenizer', 'BloomTokenizer', 'CamembertTokenizer', 'CodeGenTokenizer',
  'CodeLlamaTokenizer', 'CohereTokenizer', 'ConvBertTokenizer', 'DebertaTokenizer', 'DebertaV2Tokenizer', 'DistilBertTokenizer',
  'ElectraTokenizer', 'FalconTokenizer', 'GPT2Tokenizer', 'GPTNeoXTokenizer', 'GemmaTokenizer', 'LlamaTokenizer', 'MobileBertTokenizer',
  'MPNetTokenizer', 'Qwen2Tokenizer', 'RobertaTokenizer', 'RoFormerTokenizer', 'SqueezeBertTokenizer', 'XLMRobertaTokenizer',
]);

export interface TokenizerConfig {
  tokenizer_class?: string;
  chat_template?: unknown;
  [key: string]: unknown;
}

/** Whether a tokenizer with this config is served by PlainTokenizer exactly as by transformers. */
export function isPlainTokenizer(config: TokenizerConfig): boolean {
  return !config.chat_template && PLAIN_CLASSES.has(config.tokenizer_class?.replace(/Fast$/, '') ?? 'PreTrainedTokenizer');
}

export class PlainTokenizer {
  readonly _tokenizer: Tokenizer;
  readonly chat_template = null;
  readonly pad_token_id?: number;
  readonly unk_token_id?: number;
  readonly mask_token_id?: number;
  readonly bos_token_id?: number;
  readonly eos_token_id?: number;
  readonly sep_token_id?: number;

  constructor(json: object, config: TokenizerConfig) {
    this._tokenizer = new Tokenizer(json, config);
    const id = (...keys: string[]): number | undefined => {
      const token = tokenFromConfig(config, keys);
      return token === null ? undefined : this._tokenizer.token_to_id(token);
    };
    this.mask_token_id = id('mask_token');
    this.pad_token_id = id('pad_token', 'eos_token');
    this.sep_token_id = id('sep_token');
    this.unk_token_id = id('unk_token');
    this.bos_token_id = id('bos_token');
    this.eos_token_id = id('eos_token');
  }

  get_vocab(): Map<string, number> {
    return this._tokenizer.get_vocab();
  }

  decode(ids: number[], options: { skip_special_tokens?: boolean } = {}): string {
    if (ids.length === 0 || !Number.isInteger(ids[0])) throw new Error('token_ids must be a non-empty array of integers.');
    return this._tokenizer.decode(ids, { skip_special_tokens: options.skip_special_tokens ?? false, clean_up_tokenization_spaces: null });
  }
}

/** A special token of tokenizer_config.json: a string, or an AddedToken object; the first key set wins. */
function tokenFromConfig(config: TokenizerConfig, keys: string[]): string | null {
  for (const key of keys) {
    if (!Object.hasOwn(config, key)) continue;
    const item = config[key];
    if (!item) continue;
    if (typeof item === 'object') {
      if ((item as { __type?: string }).__type === 'AddedToken') return (item as { content: string }).content;
      throw new Error(`Unknown token: ${String(item)}`);
    }
    return item as string;
  }
  return null;
}
