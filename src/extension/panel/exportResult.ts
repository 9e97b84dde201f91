/**
 * Writes the current result in a format the user picks in the panel. The content comes from the snapshot
 * the host posted (never from the webview); the webview only chooses format and view.
 */
import * as vscode from 'vscode';
import { toCsv } from '../../core/exporters/csv';
import { toHtml } from '../../core/exporters/html';
import { toJson } from '../../core/exporters/json';
import { toSvg } from '../../core/exporters/svg';
import type { ExportFormat, PanelSnapshot, PanelView } from '../../core/panelProtocol';

const FILTERS: Record<ExportFormat, Record<string, string[]>> = {
  json: { 'Promptscope result (JSON)': ['json'] },
  csv: { 'CSV table': ['csv'] },
  html: { 'HTML report': ['html'] },
  svg: { 'SVG heatmap': ['svg'] },
};

export function exportContent(format: ExportFormat, snapshot: PanelSnapshot, view: PanelView): string {
  const r = snapshot.result;
  switch (format) {
    case 'json':
      return toJson(r);
    case 'csv':
      return toCsv(r);
    case 'html':
      return toHtml(r);
    case 'svg':
      return toSvg(r, { method: view.method, row: view.row, granularity: view.granularity, rowScale: view.rowScale });
  }
}

function defaultUri(format: ExportFormat, snapshot: PanelSnapshot): vscode.Uri | undefined {
  const stamp = snapshot.result.createdAt.replace(/[:.]/g, '-').slice(0, 19);
  const name = `promptscope-${stamp}.${format}`;
  if (snapshot.documentUri) {
    const doc = vscode.Uri.parse(snapshot.documentUri);
    if (doc.scheme === 'file' || doc.scheme === 'vscode-remote') return vscode.Uri.joinPath(doc, '..', name);
  }
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  return folder ? vscode.Uri.joinPath(folder, name) : undefined;
}

/** Asks where to save and writes the file; returns the written uri, or undefined when cancelled. */
export async function exportWithDialog(format: ExportFormat, snapshot: PanelSnapshot, view: PanelView): Promise<vscode.Uri | undefined> {
  const target = await vscode.window.showSaveDialog({
    defaultUri: defaultUri(format, snapshot),
    filters: FILTERS[format],
    saveLabel: `Export ${format.toUpperCase()}`,
  });
  if (!target) return undefined;
  await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(exportContent(format, snapshot, view)));
  return target;
}
