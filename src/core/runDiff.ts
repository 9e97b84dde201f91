/**
 * Comparing two runs: how the prediction moved and how each token's score changed, with the tokens of the two
 * prompts aligned through a text diff (kept, inserted, deleted, and moved: a deleted run of tokens that comes
 * back elsewhere with the same text).
 */
import type { AttributionResult, MethodRun } from './result';

/** Kept tokens have the same text in both prompts, up to surrounding whitespace. */
export type AlignmentKind = 'kept' | 'inserted' | 'deleted' | 'moved';

export interface AlignedToken {
  kind: AlignmentKind;
  /** Token index in the first / second result (absent for inserted / deleted tokens). */
  a?: number;
  b?: number;
  text: string;
}

/** The shortest edit script between two token text sequences (Myers), as kept / inserted / deleted tokens. */
export function alignTokens(a: readonly string[], b: readonly string[]): AlignedToken[] {
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const out: AlignedToken[] = [];
  for (let i = 0; i < pre; i++) out.push({ kind: 'kept', a: i, b: i, text: a[i] });
  out.push(...myers(a.slice(pre, a.length - suf), b.slice(pre, b.length - suf), pre));
  for (let k = suf; k > 0; k--) out.push({ kind: 'kept', a: a.length - k, b: b.length - k, text: a[a.length - k] });
  return markMoves(out);
}

function myers(a: readonly string[], b: readonly string[], offset: number): AlignedToken[] {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const v = new Int32Array(2 * max + 2);
  const trace: Int32Array[] = [];
  let found = n === 0 && m === 0;
  for (let d = 0; d <= max && !found; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[max + k - 1] < v[max + k + 1]) ? v[max + k + 1] : v[max + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[max + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
  }
  // Walk the trace back from (n, m), collecting the script in reverse.
  const rev: AlignedToken[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const vd = trace[d];
    const k = x - y;
    const prevK = k === -d || (k !== d && vd[max + k - 1] < vd[max + k + 1]) ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : vd[max + prevK];
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      x--;
      y--;
      rev.push({ kind: 'kept', a: offset + x, b: offset + y, text: a[x] });
    }
    if (d === 0) break;
    if (x === prevX) rev.push({ kind: 'inserted', b: offset + prevY, text: b[prevY] });
    else rev.push({ kind: 'deleted', a: offset + prevX, text: a[prevX] });
    x = prevX;
    y = prevY;
  }
  return rev.reverse();
}

/** Above this many deleted × inserted tokens, moves are not looked for (the search is quadratic). */
const MOVE_SEARCH_LIMIT = 4_000_000;

/**
 * Deleted tokens whose text comes back as inserted tokens elsewhere become moved tokens. Repeatedly pairs the
 * longest run of deleted tokens (in the first prompt's order) that equals a run of inserted tokens (in the
 * second's), compared without surrounding whitespace and ignoring whitespace-only tokens, while the run holds
 * at least 3 visible characters — a lone comma moved is noise. A moved token takes the inserted token's place
 * in the second prompt's order and keeps its index in the first. A pair inside one stretch of edits (no kept
 * token between them) is the same token with other whitespace around it: kept.
 */
