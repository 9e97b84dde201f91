/**
 * String literals with escapes: with the cursor inside one, the decoded content is the prompt, and every
 * tint and hover lands on the source characters (or the whole escape) that produced its token. Checked by
 * decoding each painted source span again with JSON.parse, independently of the extension's decoder.
 */
import * as assert from 'node:assert';
import * as vscode from 'vscode';
import type { ExplainOutcome } from '../../../src/extension/explainController';
import { api, closeAll, describeOutcome, openScratch, plainText } from './helpers';

/** JSON's decoder on a span of a literal's source (\x and \' rewritten into what JSON reads). */
function decode(span: string): string {
  const json = span.replace(/\t/g, '\\t').replace(/\\x([0-9a-fA-F]{2})/g, '\\u00$1').replace(/\\(['`])/g, '$1').replace(/"/g, '\\"').replace(/\\\\"/g, '\\"');
  return JSON.parse(`"${json}"`);
}

describe('String literals with escapes', () => {
  after(closeAll);

  for (const { language, source, prompt } of [
    { language: 'python', source: 'import x\n\nprompt = "Answer briefly.\\nThe capital of \\"France\\" is"  # the prompt\nprint(prompt)\n', prompt: 'Answer briefly.\nThe capital of "France" is' },
    { language: 'typescript', source: 'const p = `Caf\\u00e9 list:\\tThe capital of \\x46rance is`;\n', prompt: 'Café list:\tThe capital of France is' },
  ]) {
    it(`${language}: the decoded literal is the prompt; tints and hovers sit on its source`, async () => {
      const a = await api();
      const editor = await openScratch(source, language);
      const doc = editor.document;
      const uri = doc.uri.toString();
      const inside = source.indexOf('capital');
      editor.selection = new vscode.Selection(doc.positionAt(inside), doc.positionAt(inside));
      const outcome = (await vscode.commands.executeCommand('promptscope.explainAtCursor')) as ExplainOutcome;
      assert.strictEqual(outcome.kind, 'ok', describeOutcome(outcome));
      const stored = a.result(uri)!;
      assert.strictEqual(stored.result.input.text, prompt);
      const tokens = stored.result.input.tokens;
      const open = source.indexOf(language === 'python' ? '"' : '`') + 1;
      const close = source.lastIndexOf(language === 'python' ? '"' : '`');
      const visible = tokens.filter((t) => !t.special && t.end > t.start);
      assert.strictEqual(stored.tokens.length, visible.length, 'every token placed');
      let rebuilt = '';
      for (const t of stored.tokens) {
        assert.ok(t.start >= open && t.end <= close, `token ${t.index} inside the quotes`);
        assert.strictEqual(decode(source.slice(t.start, t.end)), tokens[t.index].text, `token ${t.index}'s source decodes to its text`);
        rebuilt += source.slice(t.start, t.end);
      }
      assert.strictEqual(rebuilt, source.slice(open, close), 'the tokens cover the literal exactly');
      const tints = a.appliedTints(uri);
      assert.ok(tints.length > 0, 'tints painted');
      for (const t of tints) assert.strictEqual(decode(source.slice(t.start, t.end)), tokens[t.tokenIndex].text);
      for (const r of a.paintedRanges(uri)) assert.ok(r.start >= open && r.end <= close, 'painted inside the quotes');

      // A hover on " France" (written with an escape in the TypeScript literal) names the decoded token.
      const france = stored.tokens.find((t) => tokens[t.index].text.includes('France') || tokens[t.index].text.includes('rance'))!;
      const hovers = (await vscode.commands.executeCommand('vscode.executeHoverProvider', doc.uri, doc.positionAt(france.end - 1))) as vscode.Hover[];
      const ours = hovers.flatMap((h) => h.contents.map((c) => plainText(typeof c === 'string' ? c : c.value))).find((t) => t.includes('Promptscope'));
      assert.ok(ours?.includes(tokens[france.index].text.trim()), `hover names the token: ${ours}`);
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    });
  }
});
