/** Validators both sides of the panel run on every message, and the host's reveal bounds check. */
import { strict as assert } from 'node:assert';
import {
  parseHostMessage,
  parsePanelMessage,
  parsePanelState,
  parseSnapshot,
  parseTargetSpec,
  revealRange,
} from '../../src/core/panelProtocol';
import { sampleResult } from './sampleResult';

const snapshot = () => ({ documentUri: 'file:///p.md', offset: 40, result: sampleResult() });

describe('panel protocol: host → panel', function () {
  it('accepts a whole snapshot, a null snapshot and status messages', function () {
    assert.equal(parseHostMessage({ type: 'snapshot', snapshot: snapshot() })?.type, 'snapshot');
    assert.deepEqual(parseHostMessage({ type: 'snapshot', snapshot: null }), { type: 'snapshot', snapshot: null });
    assert.deepEqual(parseHostMessage({ type: 'status', state: 'error', message: 'no model' }), { type: 'status', state: 'error', message: 'no model' });
  });

  it('rejects results that do not hang together', function () {
    const cases: Array<[string, (r: ReturnType<typeof sampleResult>) => void]> = [
      ['short score row', (r) => r.runs[0].scores[0].pop()],
      ['missing score row', (r) => r.runs[1].scores.pop()],
      ['string score', (r) => ((r.runs[0].scores[0] as unknown[])[2] = '0.5')],
      ['NaN score', (r) => (r.runs[0].scores[0][2] = NaN)],
      ['token beyond the text', (r) => (r.input.tokens[4].end = r.input.text.length + 1)],
      ['reversed token', (r) => Object.assign(r.input.tokens[4], { start: 9, end: 3 })],
      ['token index out of order', (r) => (r.input.tokens[2].index = 7)],
      ['non-string token text', (r) => ((r.input.tokens[2] as unknown as Record<string, unknown>).text = { html: '<b>' })],
      ['bad method name', (r) => (r.runs[0].method = '<img src=x>')],
      ['wrong schema', (r) => ((r as unknown as Record<string, unknown>).schema = 'other')],
      ['wrong version', (r) => ((r as unknown as Record<string, unknown>).version = 2)],
      ['bad completeness gap', (r) => ((r.runs[1].diagnostics.completenessGap as unknown[])[0] = 'x')],
      ['row without text', (r) => ((r.target.rows[0] as unknown as Record<string, unknown>).text = 3)],
    ];
    for (const [name, spoil] of cases) {
      const s = snapshot();
      spoil(s.result);
      assert.equal(parseHostMessage({ type: 'snapshot', snapshot: s }), undefined, name);
    }
  });

  it('rejects unknown types, extra fields, bad offsets and bad status', function () {
    for (const m of [
      null, 'snapshot', 42, [], {},
      { type: 'eval', code: '1' },
      { type: 'snapshot' },
      { type: 'snapshot', snapshot: snapshot(), extra: 1 },
      { type: 'snapshot', snapshot: { ...snapshot(), offset: -1 } },
      { type: 'snapshot', snapshot: { ...snapshot(), offset: 1.5 } },
      { type: 'snapshot', snapshot: { ...snapshot(), html: '<b>' } },
      { type: 'status', state: 'done' },
      { type: 'status', state: 'error', message: 7 },
    ]) {
      assert.equal(parseHostMessage(m), undefined, JSON.stringify(m)?.slice(0, 80));
    }
  });
});

describe('panel protocol: panel → host', function () {
  it('accepts each message the panel sends', function () {
    const ok = [
      { type: 'ready' },
      { type: 'rendered', resultCreatedAt: '2025-01-01T00:00:00Z', tokenCount: 3 },
      { type: 'reveal', tokenIndex: 2, start: 4, end: 9 },
      { type: 'rerun', change: { method: 'integrated-gradients' } },
      { type: 'rerun', change: { granularity: 'word' } },
      { type: 'rerun', change: { target: { kind: 'generate', tokens: 5 } } },
      { type: 'rerun', change: { target: { kind: 'contrastive', text: ' Paris', foil: ' Lyon' } } },
      { type: 'export', format: 'svg', view: { method: 'occlusion', row: 1, granularity: 'token' } },
      { type: 'rejected', reason: 'malformed' },
    ];
    for (const m of ok) assert.deepEqual(parsePanelMessage(m), m);
  });

  it('rejects what a compromised or confused webview might send', function () {
    for (const m of [
      { type: 'ready', x: 1 },
      { type: 'reveal', tokenIndex: 2, start: 9, end: 4 },
      { type: 'reveal', tokenIndex: -1, start: 0, end: 1 },
      { type: 'reveal', tokenIndex: 0, start: '0', end: 1 },
      { type: 'rerun', change: {} },
      { type: 'rerun', change: { method: '../../etc/passwd' } },
      { type: 'rerun', change: { granularity: 'paragraph' } },
      { type: 'rerun', change: { target: { kind: 'generate', tokens: 0 } } },
      { type: 'rerun', change: { target: { kind: 'generate', tokens: 1e9 } } },
      { type: 'rerun', change: { target: { kind: 'forced', text: '' } } },
      { type: 'rerun', change: { target: { kind: 'shell', cmd: 'rm' } } },
      { type: 'export', format: 'exe', view: { row: 0, granularity: 'token' } },
      { type: 'export', format: 'json' },
      { type: 'export', format: 'json', view: { row: -1, granularity: 'token' } },
      { type: 'export', format: 'json', view: { row: 0, granularity: 'token', path: '/tmp/x' } },
    ]) {
      assert.equal(parsePanelMessage(m), undefined, JSON.stringify(m));
    }
  });

  it('parses every target kind and nothing else', function () {
    assert.deepEqual(parseTargetSpec({ kind: 'next-token' }), { kind: 'next-token' });
    assert.deepEqual(parseTargetSpec({ kind: 'token', tokenId: 5 }), { kind: 'token', tokenId: 5 });
    assert.deepEqual(parseTargetSpec({ kind: 'class' }), { kind: 'class' });
    assert.deepEqual(parseTargetSpec({ kind: 'class', label: 'positive' }), { kind: 'class', label: 'positive' });
    assert.equal(parseTargetSpec({ kind: 'token' }), undefined);
    assert.equal(parseTargetSpec({ kind: 'next-token', tokens: 3 }), undefined);
  });

  it('bounds a reveal to the prompt and shifts it to document offsets', function () {
    const s = snapshot();
    const t = s.result.input.tokens[8];
    assert.deepEqual(revealRange(s, { tokenIndex: 8, start: t.start, end: t.end }), { start: 40 + t.start, end: 40 + t.end });
    assert.equal(revealRange(s, { tokenIndex: 8, start: 0, end: s.result.input.text.length + 1 }), undefined);
    assert.equal(revealRange(s, { tokenIndex: 999, start: 0, end: 1 }), undefined);
  });
});

describe('panel protocol: saved state', function () {
  it('round-trips view and snapshot, and survives a corrupt snapshot', function () {
    const state = { version: 1, view: { method: 'occlusion', row: 2, granularity: 'word' }, snapshot: snapshot() };
    assert.deepEqual(parsePanelState(JSON.parse(JSON.stringify(state))), state);
    const corrupt = { ...state, snapshot: { offset: 0, result: { schema: 'nope' } } };
    assert.deepEqual(parsePanelState(corrupt), { version: 1, view: state.view });
    assert.equal(parsePanelState({ version: 0, view: state.view }), undefined);
    assert.equal(parsePanelState(undefined), undefined);
    assert.equal(parseSnapshot({ offset: 0 }), undefined);
  });
});
