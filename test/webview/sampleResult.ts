/**
 * A realistic AttributionResult for panel tests: a BOS token, a prompt whose tokens include markup that
 * must render as text, a generated four-token continuation, two method runs with signed scores.
 */
import type { AttributionResult, ResultToken } from '../../src/core/result';

export const SAMPLE_PROMPT = 'Translate to French:\nThe cat <script>alert(1)</script> sat on the <img src=x onerror=alert(2)> mat.\tNow!\nAnswer:';

/** GPT-2-like pieces: markup tags whole, a leading space joined to the word, newlines alone. */
export function tokenize(text: string): ResultToken[] {
  const tokens: ResultToken[] = [{ index: 0, id: 50256, start: 0, end: 0, text: '', special: true }];
  const re = / ?<[^>]*>| ?[A-Za-z0-9]+| ?[^\sA-Za-z0-9]|\n|\t| /g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    tokens.push({ index: tokens.length, id: 1000 + tokens.length, start: m.index, end: m.index + m[0].length, text: m[0], special: false });
  }
  return tokens;
}

/** Deterministic signed scores: each row likes different tokens. */
function scores(tokens: ResultToken[], rows: number, scale: number): number[][] {
  return Array.from({ length: rows }, (_, r) =>
    tokens.map((t, i) => (t.special ? 0.01 : Math.round(Math.sin(i * 1.7 + r * 2.3) * scale * 1000) / 1000)),
  );
}

export function sampleResult(createdAt = '2025-06-01T12:00:00.000Z'): AttributionResult {
  const tokens = tokenize(SAMPLE_PROMPT);
  for (const t of tokens) if (SAMPLE_PROMPT.slice(t.start, t.end) !== t.text) throw new Error('fixture offsets are wrong');
  const rows = [
    { text: ' Le', tokenId: 2001, probability: 0.62, logProb: Math.log(0.62), score: Math.log(0.62) },
    { text: ' chat', tokenId: 2002, probability: 0.48, logProb: Math.log(0.48), score: Math.log(0.48) },
    { text: ' <b>', tokenId: 2003, probability: 0.21, logProb: Math.log(0.21), score: Math.log(0.21) },
    { text: '.\n', tokenId: 2004, probability: 0.33, logProb: Math.log(0.33), score: Math.log(0.33) },
  ];
  return {
    schema: 'promptscope.attribution',
    version: 1,
    createdAt,
    model: { id: 'tiny-gpt2', architecture: 'gpt2', kind: 'causal-lm', contextLength: 1024 },
    input: { text: SAMPLE_PROMPT, tokens },
    target: { spec: { kind: 'generate', tokens: 4 }, rows },
    predictions: [
      { text: ' Le', tokenId: 2001, probability: 0.62 },
      { text: ' La', tokenId: 2010, probability: 0.14 },
      { text: ' <i>', tokenId: 2011, probability: 0.07 },
      { text: '\n', tokenId: 2012, probability: 0.05 },
      { text: ' Un', tokenId: 2013, probability: 0.03 },
    ],
    runs: [
      {
        method: 'occlusion',
        params: { baseline: 'delete', window: 1, stride: 1 },
        scores: scores(tokens, rows.length, 0.8),
        meaning: 'Drop in log p(target) when the token is deleted (positive: the token supports the target).',
        diagnostics: { forwardPasses: 4 * (tokens.length + 1), backwardPasses: 0, elapsedMs: 183.4, batches: 3 },
      },
      {
        method: 'integrated-gradients',
        params: { steps: 32, igBaseline: 'zero', seed: 7 },
        scores: scores(tokens, rows.length, 0.5).map((r) => r.map((s) => -s / 2)),
        meaning: 'Path integral of ∂ log p(target)/∂ embedding from a zero baseline, summed over embedding dimensions.',
        diagnostics: { forwardPasses: 128, backwardPasses: 128, elapsedMs: 912.7, batches: 8, seed: 7, completenessGap: [0.012, 0.034, 0.051, 0.008] },
      },
    ],
    request: { text: SAMPLE_PROMPT, methods: ['occlusion', 'integrated-gradients'], target: { kind: 'generate', tokens: 4 } },
  };
}
