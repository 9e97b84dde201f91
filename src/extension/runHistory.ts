/**
 * The last runs of each document (newest first, at most `limit`), so that the panel can compare the current
 * result with an earlier one. Pure (no `vscode` import): the extension saves `toJSON()` in the workspace
 * state and reads it back with `fromJSON` after a reload.
 */
import { parseResult, type AttributionResult } from '../core/result';

export const DEFAULT_HISTORY_SIZE = 5;
export const MAX_HISTORY_SIZE = 50;
/** Documents whose runs are kept across reloads (the most recently explained ones). */
const MAX_SAVED_DOCUMENTS = 30;
/** Workspace state is not a database: runs beyond this many characters of JSON are not saved (newest kept). */
export const MAX_SAVED_CHARS = 4_000_000;

export interface SavedHistory {
  version: 1;
  /** [document URI, runs newest first], most recently used document first. */
  documents: [string, AttributionResult[]][];
}

export class RunHistory {
  /** Insertion order is recency: a document's entry is re-inserted on every new run. */
  private readonly byDoc = new Map<string, AttributionResult[]>();

  constructor(private limit = DEFAULT_HISTORY_SIZE) {}

  /** Adds a run (a result already present, e.g. restored by the panel, is not added twice). */
  add(uri: string, result: AttributionResult): void {
    const runs = (this.byDoc.get(uri) ?? []).filter((r) => r.createdAt !== result.createdAt);
    runs.unshift(result);
    this.byDoc.delete(uri);
    this.byDoc.set(uri, runs.slice(0, this.limit));
  }

  /** Runs of a document, newest first. */
  list(uri: string): readonly AttributionResult[] {
    return this.byDoc.get(uri) ?? [];
  }

  find(uri: string, createdAt: string): AttributionResult | undefined {
    return this.byDoc.get(uri)?.find((r) => r.createdAt === createdAt);
  }

  delete(uri: string): boolean {
    return this.byDoc.delete(uri);
  }

  /** A new cap applies at once: older runs beyond it are dropped. */
  setLimit(limit: number): void {
    this.limit = Math.max(1, Math.min(MAX_HISTORY_SIZE, Math.round(limit)));
    for (const [uri, runs] of this.byDoc) this.byDoc.set(uri, runs.slice(0, this.limit));
  }

  toJSON(maxChars = MAX_SAVED_CHARS): SavedHistory {
    // Attention probabilities are large and comparisons never read them: they are not saved.
    const lean = (r: AttributionResult): AttributionResult => ({ ...r, runs: r.runs.map(({ attention: _attention, ...run }) => run) });
    const documents: [string, AttributionResult[]][] = [];
    let chars = 0;
    for (const [uri, runs] of [...this.byDoc.entries()].reverse().slice(0, MAX_SAVED_DOCUMENTS)) {
      const kept: AttributionResult[] = [];
      for (const r of runs.map(lean)) {
        const size = JSON.stringify(r).length;
        if (chars + size > maxChars) break;
        chars += size;
        kept.push(r);
      }
      if (kept.length) documents.push([uri, kept]);
    }
    return { version: 1, documents };
  }

  /** Reads saved runs back; anything malformed (or from another result version) is skipped, not fatal. */
  static fromJSON(saved: unknown, limit = DEFAULT_HISTORY_SIZE): RunHistory {
    const h = new RunHistory(limit);
    h.setLimit(limit);
    const docs = (saved as SavedHistory | undefined)?.documents;
    if ((saved as SavedHistory | undefined)?.version !== 1 || !Array.isArray(docs)) return h;
    // Oldest document first, so that re-inserting keeps the saved recency order.
    for (const entry of [...docs].reverse()) {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !Array.isArray(entry[1])) continue;
      const runs: AttributionResult[] = [];
      for (const r of entry[1]) {
        try {
          runs.push(parseResult(r));
        } catch {
          /* a run saved by an incompatible version: dropped */
        }
      }
      if (runs.length) h.byDoc.set(entry[0], runs.slice(0, h.limit));
    }
    return h;
  }
}
