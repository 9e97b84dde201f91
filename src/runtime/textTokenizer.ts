/**
 * The prompt tokenizer: @huggingface/transformers' tokenizer for ids, plus character offsets derived in
 * src/core/tokenOffsets.ts from the token strings.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { EngineError } from '../core/engineProtocol';
import type { ChatPrompt, EncodedToken, PromptTokenizer } from '../core/tokenizer';
import { hasChatTemplate, renderChat } from './chatTemplate';
import { tokenRanges, type TokenizerFamily, type TokenizerShape } from '../core/tokenOffsets';
import { isPlainTokenizer, PlainTokenizer, type TokenizerConfig } from './plainTokenizer';

/** What TextTokenizer asks of transformers' PreTrainedTokenizer, which PlainTokenizer provides as well. */
type TokenizerHandle = Pick<PreTrainedTokenizer, 'get_vocab'> & { decode(ids: number[], options: { skip_special_tokens?: boolean }): string };

interface InnerTokenizer {
  encode(text: string, options?: { add_special_tokens?: boolean }): { ids: number[] };
  id_to_token(id: number): string | undefined;
  normalizer: { normalize(s: string): string } | null;
  get_added_tokens_decoder(): Map<number, { content: string; special: boolean }>;
}

interface TokenizerJson {
  model?: { type?: string; continuing_subword_prefix?: string; byte_fallback?: boolean };
  pre_tokenizer?: { type?: string; pretokenizers?: { type?: string }[] } | null;
  decoder?: { type?: string; decoders?: { type?: string }[] } | null;
}

export class TextTokenizer implements PromptTokenizer {
  private constructor(
    private readonly hf: TokenizerHandle,
    private readonly inner: InnerTokenizer,
    private readonly shape: TokenizerShape,
    readonly vocabSize: number,
  ) {}

  static async load(dir: string): Promise<TextTokenizer> {
    let json: TokenizerJson;
    try {
      json = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')) as TokenizerJson;
    } catch (err) {
      throw new EngineError('model-load', `tokenizer.json in ${dir} cannot be read (${(err as Error).message}). Restore it from the model's source.`);
    }
    let config: TokenizerConfig;
    try {
      config = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8')) as TokenizerConfig;
    } catch (err) {
      throw new EngineError('model-load', `tokenizer_config.json in ${dir} cannot be read (${(err as Error).message}). Restore it from the model's source.`);
    }
    let hf: TokenizerHandle;
    try {
      // transformers loads only for the tokenizers that need it (chat templates, classes of their own).
      hf = isPlainTokenizer(config) ? new PlainTokenizer(json, config) : new (tokenizerClass(await import('@huggingface/transformers'), config.tokenizer_class))(json, config);
    } catch (err) {
      throw new EngineError('model-load', `The tokenizer in ${dir} could not be loaded: ${(err as Error).message}`);
    }
    const inner = (hf as unknown as { _tokenizer: InnerTokenizer })._tokenizer;
    const special = new Map<number, string>();
    // Only special added tokens are zero-width markers; others (Gemma's runs of spaces, say) are text.
    for (const [id, tok] of inner.get_added_tokens_decoder()) if (tok.special) special.set(id, tok.content);
    const shape: TokenizerShape = {
      family: familyOf(json),
      tokenString: (id) => inner.id_to_token(id) ?? '',
      special,
      unkId: (hf as unknown as { unk_token_id?: number }).unk_token_id ?? undefined,
      continuingPrefix: json.model?.continuing_subword_prefix ?? '##',
      normalize: inner.normalizer ? (s) => inner.normalizer!.normalize(s) : undefined,
      unicodeForm: unicodeFormOf(json),
    };
    const vocabSize = hf.get_vocab().size;
    return new TextTokenizer(hf, inner, shape, vocabSize);
  }

