/**
 * Choosing a model: the current model is the highlighted row (Enter keeps it), and a chosen model is
 * loaded by the inference process with the same checks as an explain run before anything uses or saves
 * it, so that a folder that is not a model is refused with what is wrong.
 */
import * as vscode from 'vscode';
import type { ModelSummary } from '../core/engineProtocol';
import { EngineCallError, type EngineClient } from './engineClient';

export const CHOOSE_FOLDER = 'Choose folder…';
export const ENTER_HUB_ID = 'Hugging Face hub id…';

export interface ModelItem extends vscode.QuickPickItem {
  /** '' = the default bundled model; undefined = choose a folder (or type a hub id, with `hub`). */
  model: string | undefined;
  hub?: true;
}

const HUB_ID = /^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*(@[\w./-]+)?$/;

/** Rows of the model picker and the one to highlight: the current model (the default when none is set). */
export function modelItems(bundled: readonly string[], current: string, downloaded: readonly string[] = []): { items: ModelItem[]; active: number } {
  const items: ModelItem[] = bundled.map((m, i) => ({
    label: m,
    description: m === (current || bundled[0]) ? 'current' : 'bundled',
    model: i === 0 && !current ? '' : m,
  }));
  // Hub models already downloaded: offered like bundled ones (they need no network).
  for (const id of downloaded) items.push({ label: id, description: id === current ? 'current' : 'downloaded', model: id });
  if (current && !bundled.includes(current) && !downloaded.includes(current)) items.unshift({ label: current, description: 'current', model: current });
  items.push({ label: CHOOSE_FOLDER, description: 'a local model in Hugging Face layout (config.json, tokenizer.json, onnx/)', model: undefined });
  items.push({ label: ENTER_HUB_ID, description: 'org/name[@revision] of an ONNX export, downloaded once', model: undefined, hub: true });
  const active = Math.max(0, items.findIndex((i) => i.description === 'current'));
  return { items, active };
}

/** '' = the default bundled model; undefined = cancelled. */
export async function pickModel(bundled: readonly string[], current: string, title: string, downloaded: readonly string[] = []): Promise<string | undefined> {
  const { items, active } = modelItems(bundled, current, downloaded);
  const qp = vscode.window.createQuickPick<ModelItem>();
  qp.title = title;
  qp.items = items;
  qp.activeItems = [items[active]];
  qp.placeholder = 'Enter keeps the current model';
  const pick = await new Promise<ModelItem | undefined>((resolve) => {
    qp.onDidAccept(() => resolve(qp.selectedItems[0] ?? qp.activeItems[0]));
    qp.onDidHide(() => resolve(undefined));
    qp.show();
  });
  qp.dispose();
  if (!pick) return undefined;
  if (pick.model !== undefined) return pick.model;
  if (pick.hub) {
    const id = await vscode.window.showInputBox({
      title: 'Promptscope: Hugging Face hub id',
      placeHolder: 'onnx-community/Qwen2.5-0.5B-Instruct',
      prompt: 'A repository with an ONNX export (onnx/model.onnx); append @revision to pin a branch, tag or commit.',
      validateInput: (v) => (HUB_ID.test(v.trim()) ? undefined : 'Write the id as org/name or org/name@revision.'),
    });
    return id?.trim() || undefined;
  }
  const folder = await vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: false,
    canSelectMany: false,
    openLabel: 'Use this model',
  });
  return folder?.[0]?.fsPath;
}

/**
 * Loads the model in the inference process (what an explain run would do) and returns what it is, or
 * shows one message saying what is wrong and returns undefined.
 */
export async function checkModel(engine: EngineClient, model: string): Promise<ModelSummary | undefined> {
  try {
    // Cancellable, and it shows the download when the model is a hub id used for the first time.
    return await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Promptscope: checking the model “${model || 'default'}”…`, cancellable: true },
      (progress, token) => {
        const controller = new AbortController();
        token.onCancellationRequested(() => controller.abort());
        return engine.call(
          { op: 'describeModel', model: model || undefined },
          { signal: controller.signal, onProgress: (done, total, message) => message && progress.report({ message: total > 0 ? `${message} · ${Math.floor((100 * done) / total)}%` : message }) },
        );
      },
    );
  } catch (err) {
    if (err instanceof EngineCallError && err.code === 'cancelled') return undefined;
    const message = err instanceof EngineCallError || err instanceof Error ? err.message.split('\n')[0] : String(err);
    void vscode.window.showErrorMessage(`Promptscope cannot use “${model}” as a model: ${message}`);
    return undefined;
  }
}
