/** Shared steps of the extension-host tests: the extension's API, sample documents, waiting. */
import * as assert from 'node:assert';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PromptscopeApi } from '../../../src/extension/api';
import type { ExplainOutcome } from '../../../src/extension/explainController';

export const EXTENSION_ID = 'promptscope.promptscope';

export async function api(): Promise<PromptscopeApi> {
  const ext = vscode.extensions.getExtension<PromptscopeApi>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not installed in this host`);
  return ext.isActive ? ext.exports : ext.activate();
}

/** A sample file from the opened workspace (a copy of samples/), or from the repository's samples/. */
export function sampleUri(name: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (folder) return vscode.Uri.joinPath(folder.uri, name);
  return vscode.Uri.file(path.resolve(__dirname, '..', '..', '..', '..', 'samples', name));
}

/** Opens `text` in a fresh untitled editor (tests edit it freely, nothing touches the disk). */
export async function openScratch(text: string, language = 'plaintext'): Promise<vscode.TextEditor> {
  // On a loaded machine the untitled file the previous test reverted and closed can still be open under the
  // name the new one gets; VS Code then hands back the old document. Wait for one with this text (line
  // ends aside: the document normalises them).
  const lines = (t: string) => t.split(/\r\n|\r|\n/).join('\n');
  const doc = await waitFor('a fresh untitled document', async () => {
    const d = await vscode.workspace.openTextDocument({ content: text, language });
    return lines(d.getText()) === lines(text) ? d : undefined;
  }, 10_000);
  return activeEditorFor(await vscode.window.showTextDocument(doc, { preview: false, viewColumn: vscode.ViewColumn.One }));
}

export async function openSample(name: string): Promise<vscode.TextEditor> {
  const doc = await vscode.workspace.openTextDocument(sampleUri(name));
  return activeEditorFor(await vscode.window.showTextDocument(doc, { preview: false, viewColumn: vscode.ViewColumn.One }));
}

/**
 * Waits until the extension host sees `editor` as the active one: on a loaded machine the editor closed by
 * the previous test can still be reported active for a moment, and commands act on the active editor.
 */
async function activeEditorFor(editor: vscode.TextEditor): Promise<vscode.TextEditor> {
  await waitFor('the new editor to be active', () => vscode.window.activeTextEditor?.document === editor.document, 10_000);
  return editor;
}

export function select(editor: vscode.TextEditor, start: number, end: number): void {
  const doc = editor.document;
  editor.selection = new vscode.Selection(doc.positionAt(start), doc.positionAt(end));
}

export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function closeAll(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

export async function setSetting(key: string, value: unknown): Promise<void> {
  await vscode.workspace.getConfiguration('promptscope').update(key, value, vscode.ConfigurationTarget.Global);
}

/** Markdown as a reader sees it: escapes and non-breaking-space entities undone. */
export function plainText(markdown: string): string {
  return markdown.replace(/&nbsp;/g, ' ').replace(/\\([\\`*_{}[\]()#+\-.!~>|])/g, '$1');
}

/** A short description of an outcome for assertion messages (results are too big to print). */
export function describeOutcome(o: ExplainOutcome | undefined): string {
  if (!o) return 'no outcome';
  if (o.kind === 'ok') return `ok: ${JSON.stringify(o.stored.result.input.text)} in ${o.stored.documentUri}`;
  return JSON.stringify(o);
}
