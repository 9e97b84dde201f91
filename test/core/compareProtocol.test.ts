// The compare messages between host and panel: what the host builds passes the webview's validator, and
// malformed ones are rejected whole.
import * as assert from 'node:assert/strict';
import { parseCompareState, summariseRun, type CompareState } from '../../src/core/compareProtocol';
import { parseHostMessage, parsePanelMessage } from '../../src/core/panelProtocol';
import { diffRuns } from '../../src/core/runDiff';
import { sampleResult, SAMPLE_PROMPT, tokenize } from '../webview/sampleResult';

function edited(): ReturnType<typeof sampleResult> {
  const r = sampleResult('2026-01-01T12:05:00.000Z');
  const text = SAMPLE_PROMPT.replace('The cat', 'The black cat');
  const tokens = tokenize(text);
  r.input = { text, tokens };
  r.runs = r.runs.map((run) => ({ ...run, scores: run.scores.map(() => tokens.map((_, i) => i / 100)) }));
  return r;
}

describe('compare protocol', () => {
  const before = sampleResult('2026-01-01T12:00:00.000Z');
  const after = edited();
  const state: CompareState = { current: after.createdAt, earlier: [summariseRun(before)], comparison: { with: before.createdAt, diff: diffRuns(before, after) } };

  it('a comparison built by the host passes the webview validator unchanged', () => {
    const msg = parseHostMessage(JSON.parse(JSON.stringify({ type: 'compare', state })));
    assert.ok(msg && msg.type === 'compare' && msg.state);
    assert.deepEqual(msg.state, JSON.parse(JSON.stringify(state)));
    assert.equal(msg.state.comparison!.diff.counts.inserted, 1);
    assert.deepEqual(parseHostMessage({ type: 'compare', state: null }), { type: 'compare', state: null });
    assert.equal(summariseRun(before).target, ' Le');
  });

  it('malformed states and choices are rejected', () => {
    const bad = (f: (s: CompareState) => void) => {
      const s = JSON.parse(JSON.stringify(state)) as CompareState;
      f(s);
      return parseCompareState(s);
    };
    assert.equal(bad((s) => ((s.comparison!.diff.tokens[0] as { kind: string }).kind = 'swapped')), undefined);
    assert.equal(bad((s) => delete s.comparison!.diff.tokens.find((t) => t.kind === 'kept')!.b), undefined);
    assert.equal(bad((s) => ((s.earlier[0] as { id: unknown }).id = 7)), undefined);
    assert.equal(bad((s) => ((s.comparison!.diff.tokens[1] as { delta: unknown }).delta = '1')), undefined);
    assert.ok(bad((s) => (s.comparison!.diff.tokens.find((t) => t.kind === 'kept')!.delta = NaN)), 'a NaN score (a broken model) still shows');
    assert.deepEqual(parsePanelMessage({ type: 'compareWith', run: before.createdAt }), { type: 'compareWith', run: before.createdAt });
    assert.deepEqual(parsePanelMessage({ type: 'compareWith', run: null }), { type: 'compareWith', run: null });
    assert.equal(parsePanelMessage({ type: 'compareWith', run: 3 }), undefined);
    assert.equal(parsePanelMessage({ type: 'compareWith', run: '', extra: 1 }), undefined);
  });
});