  get specialIds(): { pad?: number; unk?: number; mask?: number; bos?: number; eos?: number; cls?: number; sep?: number } {
    const t = this.hf as unknown as Record<string, number | null | undefined>;
    const pick = (k: string) => (typeof t[k] === 'number' ? (t[k] as number) : undefined);
    return {
      pad: pick('pad_token_id'),
      unk: pick('unk_token_id'),
      mask: pick('mask_token_id'),
      bos: pick('bos_token_id'),
      eos: pick('eos_token_id'),
      cls: pick('cls_token_id') ?? this.idOf('[CLS]'),
      sep: pick('sep_token_id') ?? this.idOf('[SEP]'),
    };
  }

  private idOf(token: string): number | undefined {
    return this.hf.get_vocab().get(token);
  }

  encodePrompt(text: string): EncodedToken[] {
    const ids = this.inner.encode(text, { add_special_tokens: true }).ids;
    const ranges = tokenRanges(text, ids, this.shape);
    return ids.map((id, i) => ({ id, ...ranges[i] }));
  }

  /** The user text as rendered by the model's chat template; undefined when there is no template. */
  chatPrompt(user: string, system?: string): ChatPrompt | undefined {
    if (!hasChatTemplate(this.hf as PreTrainedTokenizer)) return undefined;
    const chat = renderChat(this.hf as PreTrainedTokenizer, user, system);
    // The template writes the special tokens (BOS, role markers) itself: add none.
    const ids = this.inner.encode(chat.rendered, { add_special_tokens: false }).ids;
    const ranges = tokenRanges(chat.rendered, ids, this.shape);
    return { ...chat, tokens: ids.map((id, i) => ({ id, ...ranges[i] })) };
  }

  get hasChatTemplate(): boolean {
    return hasChatTemplate(this.hf as PreTrainedTokenizer);
  }

  encodeContinuation(text: string): number[] {
    return this.inner.encode(text, { add_special_tokens: false }).ids;
  }

  decode(ids: readonly number[]): string {
    return this.hf.decode([...ids], { skip_special_tokens: false });
  }

  tokenText(id: number): string {
    if (this.shape.special.has(id)) return this.shape.special.get(id)!;
    return this.decode([id]);
  }
}

/**
 * The tokenizer class tokenizer_config.json names, picked as AutoTokenizer.from_pretrained picks it. Built from the
 * JSON already read: from_pretrained would read and parse tokenizer.json again through its fetch-like file layer
 * (tiny LM 33 -> 12 ms of CPU, a 3.5 MB Llama tokenizer.json 178 -> 88 ms).
 */
function tokenizerClass(transformers: typeof import('@huggingface/transformers'), name: string | undefined): new (json: unknown, config: unknown) => PreTrainedTokenizer {
  const { PreTrainedTokenizer } = transformers;
  const cls = (transformers as unknown as Record<string, unknown>)[name?.replace(/Fast$/, '') ?? 'PreTrainedTokenizer'];
  const isTokenizer = typeof cls === 'function' && (cls === PreTrainedTokenizer || cls.prototype instanceof PreTrainedTokenizer);
  return (isTokenizer ? cls : PreTrainedTokenizer) as new (json: unknown, config: unknown) => PreTrainedTokenizer;
}

/** The Unicode normal form a byte-level or SentencePiece tokenizer applies first, if that is all it does. */
function unicodeFormOf(json: TokenizerJson): TokenizerShape['unicodeForm'] {
  const n = (json as { normalizer?: { type?: string } | null }).normalizer;
  if (json.model?.type === 'WordPiece' || !n) return undefined;
  return n.type === 'NFC' || n.type === 'NFKC' || n.type === 'NFD' || n.type === 'NFKD' ? n.type : undefined;
}

function familyOf(json: TokenizerJson): TokenizerFamily {
  if (json.model?.type === 'WordPiece') return 'wordpiece';
  const types = [json.pre_tokenizer?.type, ...(json.pre_tokenizer?.pretokenizers ?? []).map((p) => p.type), json.decoder?.type, ...(json.decoder?.decoders ?? []).map((d) => d.type)];
  if (types.includes('ByteLevel')) return 'byte-level';
  return 'metaspace';
}
