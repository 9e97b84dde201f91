/**
 * The interactive choices: Explain Selection With… (method, target, model) and Select Model (bundled models
 * or a local folder in Hugging Face layout). Lists come from the inference process when it answers; the
 * fallbacks keep the pickers usable when it cannot start.
 */
import * as vscode from 'vscode';
import { PANEL_METHODS } from '../core/panelProtocol';
import type { TargetSpec } from '../core/request';
import { readConfig, SECTION } from './config';
import type { EngineClient } from './engineClient';

export const FALLBACK_MODELS = ['promptscope-tiny-lm', 'promptscope-tiny-sentiment'];

interface MethodInfo {
  name: string;
  label: string;
  description: string;
  needsGradients?: boolean;
}

async function listModels(engine: EngineClient): Promise<{ bundled: string[]; methods: MethodInfo[] }> {
  try {
    const r = await engine.call({ op: 'listModels' });
    return { bundled: r.bundled.length ? r.bundled : FALLBACK_MODELS, methods: r.methods };
  } catch {
    return { bundled: FALLBACK_MODELS, methods: PANEL_METHODS.map((name) => ({ name, label: name, description: '' })) };
  }
}

export interface ExplainChoice {
  methods: string[];
  target: TargetSpec;
  model?: string;
}

export async function pickExplainOptions(engine: EngineClient): Promise<ExplainChoice | undefined> {
  const cfg = readConfig();
  const { bundled, methods } = await listModels(engine);

  const methodItems = methods.map((m) => ({
    label: m.name,
    description: [m.label !== m.name ? m.label : undefined, m.needsGradients ? 'gradients' : undefined].filter(Boolean).join(' · ') || undefined,
    detail: m.description || undefined,
    picked: m.name === cfg.method,
  }));
  const pickedMethods = await vscode.window.showQuickPick(methodItems, {
    title: 'Promptscope: methods (the first picked is shown in the tints)',
    canPickMany: true,
    placeHolder: 'Attribution methods to run',
  });
  if (!pickedMethods?.length) return undefined;

  // The model first: the targets on offer (class labels) depend on it.
  const model = await pickModel(bundled, cfg.model, 'Promptscope: model for this run');
  if (model === undefined) return undefined;

  const target = await pickTarget(engine, model);
  if (!target) return undefined;
  return { methods: pickedMethods.map((p) => p.label), target, model: model || undefined };
}

async function pickTarget(engine: EngineClient, model: string): Promise<TargetSpec | undefined> {
  const kinds = [
    { label: 'Next token', detail: 'The model’s most likely next token (or predicted class)', choice: 'next' },
    { label: 'My own target text…', detail: 'Why this continuation: one row per target token', choice: 'forced' },
    { label: 'Generate N tokens…', detail: 'A greedy continuation, one row per generated token', choice: 'generate' },
    { label: 'Contrastive pair…', detail: 'Why this rather than that: log p(target) − log p(foil)', choice: 'contrastive' },
    { label: 'Class label…', detail: 'Classifier models: explain one label', choice: 'class' },
  ] as const;
  const pick = await vscode.window.showQuickPick([...kinds], { title: 'Promptscope: what to explain' });
  if (!pick) return undefined;
  switch (pick.choice) {
    case 'next':
      return { kind: 'next-token' };
    case 'forced': {
      const text = await vscode.window.showInputBox({
        title: 'Promptscope: target text',
        prompt: 'The continuation to explain, exactly as the model would produce it (mind the leading space)',
        value: ' ',
        validateInput: (v) => (v.length ? undefined : 'Enter the target text'),
      });
      return text ? { kind: 'forced', text } : undefined;
    }
    case 'generate': {
      const n = await vscode.window.showInputBox({
        title: 'Promptscope: tokens to generate',
        value: String(readConfig().generateTokens),
        validateInput: (v) => (/^\d+$/.test(v) && +v >= 1 && +v <= 64 ? undefined : 'A whole number from 1 to 64'),
      });
      return n ? { kind: 'generate', tokens: Number(n) } : undefined;
    }
    case 'contrastive': {
      const text = await vscode.window.showInputBox({ title: 'Promptscope: target (what the model should say)', value: ' ' });
      if (!text) return undefined;
      const foil = await vscode.window.showInputBox({ title: 'Promptscope: foil (the alternative)', value: ' ' });
      return foil ? { kind: 'contrastive', text, foil } : undefined;
    }
    case 'class': {
      let labels: string[] = [];
      try {
        labels = (await engine.call({ op: 'describeModel', model: model || undefined })).labels ?? [];
      } catch {
        /* fall through to free text */
      }
      const label = labels.length
        ? (await vscode.window.showQuickPick(['(predicted class)', ...labels], { title: 'Promptscope: class label' }))
        : await vscode.window.showInputBox({ title: 'Promptscope: class label (empty: the predicted class)' });
      if (label === undefined) return undefined;
      return { kind: 'class', label: label && label !== '(predicted class)' ? label : undefined };
    }
  }
}

/** '' = the default bundled model; undefined = cancelled. */
async function pickModel(bundled: string[], current: string, title: string): Promise<string | undefined> {
  const CHOOSE = 'Choose folder…';
  const items: vscode.QuickPickItem[] = [
    ...bundled.map((m) => ({ label: m, description: m === (current || bundled[0]) ? 'current' : 'bundled' })),
  ];
  if (current && !bundled.includes(current)) items.unshift({ label: current, description: 'current' });
  items.push({ label: CHOOSE, description: 'a local model in Hugging Face layout (config.json, tokenizer.json, onnx/)' });
  const pick = await vscode.window.showQuickPick(items, { title });
  if (!pick) return undefined;
  if (pick.label !== CHOOSE) return pick.label === bundled[0] && !current ? '' : pick.label;
  const folder = await vscode.window.showOpenDialog({
    canSelectFolders: true,
    canSelectFiles: false,
    canSelectMany: false,
    openLabel: 'Use this model',
  });
  return folder?.[0]?.fsPath;
}

export async function selectModel(engine: EngineClient): Promise<string | undefined> {
  const cfg = readConfig();
  const { bundled } = await listModels(engine);
  const model = await pickModel(bundled, cfg.model, 'Promptscope: select model');
  if (model === undefined) return undefined;
  const c = vscode.workspace.getConfiguration(SECTION);
  const inspect = c.inspect<string>('model');
  const target =
    inspect?.workspaceFolderValue !== undefined || inspect?.workspaceValue !== undefined
      ? vscode.ConfigurationTarget.Workspace
      : vscode.ConfigurationTarget.Global;
  await c.update('model', model, target);
  void vscode.window.showInformationMessage(`Promptscope will use the model “${model || bundled[0]}”.`);
  return model;
}
