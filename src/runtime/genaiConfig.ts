/**
 * onnxruntime-genai model folders (what VS Code's AI Toolkit and Foundry Local download) carry
 * genai_config.json instead of Hugging Face's config.json. This reads one into the config.json fields the
 * rest of the runtime uses, plus the decoder's file and input/output names.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EngineError } from '../core/engineProtocol';
import { genaiPastTemplates, type PastNameTemplates } from './decoderSignature';

export const GENAI_CONFIG = 'genai_config.json';

export interface GenaiModel {
  /** config.json-shaped fields (model_type, vocab_size, max_position_embeddings, head sizes, special ids). */
  config: Record<string, unknown>;
  /** Decoder ONNX file, absolute. */
  onnxPath: string;
  pastTemplates: PastNameTemplates;
}

interface GenaiJson {
  model?: {
    type?: string;
    bos_token_id?: number;
    eos_token_id?: number | number[];
    pad_token_id?: number;
    vocab_size?: number;
    context_length?: number;
    decoder?: {
      filename?: string;
      head_size?: number;
      hidden_size?: number;
      num_attention_heads?: number;
      num_key_value_heads?: number;
      num_hidden_layers?: number;
      inputs?: Record<string, string>;
      outputs?: Record<string, string>;
    };
  };
}

/** The input names Promptscope feeds; a genai folder that renames them is refused with the names it uses. */
const STANDARD_INPUTS: Record<string, string> = { input_ids: 'input_ids', attention_mask: 'attention_mask', position_ids: 'position_ids' };

export function readGenaiConfig(dir: string): GenaiModel {
  const file = path.join(dir, GENAI_CONFIG);
  let json: GenaiJson;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8')) as GenaiJson;
  } catch (err) {
    throw new EngineError('model-load', `${GENAI_CONFIG} in ${dir} is not valid JSON (${(err as Error).message}). Restore the file from the model's source.`);
  }
  const m = json.model;
  const dec = m?.decoder;
  if (!m || !dec || !m.type) {
    throw new EngineError('model-load', `${GENAI_CONFIG} in ${dir} has no model.type or model.decoder section. Restore the file from the model's source.`);
  }
  const inputs = dec.inputs ?? {};
  const outputs = dec.outputs ?? {};
  for (const [role, std] of Object.entries(STANDARD_INPUTS)) {
    if (inputs[role] && inputs[role] !== std) {
      throw new EngineError('unsupported-model', `${GENAI_CONFIG} in ${dir} names the ${role} input "${inputs[role]}"; Promptscope feeds "${std}". Export the model with the standard input names.`);
    }
  }
  if (outputs.logits && outputs.logits !== 'logits') {
    throw new EngineError('unsupported-model', `${GENAI_CONFIG} in ${dir} names the logits output "${outputs.logits}"; Promptscope reads "logits". Export the model with the standard output names.`);
  }
  const filename = dec.filename ?? 'model.onnx';
  const onnxPath = path.resolve(dir, filename);
  if (!fs.existsSync(onnxPath)) {
    throw new EngineError('model-load', `${GENAI_CONFIG} in ${dir} names the decoder ${filename}, which is missing. Download the model folder again.`);
  }
  const eos = Array.isArray(m.eos_token_id) ? m.eos_token_id[0] : m.eos_token_id;
  const heads = dec.num_attention_heads;
  const config: Record<string, unknown> = {
    model_type: m.type,
    architectures: [`${m.type}ForCausalLM`],
    vocab_size: m.vocab_size,
    max_position_embeddings: m.context_length,
    num_attention_heads: heads,
    num_key_value_heads: dec.num_key_value_heads ?? heads,
    num_hidden_layers: dec.num_hidden_layers,
    head_dim: dec.head_size,
    hidden_size: dec.hidden_size ?? (dec.head_size && heads ? dec.head_size * heads : undefined),
    bos_token_id: m.bos_token_id,
    eos_token_id: eos,
    pad_token_id: m.pad_token_id,
  };
  for (const k of Object.keys(config)) if (config[k] === undefined) delete config[k];
  return { config, onnxPath, pastTemplates: genaiPastTemplates(inputs, outputs) };
}
