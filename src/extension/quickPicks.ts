/**
 * The interactive choices: Explain Selection With… (method, target, model) and Select Model (bundled models
 * or a local folder in Hugging Face layout). Lists come from the inference process when it answers; the
 * fallbacks keep the pickers usable when it cannot start.
 */
import { AUTO_METHOD, DEFAULT_METHOD } from '../core/methods/defaultMethod';
import * as vscode from 'vscode';
import { PANEL_METHODS } from '../core/panelProtocol';
import type { Granularity, MethodParams, TargetSpec } from '../core/request';
import { readConfig, SECTION } from './config';
import { LAYER_METHODS, layerParamsFor } from './layerSetting';
import type { EngineClient } from './engineClient';
import { checkModel, pickModel } from './modelPicker';
import type { ModelKind } from '../core/modelRunner';

export const FALLBACK_MODELS = ['promptscope-tiny-lm', 'promptscope-tiny-long', 'promptscope-tiny-sentiment'];

interface MethodInfo {
  name: string;
  label: string;
  description: string;
  needsGradients?: boolean;
  needsAttention?: boolean;
}

async function listModels(engine: EngineClient): Promise<{ bundled: string[]; downloaded?: string[]; methods: MethodInfo[] }> {
  try {
    const r = await engine.call({ op: 'listModels' });
    return { bundled: r.bundled.length ? r.bundled : FALLBACK_MODELS, downloaded: r.downloaded, methods: r.methods };
  } catch {
    return { bundled: FALLBACK_MODELS, methods: PANEL_METHODS.map((name) => ({ name, label: name, description: '' })) };
  }
}

export interface ExplainChoice {
  methods: string[];
  target: TargetSpec;
  model?: string;
  params?: MethodParams;
}

/** Methods that perturb features, which may be tokens, words, lines or sentences. */
const FEATURE_METHODS = new Set(['shapley-sampling', 'kernel-shap', 'lime', 'reagent']);

async function pickFeatureUnit(): Promise<Granularity | undefined> {
  const units: { label: Granularity; detail: string }[] = [
    { label: 'token', detail: 'Each token is kept or removed on its own (most passes)' },
    { label: 'word', detail: 'Whole words: a word split into several tokens goes at once' },
    { label: 'line', detail: 'Whole lines: few passes for long prompts' },
    { label: 'sentence', detail: 'Whole sentences: few passes for long prompts' },
  ];
  const pick = await vscode.window.showQuickPick(units, { title: 'Promptscope: what the perturbation methods keep or remove' });
  return pick?.label;
}

/** The block the layer methods read: middle, last or an index (the model's block count is checked by the engine). */
async function pickLayer(current: string): Promise<string | undefined> {
  const items = [
    { label: 'middle', detail: 'The middle block: where inputs are mixed but not yet turned into the answer' },
    { label: 'last', detail: 'The last block: only the predicting position can matter there' },
    { label: 'Block index…', detail: 'A block by its 0-based index' },
  ];
  const pick = await vscode.window.showQuickPick(items, { title: `Promptscope: layer for the layer methods (setting: ${current})` });
  if (!pick) return undefined;
  if (pick.label !== 'Block index…') return pick.label;
  return vscode.window.showInputBox({
    title: 'Promptscope: block index (0-based)',
    value: /^\d+$/.test(current) ? current : '0',
    validateInput: (v) => (/^\d+$/.test(v.trim()) ? undefined : 'A whole number from 0'),
  });
}

export async function pickExplainOptions(engine: EngineClient): Promise<ExplainChoice | undefined> {
  const cfg = readConfig();
  const { bundled, downloaded, methods } = await listModels(engine);

  const methodItems = methods.map((m) => ({
    label: m.name,
    description: [m.label !== m.name ? m.label : undefined, m.needsGradients ? 'gradients' : undefined, m.needsAttention ? 'reads attention' : undefined].filter(Boolean).join(' · ') || undefined,
    detail: m.description || undefined,
    picked: m.name === (cfg.method === AUTO_METHOD ? DEFAULT_METHOD[cfg.model === 'promptscope-tiny-sentiment' ? 'sequence-classifier' : 'causal-lm'] : cfg.method),
  }));
  const pickedMethods = await vscode.window.showQuickPick(methodItems, {
    title: 'Promptscope: methods (the first picked is shown in the tints)',
    canPickMany: true,
    placeHolder: 'Attribution methods to run',
  });
  if (!pickedMethods?.length) return undefined;

  // The model first: the targets on offer (class labels) depend on it.
  const model = await pickModel(bundled, cfg.model, 'Promptscope: model for this run', downloaded);
  if (model === undefined) return undefined;
  const summary = await checkModel(engine, model);
  if (!summary) return undefined;

  const target = await pickTarget(summary.kind, summary.labels ?? []);
  if (!target) return undefined;
  const names = pickedMethods.map((p) => p.label);
  let params: MethodParams | undefined;
  if (names.some((n) => FEATURE_METHODS.has(n))) {
    const features = await pickFeatureUnit();
    if (!features) return undefined;
    params = { features };
  }
  if (names.some((n) => LAYER_METHODS.has(n))) {
    const layer = await pickLayer(cfg.layer);
    if (layer === undefined) return undefined;
    params = { ...params, ...layerParamsFor(names, layer) };
  }
  return { methods: names, target, model: model || undefined, ...(params ? { params } : {}) };
}

/** What a model of this kind can explain: class labels for classifiers, continuations for language models. */
export function targetChoices(kind: ModelKind, labels: readonly string[]) {
  const lm = [
    { label: 'Next token', detail: 'The model’s most likely next token', choice: 'next' },
    { label: 'My own target text…', detail: 'Why this continuation: one row per target token', choice: 'forced' },
    { label: 'Generate N tokens…', detail: 'A greedy continuation, one row per generated token', choice: 'generate' },
    { label: 'Contrastive pair…', detail: 'Why this rather than that: log p(target) − log p(foil)', choice: 'contrastive' },
  ] as const;
  if (kind !== 'sequence-classifier') return [...lm];
  return [
    { label: 'Predicted class', detail: 'The label the classifier gives this text', choice: 'class' as const, classLabel: undefined },
    ...labels.map((l) => ({ label: `Class: ${l}`, detail: 'Why the text does or does not get this label', choice: 'class' as const, classLabel: l })),
  ];
}

async function pickTarget(kind: ModelKind, labels: readonly string[]): Promise<TargetSpec | undefined> {
  const kinds = targetChoices(kind, labels);
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
    case 'class':
      return 'classLabel' in pick && pick.classLabel !== undefined ? { kind: 'class', label: pick.classLabel } : { kind: 'class' };
  }
}

export async function selectModel(engine: EngineClient): Promise<string | undefined> {
  const cfg = readConfig();
  const { bundled, downloaded } = await listModels(engine);
  const model = await pickModel(bundled, cfg.model, 'Promptscope: select model', downloaded);
  if (model === undefined) return undefined;
  // The same checks as loading, before anything is saved.
  if (!(await checkModel(engine, model))) return undefined;
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
