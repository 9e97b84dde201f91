/**
 * A forward-only model fed with token embeddings instead of ids: the original graph cut at the embedding
 * lookup, with the KV cache inputs replaced by empty tensors. Soft masking (Soft-NC / Soft-NS) scales
 * embeddings element-wise, which only this input can express. For causal LMs the head runs only at the
 * requested rows (logit_rows), as in the forward scoring model.
 */
import { Graph } from './graph';
import { encodeModel, type ModelProto } from './onnxProto';
import { convertHalfToFloat } from './fp16ToFp32';
import { cutAtEmbeddings, INPUTS_EMBEDS } from './embeddingCut';
import { removePastInputs } from './pastRemoval';
import { foldQuantizedConstants } from './quantized';
import { upgradeOpset } from './opsetUpgrade';
import { unfuseContribOps } from './contribUnfuse';
import { selectLogitRows, LOGIT_ROWS_INPUT, ROW_LOGITS_OUTPUT } from './logitRows';

export interface EmbedsForwardModel {
  bytes: Uint8Array;
  /** Graph inputs with element types (inputs_embeds, logit_rows for LMs, masks / positions as needed). */
  inputs: { name: string; elemType: number }[];
  /** Output with logits: [batch, rows, vocab] (LM, rows = logit_rows) or [batch, classes]. */
  output: string;
  rows: boolean;
}

export function buildEmbedsForwardModel(model: ModelProto, opts: { causal: boolean; inputIds?: string; logits?: string }): EmbedsForwardModel {
  const g = Graph.fromModelProto(model);
  const inputIds = opts.inputIds ?? 'input_ids';
  const idsInfo = g.inputs.find((i) => i.name === inputIds);
  if (!idsInfo) throw new Error(`The model has no "${inputIds}" input.`);
  const batchSymbols = new Set<string>();
  if (typeof idsInfo.dims?.[0] === 'string') batchSymbols.add(idsInfo.dims[0]);
  const logits = opts.logits ?? (g.outputs.find((o) => o.name === 'logits') ?? g.outputs[0]).name;
  foldQuantizedConstants(g);
  convertHalfToFloat(g);
  // Fused exports hide the lookup inside EmbedLayerNormalization: un-fuse as the gradient graph does.
  upgradeOpset(g);
  unfuseContribOps(g);
  cutAtEmbeddings(g, inputIds);
  removePastInputs(g, INPUTS_EMBEDS, batchSymbols);
  g.outputs = g.outputs.filter((o) => o.name === logits);
  g.topoSortAndPrune();
  const used = new Set(g.nodes.flatMap((n) => n.inputs));
  g.inputs = g.inputs.filter((i) => i.name === INPUTS_EMBEDS || used.has(i.name));
  let proto = g.toModelProto();
  proto.ir_version = model.ir_version ?? proto.ir_version;
  let output = logits;
  let rows = false;
  if (opts.causal) {
    const selected = selectLogitRows(proto, logits);
    if (selected) {
      proto = selected;
      output = ROW_LOGITS_OUTPUT;
      rows = true;
    }
  }
  const final = Graph.fromModelProto(proto);
  return { bytes: encodeModel(proto), inputs: final.inputs.map((i) => ({ name: i.name, elemType: i.elemType })), output, rows };
}

export { LOGIT_ROWS_INPUT };
