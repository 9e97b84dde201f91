/**
 * Which key/value-cache inputs a decoder session takes and how to feed them empty. Two layouts occur in
 * real exports: Hugging Face / Optimum's `past_key_values.N.key|value` ([batch, heads, past, headDim]) and
 * onnxruntime-genai's older stacked `past_N` ([2, batch, heads, past, headDim]); genai_config.json may rename
 * either (its `past_key_names` / `past_names` templates).
 */
import type * as ort from 'onnxruntime-node';
import { floatElementOf, type FloatElement } from './tensorDecoding';

export interface PastInput {
  name: string;
  /** Output carrying this input's keys/values after a run. */
  present: string;
  heads: number;
  headDim: number;
  type: FloatElement;
  /** Stacked [2, batch, heads, past, headDim] (key and value in one tensor). */
  stacked: boolean;
}

export interface PastNameTemplates {
  /** e.g. "past_key_values.%d.key" → "present.%d.key". */
  pairs: { past: string; present: string }[];
}

const HF_TEMPLATES: PastNameTemplates = {
  pairs: [
    { past: 'past_key_values.%d.key', present: 'present.%d.key' },
    { past: 'past_key_values.%d.value', present: 'present.%d.value' },
    { past: 'past_%d', present: 'present_%d' },
  ],
};

function templateRegex(t: string): RegExp {
  return new RegExp(`^${t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace('%d', '(\\d+)')}$`);
}

/**
 * Past inputs of a session with their present outputs, matched by name template; the graph's own static head
 * sizes win over the config's.
 */
export function findPastInputs(
  session: Pick<ort.InferenceSession, 'inputNames' | 'outputNames' | 'inputMetadata'>,
  fallback: { heads: number; headDim: number },
  templates: PastNameTemplates = HF_TEMPLATES,
): PastInput[] {
  const meta = new Map((session.inputMetadata ?? []).map((m) => [m.name, m as { type?: string; shape?: (number | string)[] }]));
  const out: PastInput[] = [];
  for (const name of session.inputNames) {
    for (const pair of templates.pairs) {
      const m = templateRegex(pair.past).exec(name);
      if (!m) continue;
      const present = pair.present.replace('%d', m[1]);
      if (!session.outputNames.includes(present)) continue;
      const shape = meta.get(name)?.shape;
      const stacked = shape?.length === 5;
      const off = stacked ? 1 : 0;
      const heads = typeof shape?.[1 + off] === 'number' ? (shape[1 + off] as number) : fallback.heads;
      const headDim = typeof shape?.[3 + off] === 'number' ? (shape[3 + off] as number) : fallback.headDim;
      out.push({ name, present, heads, headDim, type: floatElementOf(meta.get(name)?.type), stacked });
      break;
    }
  }
  return out;
}

/** Dimensions of a past input for `batch` sequences with `past` cached positions. */
export function pastDims(p: PastInput, batch: number, past: number): number[] {
  return p.stacked ? [2, batch, p.heads, past, p.headDim] : [batch, p.heads, past, p.headDim];
}

/** Templates from genai_config.json's decoder inputs/outputs, with the Hugging Face ones as fallback. */
export function genaiPastTemplates(inputs: Record<string, string>, outputs: Record<string, string>): PastNameTemplates {
  const pairs: PastNameTemplates['pairs'] = [];
  if (inputs.past_key_names && outputs.present_key_names) pairs.push({ past: inputs.past_key_names, present: outputs.present_key_names });
  if (inputs.past_value_names && outputs.present_value_names) pairs.push({ past: inputs.past_value_names, present: outputs.present_value_names });
  if (inputs.past_names && outputs.present_names) pairs.push({ past: inputs.past_names, present: outputs.present_names });
  return { pairs: [...pairs, ...HF_TEMPLATES.pairs] };
}
