/**
 * Keys and values of shared prompt prefixes, kept across runs. Occlusion runs batch items that perturb
 * nearby tokens, and every item of a batch shares the prompt up to its first perturbed token: that prefix is
 * computed once per batch (OnnxRunner) and kept here, and so are the unperturbed prompt's own, of which each such
 * prefix is a slice (read from the longer entry, not kept twice). When only the end of a prompt changed since the last
 * run, the batches before the edit ask for exactly the same prefixes again and get them from here. An entry is
 * the output of the very computation a miss would run (same ids, same call), so a hit changes no number.
 * Least recently used entries go first once the byte cap (PROMPTSCOPE_PREFIX_CACHE_MB, default 64; 0: off)
 * is reached.
 */
export type KvValues = Map<string, Float32Array | Uint16Array>;

export class PrefixKvCache {
  private readonly entries = new Map<string, { values: KvValues; bytes: number }>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  constructor(readonly maxBytes = defaultCacheBytes()) {}

  get(ids: readonly number[]): KvValues | undefined {
    const key = ids.join(',');
    const e = this.entries.get(key);
    if (!e) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    // Most recently used last.
    this.entries.delete(key);
    this.entries.set(key, e);
    return e.values;
  }

  /**
   * The most recently used entry for a longer sequence that starts with `ids` (its keys and values hold those of
   * `ids` as their first positions), and its length. Asked after get() missed: a find turns that miss into a hit.
   */
  extending(ids: readonly number[]): { values: KvValues; length: number } | undefined {
    const head = `${ids.join(',')},`;
    const found = [...this.entries].reverse().find(([k]) => k.startsWith(head));
    if (!found) return undefined;
    this.misses--;
    this.hits++;
    this.entries.delete(found[0]);
    this.entries.set(found[0], found[1]);
    return { values: found[1].values, length: found[0].split(',').length };
  }

  set(ids: readonly number[], values: KvValues): void {
    const bytes = [...values.values()].reduce((s, a) => s + a.byteLength, 0);
    if (bytes > this.maxBytes) return;
    const key = ids.join(',');
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.bytes -= old.bytes;
    }
    this.entries.set(key, { values, bytes });
    this.bytes += bytes;
    for (const [k, e] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(k);
      this.bytes -= e.bytes;
    }
  }

  get size(): number {
    return this.entries.size;
  }
}

function defaultCacheBytes(): number {
  const mb = Number(process.env.PROMPTSCOPE_PREFIX_CACHE_MB ?? 64);
  return Number.isFinite(mb) && mb >= 0 ? mb * 1024 * 1024 : 64 * 1024 * 1024;
}
