/** The webview's side of the VS Code API: typed messages out, state in and out. */
import type { PanelToHost } from '../src/core/panelProtocol';

interface VsCodeWebviewApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeWebviewApi;

// acquireVsCodeApi may be called only once per webview.
const api = acquireVsCodeApi();

export function postToHost(message: PanelToHost): void {
  api.postMessage(message);
}

export function loadState(): unknown {
  return api.getState();
}

export function saveState(state: unknown): void {
  api.setState(state);
}
