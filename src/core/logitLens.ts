/**
 * Logit lens: the model's final norm and LM head applied to the residual stream after every block, read at the
 * position that predicts each target row — where in depth the answer appears.
 */
export const LOGIT_LENS_VERSION = 1;

/** One position read through the lens: per layer (0 = embeddings … layers = the model's output). */
export interface LensReading {
  /** Per layer: the k most likely tokens and the log-probabilities of the asked token ids. */
  layers: { top: { tokenId: number; logProb: number }[]; logProbs: number[] }[];
}

export interface LogitLensBackend {
  readonly layers: number;
  /** Reads `position` of `inputIds` after every block; `tokenIds` are the tokens whose probability is reported. */
  read(inputIds: number[], position: number, tokenIds: number[], k: number, signal?: AbortSignal): Promise<LensReading>;
}

export interface LogitLensRow {
  /** Target row (as in target.rows) and the sequence position whose prediction is read. */
  row: number;
  position: number;
  layers: {
    layer: number;
    /** The target token's probability after this many blocks (contrastive rows: also the foil's). */
    probability: number;
    foilProbability?: number;
    top: { text: string; tokenId: number; probability: number }[];
  }[];
}

export interface LogitLensReport {
  version: typeof LOGIT_LENS_VERSION;
  /** Blocks of the model; layer 0 is the embeddings, layer `layers` the model's own output. */
  layers: number;
  rows: LogitLensRow[];
}
