// Which counterfactual edits the light bulb offers and what applying one does (pure; a real result from the bundled LM).
import * as assert from 'node:assert/strict';
import { explain } from '../../../src/core/explain';
import { editTitle } from '../../../src/core/counterfactualText';
import type { AttributionResult } from '../../../src/core/result';
import { plannedEditsAt } from '../../../src/extension/counterfactualPlan';
import { counterfactualHoverText } from '../../../src/extension/hoverText';
import { applyEdits, createStoredResult } from '../../../src/extension/resultStore';
import { loadModel } from '../../../src/runtime/loadedModel';

describe('counterfactual code actions (planning)', function () {
  const prompt = 'The capital of France is';
  const lead = 'Notes:\n';
  const doc = `${lead}${prompt}\nmore text`;
  let result: AttributionResult;
  before(async function () {
    result = await explain({ text: prompt, methods: ['counterfactuals'], target: { kind: 'next-token' }, trust: false }, await loadModel('promptscope-tiny-lm'));
  });

  it('offers the best verified edits of the token under the cursor, and the edit rewrites exactly that token', function () {
    const stored = createStoredResult('u', result, lead.length);
    const france = result.input.tokens.find((t) => t.text === ' France')!;
    const plans = plannedEditsAt(stored, lead.length + france.start + 2, doc);
    const expected = result.counterfactuals!.edits.filter((e) => e.tokens.includes(france.index)).sort((a, b) => a.delta - b.delta).slice(0, 3);
    assert.deepEqual(plans.map((p) => p.title), expected.map(editTitle));
    assert.ok(plans.length > 0, 'the LM has verified edits of " France"');
    for (const p of plans) {
      assert.match(p.title, /^(Replace '.+' with '.*'|Delete '.+') → '.*' \(\d+(\.\d+)? %\)$/);
      assert.equal(doc.slice(p.start, p.end), p.edit.original);
      const edited = doc.slice(0, p.start) + p.replacement + doc.slice(p.end);
      assert.equal(edited.slice(p.newTextOffset, p.newTextOffset + p.newText.length), p.newText, 'the re-explained text is the edited prompt');
      assert.equal(edited, doc.replace(prompt, p.newText));
    }
    const hover = counterfactualHoverText(result.counterfactuals, france.index)!;
    for (const p of plans) assert.ok(hover.includes(p.title), `hover lists ${p.title}`);
  });

  it('follows edits elsewhere and offers nothing once the token or the prompt changed', function () {
    const stored = createStoredResult('u', result, lead.length);
    const france = result.input.tokens.find((t) => t.text === ' France')!;
    applyEdits(stored, [{ rangeOffset: 0, rangeLength: 0, text: '>> ' }]);
    const shifted = '>> ' + doc;
    const plans = plannedEditsAt(stored, lead.length + 3 + france.start + 2, shifted);
    assert.ok(plans.length > 0);
    assert.equal(shifted.slice(plans[0].start, plans[0].end), plans[0].edit.original);
    // Edit the token itself: it is no longer live, so nothing is offered for it.
    const at = lead.length + 3 + france.start;
    applyEdits(stored, [{ rangeOffset: at, rangeLength: france.text.length, text: ' Spain' }]);
    const changed = shifted.slice(0, at) + ' Spain' + shifted.slice(at + france.text.length);
    assert.deepEqual(plannedEditsAt(stored, at + 2, changed), []);
  });
});