function markMoves(script: AlignedToken[]): AlignedToken[] {
  const result = script.map((t) => ({ ...t }));
  // Edit stretches between kept tokens: a pair found inside one stretch is the same token respaced, not a move.
  const stretch = new Map<AlignedToken, number>();
  let k = 0;
  for (const t of result) stretch.set(t, t.kind === 'kept' ? ++k : k);
  let deleted = result.filter((t) => t.kind === 'deleted' && t.text.trim() !== '');
  let inserted = result.filter((t) => t.kind === 'inserted' && t.text.trim() !== '');
  if (deleted.length * inserted.length > MOVE_SEARCH_LIMIT) return result;
  const dropped = new Set<AlignedToken>();
  for (;;) {
    // Longest common run by the usual table, weighted by visible characters.
    let best = { len: 0, chars: 0, d: 0, i: 0 };
    let prev = new Int32Array(inserted.length + 1);
    let prevChars = new Int32Array(inserted.length + 1);
    for (let d = 1; d <= deleted.length; d++) {
      const cur = new Int32Array(inserted.length + 1);
      const curChars = new Int32Array(inserted.length + 1);
      const dt = deleted[d - 1].text.trim();
      for (let i = 1; i <= inserted.length; i++) {
        if (dt !== inserted[i - 1].text.trim()) continue;
        cur[i] = prev[i - 1] + 1;
        curChars[i] = prevChars[i - 1] + dt.length;
        if (curChars[i] > best.chars) best = { len: cur[i], chars: curChars[i], d, i };
      }
      prev = cur;
      prevChars = curChars;
    }
    if (best.chars < 3) break;
    const ds = deleted.slice(best.d - best.len, best.d);
    const is = inserted.slice(best.i - best.len, best.i);
    is.forEach((ins, j) => {
      ins.kind = stretch.get(ins) === stretch.get(ds[j]) ? 'kept' : 'moved';
      ins.a = ds[j].a;
      dropped.add(ds[j]);
    });
    deleted = deleted.filter((t) => !ds.includes(t));
    inserted = inserted.filter((t) => !is.includes(t));
  }
  return result.filter((t) => !dropped.has(t));
}

export interface TokenChange extends AlignedToken {
  scoreA?: number;
  scoreB?: number;
  /** scoreB − scoreA for kept and moved tokens. */
  delta?: number;
}

export interface RunDiff {
  method: { a: string; b: string };
  /** What the first run explained, and its probability in each run (absent when the second run does not say). */
  prediction: { text: string; tokenId: number; before: number; after?: number; top: { text: string; probability: number }; };
  tokens: TokenChange[];
  counts: Record<AlignmentKind, number>;
}

/** The run of `r` that used `method`, else its first. */
function runFor(r: AttributionResult, method?: string): MethodRun {
  return r.runs.find((x) => x.method === method) ?? r.runs[0];
}

/** The change from result `a` to result `b`, first target row, the same method where both have it. */
export function diffRuns(a: AttributionResult, b: AttributionResult, method?: string): RunDiff {
  const runA = runFor(a, method);
  const runB = runFor(b, runA.method);
  if (!runA || !runB) throw new Error('Both results need at least one method run to compare.');
  const row = a.target.rows[0];
  const rowB = b.target.rows[0];
  const after = rowB?.tokenId === row.tokenId ? rowB.probability : b.predictions.find((p) => p.tokenId === row.tokenId)?.probability;
  const shown = (r: AttributionResult) => r.input.tokens.filter((t) => !t.special);
  const ta = shown(a);
  const tb = shown(b);
  const script = alignTokens(ta.map((t) => t.text), tb.map((t) => t.text));
  const tokens: TokenChange[] = script.map((s) => {
    const ia = s.a !== undefined ? ta[s.a].index : undefined;
    const ib = s.b !== undefined ? tb[s.b].index : undefined;
    const scoreA = ia !== undefined ? runA.scores[0][ia] : undefined;
    const scoreB = ib !== undefined ? runB.scores[0][ib] : undefined;
    return {
      kind: s.kind,
      ...(ia !== undefined ? { a: ia } : {}),
      ...(ib !== undefined ? { b: ib } : {}),
      text: s.text,
      ...(scoreA !== undefined ? { scoreA } : {}),
      ...(scoreB !== undefined ? { scoreB } : {}),
      ...(scoreA !== undefined && scoreB !== undefined ? { delta: scoreB - scoreA } : {}),
    };
  });
  const counts = { kept: 0, inserted: 0, deleted: 0, moved: 0 };
  for (const t of tokens) counts[t.kind]++;
  const top = b.predictions[0] ?? { text: rowB?.text ?? '', probability: rowB?.probability ?? NaN };
  return {
    method: { a: runA.method, b: runB.method },
    prediction: { text: row.text, tokenId: row.tokenId, before: row.probability, ...(after !== undefined ? { after } : {}), top: { text: top.text, probability: top.probability } },
    tokens,
    counts,
  };
}
