/**
 * Resolving what is explained. A target becomes rows (one per explained output token, class or contrast)
 * and branches: each branch is a continuation appended after the prompt plus the log-probabilities read
 * from it. Row score = Σ weight · log p over the row's terms. Every method scores perturbed prompts through
 * the same plan, so methods never special-case target kinds.
 */
import { EngineError } from './engineProtocol';
import { throwIfAborted, type ForwardItem, type ModelRunner, type TopToken } from './modelRunner';
import type { TargetSpec } from './request';
import type { TargetRow } from './result';
import type { PromptTokenizer } from './tokenizer';
import { MAX_GENERATED_TOKENS } from './tokenBudget';

export interface TargetTerm {
  row: number;
  /** Index into the branch continuation: the term reads the logits row after prompt + continuation[0..offset). */
  offset: number;
  tokenId: number;
  weight: number;
}

export interface TargetBranch {
  continuation: number[];
  terms: TargetTerm[];
}

export interface TargetPlan {
  rows: TargetRow[];
  branches: TargetBranch[];
}

/** Forward items scoring every branch after a (possibly perturbed) prompt. */
export function branchItems(plan: TargetPlan, prompt: number[], mask?: number[], positions?: number[], classifier = false): ForwardItem[] {
  return plan.branches.map((br) => {
    const n = prompt.length;
    const inputIds = classifier ? prompt : [...prompt, ...br.continuation];
    const attentionMask = mask ? [...mask, ...br.continuation.map(() => 1)] : undefined;
    let positionIds: number[] | undefined;
    if (positions) {
      const last = positions.length ? positions[positions.length - 1] : -1;
      positionIds = [...positions, ...br.continuation.map((_, i) => last + 1 + i)];
    }
    return {
      inputIds,
      attentionMask: classifier ? mask : attentionMask,
      positionIds: classifier ? positions : positionIds,
      queries: br.terms.map((t) => ({ position: classifier ? 0 : n - 1 + t.offset, tokenId: t.tokenId })),
    };
  });
}

/** Row scores from the values of branchItems' queries. */
export function rowScores(plan: TargetPlan, values: { logProb: number }[][]): number[] {
  const scores = plan.rows.map(() => 0);
  plan.branches.forEach((br, b) => br.terms.forEach((t, q) => (scores[t.row] += t.weight * values[b][q].logProb)));
  return scores;
}

