/**
 * The panel's HTML shell. Pure (no vscode import) so the browser test loads exactly what the editor loads.
 * Strict CSP: nothing by default, the script only with this load's nonce, styles and fonts only from the
 * extension's own resources. All content is built by webview/main.ts with DOM APIs.
 */

export interface PanelHtmlParts {
  /** webview.cspSource: the origin the editor serves extension resources from. */
  cspSource: string;
  /** Nonce for the one script tag. */
  nonce: string;
  /**
   * A second nonce, for styles only: the toolkit's FAST runtime creates one <style> element for feature
   * detection and reads its nonce from <meta property="csp-nonce">. Kept apart from the script nonce so
   * publishing it in the page does not reveal the script nonce.
   */
  styleNonce: string;
  scriptUri: string;
  styleUri: string;
}

const attr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function contentSecurityPolicy(cspSource: string, nonce: string, styleNonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource} 'nonce-${styleNonce}'`,
    `font-src ${cspSource}`,
    `img-src ${cspSource} data:`,
  ].join('; ');
}

export function renderPanelHtml(p: PanelHtmlParts): string {
  for (const n of [p.nonce, p.styleNonce]) if (!/^[A-Za-z0-9+/=]{16,}$/.test(n)) throw new Error('Panel nonces must be base64.');
  if (p.nonce === p.styleNonce) throw new Error('The script and style nonces must differ.');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(contentSecurityPolicy(p.cspSource, p.nonce, p.styleNonce))}">
<meta property="csp-nonce" content="${p.styleNonce}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${attr(p.styleUri)}">
<title>Promptscope</title>
</head>
<body>
<script nonce="${p.nonce}" src="${attr(p.scriptUri)}"></script>
</body>
</html>`;
}
