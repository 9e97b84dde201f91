/** The saliency panel's public API for the rest of the extension. */
import * as vscode from 'vscode';
import { SaliencyPanel, type PanelHost, type SaliencyPanelController } from './saliencyPanel';

export type { PanelHost, SaliencyPanelController } from './saliencyPanel';
export { PANEL_VIEW_TYPE } from '../../core/panelProtocol';

/**
 * Registers the panel's serializer (so a reload restores it) and returns its controller. Call during
 * activate(); the extension needs the activation event `onWebviewPanel:promptscope.saliency`.
 */
export function registerSaliencyPanel(context: vscode.ExtensionContext, host: PanelHost): SaliencyPanelController {
  const controller = new SaliencyPanel(context, host);
  context.subscriptions.push(controller);
  return controller;
}