export async function resolveTarget(
  spec: TargetSpec,
  prompt: number[],
  runner: ModelRunner,
  tokenizer: PromptTokenizer,
  signal?: AbortSignal,
  /** The model's top tokens for this prompt when the caller has them already (saves a forward pass). */
  top?: readonly TopToken[],
): Promise<TargetPlan> {
  const best = async () => top?.[0] ?? (await runner.topTokens(prompt, 1, signal))[0];
  const classifier = runner.info.kind === 'sequence-classifier';
  const labels = runner.info.labels ?? [];
  if (classifier) {
    let cls: number;
    if (spec.kind === 'class' && spec.label) {
      cls = labels.findIndex((l) => l.toLowerCase() === spec.label!.toLowerCase());
      if (cls < 0) throw new EngineError('bad-target', `Unknown label "${spec.label}". This model's labels are: ${labels.join(', ')}.`);
    } else if (spec.kind === 'class' || spec.kind === 'next-token') {
      cls = (await best()).tokenId;
    } else {
      throw new EngineError('bad-target', `A classifier explains class labels, not "${spec.kind}" targets. Choose a label (--label) or the predicted class.`);
    }
    return finish({ rows: [row(labels[cls] ?? String(cls), cls)], branches: [{ continuation: [], terms: [{ row: 0, offset: 0, tokenId: cls, weight: 1 }] }] });
  }
  if (spec.kind === 'class') throw new EngineError('bad-target', 'Class labels apply to classifiers only. For a language model, explain the next token or a continuation.');

  const single = (text: string, what: string): number => {
    const ids = tokenizer.encodeContinuation(text);
    if (ids.length === 0) throw new EngineError('bad-target', `The ${what} is empty. Type the text you want explained.`);
    if (ids.length > 1) {
      throw new EngineError(
        'bad-target',
        `The ${what} "${text}" is ${ids.length} tokens (${ids.map((i) => JSON.stringify(tokenizer.tokenText(i))).join(' ')}); a next-token target must be one token. Use a forced continuation for several tokens.`,
      );
    }
    return ids[0];
  };

  switch (spec.kind) {
    case 'next-token': {
      const first = await best();
      return finish({ rows: [row(tokenizer.tokenText(first.tokenId), first.tokenId)], branches: [{ continuation: [], terms: [{ row: 0, offset: 0, tokenId: first.tokenId, weight: 1 }] }] });
    }
    case 'token': {
      let id = spec.tokenId;
      if (id === undefined) id = single(spec.text ?? '', 'target token');
      if (!Number.isInteger(id) || id < 0 || id >= runner.info.vocabSize) {
        throw new EngineError('bad-target', `Token id ${id} is not in the vocabulary (0–${runner.info.vocabSize - 1}).`);
      }
      return finish({ rows: [row(tokenizer.tokenText(id), id)], branches: [{ continuation: [], terms: [{ row: 0, offset: 0, tokenId: id, weight: 1 }] }] });
    }
    case 'forced': {
      const ids = tokenizer.encodeContinuation(spec.text);
      if (ids.length === 0) throw new EngineError('bad-target', 'The forced continuation is empty. Type the text the model should continue with.');
      return finish(sequencePlan(ids));
    }
    case 'generate': {
      const n = spec.tokens;
      if (!Number.isInteger(n) || n < 1 || n > MAX_GENERATED_TOKENS) throw new EngineError('bad-target', `Generate between 1 and ${MAX_GENERATED_TOKENS} tokens (got ${n}).`);
      const ids: number[] = [];
      for (let i = 0; i < n; i++) {
        throwIfAborted(signal);
        if (prompt.length + ids.length > runner.info.contextLength) break; // the input is prompt + ids
        const next = (await runner.topTokens([...prompt, ...ids], 1, signal))[0].tokenId;
        ids.push(next);
        if (next === runner.info.special.eos) break;
      }
      return finish(sequencePlan(ids));
    }
    case 'contrastive': {
      const a = tokenizer.encodeContinuation(spec.text);
      const b = tokenizer.encodeContinuation(spec.foil);
      if (a.length === 0 || b.length === 0) throw new EngineError('bad-target', 'A contrastive target needs both a target text and a foil text.');
      if (a.length === b.length && a.every((id, i) => id === b[i])) {
        throw new EngineError('bad-target', `The target "${spec.text}" and the foil "${spec.foil}" are the same tokens, so their difference is zero everywhere. Give two different continuations.`);
      }
      const r = row(spec.text, a[0]);
      r.foilText = spec.foil;
      r.foilTokenId = b[0];
      return finish({
        rows: [r],
        branches: [
          { continuation: a.slice(0, -1), terms: a.map((id, i) => ({ row: 0, offset: i, tokenId: id, weight: 1 })) },
          { continuation: b.slice(0, -1), terms: b.map((id, i) => ({ row: 0, offset: i, tokenId: id, weight: -1 })) },
        ],
      });
    }
  }

  function sequencePlan(ids: number[]): TargetPlan {
    return {
      rows: ids.map((id) => row(tokenizer.tokenText(id), id)),
      branches: [{ continuation: ids.slice(0, -1), terms: ids.map((id, i) => ({ row: i, offset: i, tokenId: id, weight: 1 })) }],
    };
  }

  /** Fill in each row's probability and score on the unperturbed prompt. */
  /**
   * A language model's target read right after the prompt, at tokens of the top list the caller has, needs no
   * pass of its own: the top list's log-probabilities come from the same pass over the same prompt. On a long
   * prompt that pass is most of the time to the first streamed result.
   */
  function fromTop(plan: TargetPlan): { logProb: number }[][] | undefined {
    if (!top || classifier) return undefined;
    const known = new Map(top.map((t) => [t.tokenId, t.logProb]));
    if (!plan.branches.every((br) => br.continuation.length === 0 && br.terms.every((t) => t.offset === 0 && known.has(t.tokenId)))) return undefined;
    return plan.branches.map((br) => br.terms.map((t) => ({ logProb: known.get(t.tokenId)! })));
  }

  async function finish(plan: TargetPlan): Promise<TargetPlan> {
    const values = fromTop(plan) ?? (await runner.score(branchItems(plan, prompt, undefined, undefined, classifier), signal));
    const scores = rowScores(plan, values);
    const filled = new Set<number>();
    plan.rows.forEach((r, i) => (r.score = scores[i]));
    // Probability of each row's own token (its first positive term), not of the contrast.
    plan.branches.forEach((br, b) =>
      br.terms.forEach((t, q) => {
        const r = plan.rows[t.row];
        if (!filled.has(t.row) && t.weight > 0 && t.tokenId === r.tokenId) {
          filled.add(t.row);
          r.logProb = values[b][q].logProb;
          r.probability = Math.exp(r.logProb);
        }
      }),
    );
    return plan;
  }
}

function row(text: string, tokenId: number): TargetRow {
  return { text, tokenId, probability: 0, logProb: 0, score: 0 };
}
