/** The region autoExplain re-explains, followed through edits (every rule of explainedRegion.ts). */
import * as assert from 'node:assert/strict';
import { moveRegion } from '../../../src/extension/explainedRegion';

const edit = (rangeOffset: number, rangeLength: number, text: string) => ({ rangeOffset, rangeLength, text });
const apply = (doc: string, e: { rangeOffset: number; rangeLength: number; text: string }) => doc.slice(0, e.rangeOffset) + e.text + doc.slice(e.rangeOffset + e.rangeLength);

describe('explained region through edits', () => {
  const doc = 'intro. The capital of France is. outro';
  const region = { start: 7, end: 31 }; // "The capital of France is"

  it('typing at the end extends it, and the region holds the new text', () => {
    const e = edit(31, 0, ' Paris');
    const { region: r, changed } = moveRegion(region, [e]);
    assert.ok(changed);
    assert.equal(apply(doc, e).slice(r!.start, r!.end), 'The capital of France is Paris');
  });

  it('edits before it move it without changing it; an insertion right at its start stays outside', () => {
    for (const e of [edit(0, 5, 'Intro text'), edit(7, 0, 'So. ')]) {
      const { region: r, changed } = moveRegion(region, [e]);
      assert.equal(changed, false);
      assert.equal(apply(doc, e).slice(r!.start, r!.end), 'The capital of France is');
    }
  });

  it('edits after it leave it alone', () => {
    assert.deepEqual(moveRegion(region, [edit(32, 6, 'end')]), { region, changed: false });
  });

  it('edits inside or across its edges change it, and it follows them', () => {
    const inside = edit(11, 7, 'city');
    let r = moveRegion(region, [inside]);
    assert.ok(r.changed);
    assert.equal(apply(doc, inside).slice(r.region!.start, r.region!.end), 'The city of France is');
    const across = edit(5, 5, '! A'); // ". The" → "! A"
    r = moveRegion(region, [across]);
    assert.ok(r.changed);
    assert.equal(apply(doc, across).slice(r.region!.start, r.region!.end), '! A capital of France is');
  });

  it('several changes of one event apply from the last one; deleting it all forgets it', () => {
    const edits = [edit(0, 0, '>> '), edit(31, 0, ' Paris')];
    const r = moveRegion(region, edits);
    const after = apply(apply(doc, edits[1]), edits[0]);
    assert.equal(after.slice(r.region!.start, r.region!.end), 'The capital of France is Paris');
    assert.equal(moveRegion(region, [edit(5, 30, '')]).region, undefined);
  });
});
