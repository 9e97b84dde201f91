// Per-document run history: cap, order, dedupe, and the round trip through the saved workspace state.
import * as assert from 'node:assert/strict';
import { sampleResult } from '../../webview/sampleResult';
import { RunHistory } from '../../../src/extension/runHistory';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, s)).toISOString();

describe('run history', () => {
  it('keeps the newest runs per document, capped, each once', () => {
    const h = new RunHistory(3);
    for (let s = 0; s < 5; s++) h.add('file:///a.txt', sampleResult(at(s)));
    h.add('file:///b.txt', sampleResult(at(9)));
    h.add('file:///a.txt', sampleResult(at(4))); // the panel restoring the current result adds nothing
    assert.deepEqual(h.list('file:///a.txt').map((r) => r.createdAt), [at(4), at(3), at(2)]);
    assert.deepEqual(h.list('file:///b.txt').map((r) => r.createdAt), [at(9)]);
    assert.equal(h.find('file:///a.txt', at(3))?.createdAt, at(3));
    assert.equal(h.find('file:///a.txt', at(0)), undefined, 'dropped beyond the cap');
    h.setLimit(1);
    assert.deepEqual(h.list('file:///a.txt').map((r) => r.createdAt), [at(4)]);
  });

  it('survives a reload through JSON, without attention detail, skipping what it cannot read', () => {
    const h = new RunHistory(5);
    const withAttention = sampleResult(at(1));
    withAttention.runs[0].attention = { layers: 1, heads: 1 } as never;
    h.add('file:///a.txt', withAttention);
    h.add('file:///a.txt', sampleResult(at(2)));
    h.add('file:///b.txt', sampleResult(at(3)));
    const saved = JSON.parse(JSON.stringify(h.toJSON()));
    saved.documents[0][1].push({ schema: 'something else' });
    const back = RunHistory.fromJSON(saved, 5);
    assert.deepEqual(back.list('file:///a.txt').map((r) => r.createdAt), [at(2), at(1)]);
    assert.deepEqual(back.list('file:///b.txt').map((r) => r.createdAt), [at(3)]);
    assert.equal(back.find('file:///a.txt', at(1))?.runs[0].attention, undefined);
    assert.deepEqual(back.find('file:///a.txt', at(2))?.runs[0].scores, sampleResult(at(2)).runs[0].scores);
    // Recency order survives: b was explained last, so it is saved first.
    assert.equal(back.toJSON().documents[0][0], 'file:///b.txt');
    assert.equal(RunHistory.fromJSON(undefined).list('file:///a.txt').length, 0);
    // A size cap keeps the newest runs of the most recent documents.
    const one = JSON.stringify(h.toJSON().documents[0][1][0]).length;
    const capped = h.toJSON(one * 1.5);
    assert.deepEqual(capped.documents.map(([u, runs]) => [u, runs.length]), [['file:///b.txt', 1]]);
    assert.equal(RunHistory.fromJSON({ version: 2, documents: [] }).list('file:///a.txt').length, 0);
  });
});
