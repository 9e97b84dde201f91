/** The panel's HTML shell: strict CSP with nonces, no inline content besides the one script tag. */
import { strict as assert } from 'node:assert';
import { contentSecurityPolicy, renderPanelHtml } from '../../src/extension/panel/panelHtml';

const parts = {
  cspSource: 'https://file+.vscode-resource.vscode-cdn.net',
  nonce: 'c2NyaXB0bm9uY2UxMjM0NTY=',
  styleNonce: 'c3R5bGVub25jZTEyMzQ1Njc=',
  scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview.js',
  styleUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/media/panel.css',
};

describe('panel HTML shell', function () {
  it('allows nothing by default and scripts only by nonce', function () {
    const csp = contentSecurityPolicy(parts.cspSource, parts.nonce, parts.styleNonce);
    assert.match(csp, /^default-src 'none'; /);
    assert.match(csp, /script-src 'nonce-c2NyaXB0bm9uY2UxMjM0NTY='(;|$)/);
    assert.ok(!csp.includes('unsafe-inline') && !csp.includes('unsafe-eval') && !csp.includes('*'));
  });

  it('loads exactly one script, with the nonce, and one stylesheet', function () {
    const html = renderPanelHtml(parts);
    assert.equal((html.match(/<script/g) ?? []).length, 1);
    assert.ok(html.includes(`<script nonce="${parts.nonce}" src="${parts.scriptUri}"></script>`));
    assert.ok(html.includes(`<link rel="stylesheet" href="${parts.styleUri}">`));
    assert.ok(!html.includes('style="'));
  });

  it('refuses nonces that are not random-looking or that coincide', function () {
    assert.throws(() => renderPanelHtml({ ...parts, nonce: 'x" onload="alert(1)' }));
    assert.throws(() => renderPanelHtml({ ...parts, styleNonce: parts.nonce }));
  });
});

describe('panel sources', function () {
  it('never parse HTML: tokens reach the page only as text', function () {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { readdirSync, readFileSync } = require('node:fs') as typeof import('node:fs');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const path = require('node:path') as typeof import('node:path');
    const root = path.resolve(__dirname, '../..');
    const files = ['webview', 'webview/views'].flatMap((d) =>
      readdirSync(path.join(root, d)).filter((f) => f.endsWith('.ts')).map((f) => path.join(root, d, f)),
    );
    assert.ok(files.length > 5);
    for (const f of files) {
      const src = readFileSync(f, 'utf8');
      assert.doesNotMatch(src, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|setAttribute\(\s*'style'|DOMParser|createContextualFragment/, f);
    }
  });
});
