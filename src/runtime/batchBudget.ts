/**
 * How many padded tokens one forward run of a large decoder may take, so that its activations stay near an eighth of
 * the weight bytes. Per token a run computes every layer's keys and values (a run that returns them keeps them until
 * it ends; runs that read only logits rows no longer do, src/onnx/optionalPresents.ts, and are still counted so, on
 * the safe side) and, one layer at a time, the hidden states, the MLP's intermediate values and attention rows; onnxruntime's arena grows
 * in doubling steps, hence the factor 2. Measured per padded token in the first occlusion batch (8 × 127 tokens): about
 * 190 KB on the Llama-135M shape (estimate 184 KB) and 380 KB on the GPT-2 shape (estimate 295 KB). Smaller runs also
 * share longer prefixes: 4 items per run instead of 8 at 128 tokens cost the same or less CPU on both shapes.
 * Small models keep the request's cap (a run's fixed cost dominates them and their activations are small).
 */
const BUDGET_FROM_BYTES = 256 * 2 ** 20;
/** Attention rows are counted for a prompt of this length. */
const TYPICAL_PROMPT = 256;

export function batchTokenBudget(config: Record<string, unknown>, weightBytes: number): number | undefined {
  if (!(weightBytes >= BUDGET_FROM_BYTES)) return undefined;
  const num = (...keys: string[]): number | undefined => {
    for (const k of keys) if (typeof config[k] === 'number' && (config[k] as number) > 0) return config[k] as number;
    return undefined;
  };
  const layers = num('num_hidden_layers', 'n_layer', 'num_layers');
  const hidden = num('hidden_size', 'n_embd', 'd_model');
  const heads = num('num_attention_heads', 'n_head');
  if (!layers || !hidden || !heads) return undefined;
  const kvHeads = num('num_key_value_heads') ?? heads;
  const headDim = num('head_dim') ?? hidden / heads;
  const intermediate = num('intermediate_size', 'n_inner') ?? 4 * hidden;
  const floats = layers * 2 * kvHeads * headDim + 4 * hidden + 3 * intermediate + 2 * heads * TYPICAL_PROMPT;
  return Math.max(64, Math.floor(weightBytes / 8 / (2 * 4 * floats)));
}
