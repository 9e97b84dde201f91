/** `--pass-budget` and `--budget` reach the coarse-to-fine parameters; bad values are named. */
import * as assert from 'node:assert/strict';
import { parseArgs, UsageError } from '../../src/cli/args';
import { spanLevelText } from '../../src/extension/hoverText';

describe('coarse-to-fine budget options', function () {
  it('parses a pass budget and a time budget', function () {
    const o = parseArgs(['hello', '--method', 'coarse-to-fine', '--pass-budget', '40', '--budget', '2.5']);
    assert.deepEqual(o.params, { passBudget: 40, timeBudget: 2.5 });
  });
  it('names a bad budget', function () {
    assert.throws(() => parseArgs(['x', '--budget', '0']), (e: unknown) => e instanceof UsageError && /--budget needs a number of seconds above 0/.test(e.message));
    assert.throws(() => parseArgs(['x', '--pass-budget', '1.5']), /--pass-budget needs a whole number/);
  });
  it('the hover names the level of a score', function () {
    assert.match(spanLevelText('sentence')!, /whole sentence occluded/);
    assert.match(spanLevelText('token')!, /this token occluded alone/);
    assert.equal(spanLevelText(undefined), undefined);
  });
});
