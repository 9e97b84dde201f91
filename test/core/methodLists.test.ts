/** Every registered method is offered everywhere: settings enum with descriptions, panel list, trust note, README. */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { METHODS } from '../../src/core/methods/registry';
import { PANEL_METHODS } from '../../src/core/panelProtocol';
import { trustNoteFor } from '../../webview/trustNotes';

const ROOT = path.resolve(__dirname, '../..');

describe('method lists', function () {
  const names = METHODS.map((m) => m.name);

  it('the promptscope.method setting lists every method, each with a description', function () {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    const setting = pkg.contributes.configuration.properties['promptscope.method'];
    assert.deepEqual(setting.enum, names);
    assert.equal(setting.enumDescriptions.length, names.length);
  });

  it('the panel offers every method', function () {
    assert.deepEqual([...PANEL_METHODS], names);
  });

  it('every method has its own trust note and a README row', function () {
    const generic = trustNoteFor('no-such-method');
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    for (const n of names) {
      assert.notEqual(trustNoteFor(n), generic, `trust note for ${n}`);
      assert.match(readme, new RegExp('\\|\\s*`' + n + '`'), `README methods table row for ${n}`);
    }
  });
});
