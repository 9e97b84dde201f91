/**
 * Cuts the graph at the token-embedding lookup: the Gather(word_embeddings, input_ids) output becomes a new
 * graph input `inputs_embeds`, so gradients can be taken w.r.t. it. The matrix itself stays a constant
 * (tied output embeddings keep using it).
 */
import { Graph, Node } from './graph';
import { DataType, dimsOf, tensorToFloat32 } from './tensorData';

export interface EmbeddingCut {
  /**
   * Row-major [vocab, hidden], read on first use: the embedding-input graph never needs it, and reading it left
   * two copies of the table (150 MB on the Llama-135M shape, 300 MB on GPT-2's) to the garbage collector.
   */
  readonly matrix: Float32Array;
  vocabSize: number;
  hiddenSize: number;
  inputsEmbeds: string;
  /** Name of the [vocab, hidden] initializer the rows came from. */
  matrixName: string;
}

export const INPUTS_EMBEDS = 'inputs_embeds';

/** Follows input_ids through Cast/Identity to the Gather that reads rows of a constant 2-D matrix. */
export function findEmbeddingGather(g: Graph, inputIds = 'input_ids'): { node: Node; matrixName: string } {
  const consumers = g.consumers();
  const frontier = [inputIds];
  const seen = new Set<string>();
  while (frontier.length) {
    const v = frontier.shift()!;
    if (seen.has(v)) continue;
    seen.add(v);
    for (const n of consumers.get(v) ?? []) {
      if (n.opType === 'Cast' || n.opType === 'Identity') frontier.push(n.outputs[0]);
      if (n.opType === 'Gather' && n.inputs[1] === v && (n.attrs.axis?.value ?? 0) === 0) {
        const m = g.constantValue(n.inputs[0]);
        if (m && dimsOf(m).length === 2) return { node: n, matrixName: n.inputs[0] };
      }
    }
  }
  throw new Error(
    `Could not find the token-embedding lookup (a Gather of a constant [vocab, hidden] matrix by ${inputIds}); ` +
      'gradient methods need it. Use a perturbation method (occlusion) instead.',
  );
}

export function cutAtEmbeddings(g: Graph, inputIds = 'input_ids'): EmbeddingCut {
  const { node, matrixName } = findEmbeddingGather(g, inputIds);
  const t = g.constantValue(matrixName)!;
  const [vocabSize, hiddenSize] = dimsOf(t);
  let matrix: Float32Array | undefined;
  const out = node.outputs[0];
  g.nodes = g.nodes.filter((n) => n !== node);
  g.replaceUses(out, INPUTS_EMBEDS);
  // Reuse the ids' symbolic dims so shape inference can tell that inputs_embeds and, say, the position
  // embeddings have equal shapes (then un-broadcasting in the backward pass is decided statically).
  const ids = g.inputs.find((i) => i.name === inputIds)?.dims;
  const sym = (d: number | string | undefined, fallback: string): number | string => (typeof d === 'string' || typeof d === 'number' ? d : fallback);
  g.inputs.push({ name: INPUTS_EMBEDS, elemType: DataType.FLOAT, dims: [sym(ids?.[0], 'batch'), sym(ids?.[1], 'sequence'), hiddenSize] });
  g.invalidate();
  return { get matrix() { return (matrix ??= tensorToFloat32(t)); }, vocabSize, hiddenSize, inputsEmbeds: INPUTS_EMBEDS, matrixName };
}
