/** The perturbation methods are offered everywhere: settings enum with descriptions, panel list, trust note, README. */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { METHODS } from '../../src/core/methods/registry';
import { PANEL_METHODS } from '../../src/core/panelProtocol';
import { trustNoteFor } from '../../webview/trustNotes';

const ROOT = path.resolve(__dirname, '../..');

describe('method lists (perturbation methods)', function () {
  const names = ['shapley-sampling', 'kernel-shap', 'lime', 'reagent', 'counterfactuals', 'coarse-to-fine'];

  it('are registered', function () {
    for (const n of names) assert.ok(METHODS.some((m) => m.name === n), n);
  });

  it('the promptscope.method setting lists every method, each with a description', function () {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    const setting = pkg.contributes.configuration.properties['promptscope.method'];
    for (const n of names) assert.ok(setting.enum.includes(n), n);
    assert.equal(setting.enumDescriptions.length, setting.enum.length);
    for (const n of setting.enum) assert.ok(n === 'auto' || METHODS.some((m) => m.name === n), `the setting offers only registered methods or auto (${n})`);
  });

  it('the panel offers every method', function () {
    for (const n of names) assert.ok(PANEL_METHODS.includes(n), n);
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
