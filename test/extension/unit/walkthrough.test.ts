/** The Get started walkthrough in package.json points only at things that exist. */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');

interface Step { id: string; title: string; description: string; media: { image: string | Record<string, string>; altText: string }; completionEvents: string[] }
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  contributes: { commands: { command: string }[]; configuration: { properties: Record<string, unknown> }; walkthroughs: { id: string; steps: Step[] }[] };
};

describe('Get started walkthrough', () => {
  const commands = new Set(pkg.contributes.commands.map((c) => c.command));
  const steps = pkg.contributes.walkthroughs.flatMap((w) => w.steps);

  it('has the five steps, each with a command button that exists', () => {
    assert.deepEqual(steps.map((s) => s.id), ['explain', 'hover', 'panel', 'compare', 'model']);
    for (const s of steps) {
      const links = [...s.description.matchAll(/\]\(command:([\w.]+)(?:\?[^)]*)?\)/g)].map((m) => m[1]);
      assert.ok(links.length >= 1, `${s.id} has a command button`);
      for (const c of links) assert.ok(commands.has(c), `${s.id}: ${c} is a contributed command`);
    }
  });

  it('completes on events of commands, settings and contexts that exist', () => {
    for (const s of steps) {
      assert.ok(s.completionEvents.length >= 1, s.id);
      for (const e of s.completionEvents) {
        const [kind, what] = e.split(/:(.*)/s);
        if (kind === 'onCommand') assert.ok(commands.has(what), e);
        else if (kind === 'onSettingChanged') assert.ok(what in pkg.contributes.configuration.properties, e);
        else if (kind === 'onContext') assert.match(what, /^promptscope\.\w+$/, e);
        else assert.fail(`unexpected completion event ${e}`);
      }
    }
  });

  it('shows PNG screenshots for light and dark themes, with alt text', () => {
    for (const s of steps) {
      assert.ok(s.media.altText.length > 10, s.id);
      const images = typeof s.media.image === 'string' ? { light: s.media.image, dark: s.media.image } : s.media.image;
      assert.ok(images.light && images.dark, `${s.id} has light and dark images`);
      for (const f of Object.values(images)) {
        const bytes = fs.readFileSync(path.join(ROOT, f));
        assert.equal(bytes.subarray(1, 4).toString('latin1'), 'PNG', f);
        assert.ok(bytes.readUInt32BE(16) >= 600 && bytes.readUInt32BE(20) >= 300, `${f} is a screenshot-sized image`);
        assert.ok(bytes.length <= 150 * 1024, `${f} is at most 150 KB (${bytes.length} bytes)`);
      }
    }
  });

  it('shows each step its own screenshot, a different one per theme', () => {
    const images = steps.map((s) => (typeof s.media.image === 'string' ? { light: s.media.image, dark: s.media.image } : s.media.image));
    assert.equal(new Set(images.map((i) => i.light)).size, steps.length, 'one light image per step');
    assert.equal(new Set(images.map((i) => i.dark)).size, steps.length, 'one dark image per step');
    for (const i of images) assert.notDeepEqual(fs.readFileSync(path.join(ROOT, i.light)), fs.readFileSync(path.join(ROOT, i.dark)), i.light);
  });
});
