/**
 * Host side of the saliency panel: creates or revives the webview, waits for its ready handshake, posts
 * whole snapshots, and turns validated webview requests into PanelHost calls.
 */
import * as vscode from 'vscode';
import type { Granularity, TargetSpec } from '../../core/request';
import type { CompareState } from '../../core/compareProtocol';
import type { AttributionResult } from '../../core/result';
import {
  PANEL_VIEW_TYPE,
  parsePanelMessage,
  parsePanelState,
  revealRange,
  type HostToPanel,
  type PanelSnapshot,
  type PanelToHost,
} from '../../core/panelProtocol';
import { exportWithDialog } from './exportResult';
import { createNonce } from './nonce';
import { renderPanelHtml } from './panelHtml';

export interface PanelHost {
  rerun(change: { method?: string; target?: TargetSpec; granularity?: Granularity; logitLens?: true }): Promise<void>;
  revealToken(documentUri: string, start: number, end: number): void;
  /**
   * After a window reload: take back a restored result when its document still holds its text (tints and
   * Re-run work again); 'stale' when it does not.
   */
  restore?(snapshot: PanelSnapshot): Promise<'live' | 'stale'>;
  /** Explain the document of a stale panel again. */
  explainAgain?(snapshot: PanelSnapshot): void;
  /** Show target row `row` of the result of `documentUri` in the editor tints. */
  selectRow?(documentUri: string, resultCreatedAt: string, row: number): void;
  current(): { documentUri: string; result: AttributionResult; offset: number } | undefined;
  /** Compare the shown result with an earlier run of its document (null: stop comparing). */
  compareWith?(run: string | null): void;
}

export interface SaliencyPanelController extends vscode.Disposable {
  show(): void;
  update(documentUri: string | undefined, result: AttributionResult | undefined, offset: number): void;
  lastRendered(): { resultCreatedAt: string; tokenCount: number } | undefined;
  /** Earlier runs and the chosen comparison for the shown result; posted after each snapshot. */
  updateCompare(state: CompareState | null): void;
  /** The compare state last posted to the webview (the test API reads it). */
  lastCompare(): CompareState | null | undefined;
}

export class SaliencyPanel implements SaliencyPanelController {
  private panel: vscode.WebviewPanel | undefined;
  private panelDisposables: vscode.Disposable[] = [];
  private readonly disposables: vscode.Disposable[] = [];
  private ready = false;
  /** What the panel should show: undefined = ask the host; null = explicitly nothing. */
  private snapshot: PanelSnapshot | null | undefined;
  private rendered: { resultCreatedAt: string; tokenCount: number } | undefined;
  private disposed = false;
  /** The shown snapshot no longer matches its document (restored after a reload). */
  private stale = false;
  private compare: CompareState | null = null;
  private postedCompare: CompareState | null | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly host: PanelHost,
  ) {
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
        // After a window reload the webview restores its own state. The host takes the snapshot back too
        // (validated like any webview message) so that reveal and export keep working on what is shown.
        deserializeWebviewPanel: async (panel, state: unknown) => {
          const restored = parsePanelState(state)?.snapshot;
          this.adopt(panel);
          if (restored && this.snapshot === undefined && !this.host.current()) {
            const status = this.host.restore ? await this.host.restore(restored).catch(() => 'stale' as const) : 'stale';
            if (status === 'stale') {
              this.snapshot = restored;
              this.stale = true;
            }
            this.postSnapshot();
          }
        },
      }),
    );
  }

  show(): void {
    if (this.panel) {
      this.panel.reveal(vscode.ViewColumn.Beside, true);
    } else {
      const panel = vscode.window.createWebviewPanel(
        PANEL_VIEW_TYPE,
        'Promptscope',
        { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
        this.webviewOptions(),
      );
      this.adopt(panel);
    }
    const current = this.host.current();
    if (current) this.update(current.documentUri, current.result, current.offset);
  }

  update(documentUri: string | undefined, result: AttributionResult | undefined, offset: number): void {
    if (!this.panel) return;
    if (!result && this.stale) return; // keep showing the stale result (and its Explain again) until a new one
    this.stale = false;
    this.snapshot = result ? { ...(documentUri !== undefined && { documentUri }), offset, result } : null;
    this.postSnapshot();
  }

  lastRendered(): { resultCreatedAt: string; tokenCount: number } | undefined {
    return this.rendered;
  }

  updateCompare(state: CompareState | null): void {
    this.compare = state;
    this.postCompare();
  }

  lastCompare(): CompareState | null | undefined {
    return this.postedCompare;
  }

  private postCompare(): void {
    if (!this.panel || !this.ready) return;
    // Only about the result the webview shows: a state for another one would be dropped there anyway.
    const state = this.compare && this.snapshot && this.compare.current === this.snapshot.result.createdAt ? this.compare : null;
    // Nothing to take back when the webview shows no comparison (a fresh webview shows none).
    if (state === null && !this.postedCompare) return;
    this.post({ type: 'compare', state });
    this.postedCompare = state;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.panel?.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }

  private webviewOptions(): vscode.WebviewOptions & vscode.WebviewPanelOptions {
    const root = this.context.extensionUri;
    return {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(root, 'dist'), vscode.Uri.joinPath(root, 'media')],
    };
  }

  private adopt(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    this.ready = false;
    panel.iconPath = vscode.Uri.joinPath(this.context.extensionUri, 'media', 'panel-icon.svg');
    panel.webview.options = this.webviewOptions();
    const webview = panel.webview;
    this.panelDisposables.push(
      webview.onDidReceiveMessage((raw) => this.onMessage(raw)),
      panel.onDidDispose(() => {
        this.panel = undefined;
        this.ready = false;
        for (const d of this.panelDisposables.splice(0)) d.dispose();
      }),
    );
    webview.html = renderPanelHtml({
      cspSource: webview.cspSource,
      nonce: createNonce(),
      styleNonce: createNonce(),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'webview.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(this.context.extensionUri, 'media', 'panel.css')).toString(),
    });
  }

  private post(message: HostToPanel): void {
    if (this.panel && this.ready) void this.panel.webview.postMessage(message);
  }

  private postSnapshot(): void {
    if (this.snapshot === undefined) {
      const current = this.host.current();
      if (!current) return; // keep whatever the webview restored from its own state
      this.snapshot = { documentUri: current.documentUri, offset: current.offset, result: current.result };
    }
    this.post({ type: 'snapshot', snapshot: this.snapshot });
    this.postCompare();
    if (this.stale) {
      this.post({
        type: 'status',
        state: 'stale',
        message: 'This result is from before the window was reloaded, and its document no longer holds the explained text (or is not open).',
      });
    }
  }

  private onMessage(raw: unknown): void {
    const msg: PanelToHost | undefined = parsePanelMessage(raw);
    if (!msg) {
      console.warn('Promptscope panel: ignored a malformed message from the webview.');
      return;
    }
    switch (msg.type) {
      case 'ready':
        // Sent by every (re)load of the webview, e.g. when a hidden tab is shown again.
        this.ready = true;
        this.postedCompare = undefined;
        this.postSnapshot();
        return;
      case 'rendered':
        this.rendered = { resultCreatedAt: msg.resultCreatedAt, tokenCount: msg.tokenCount };
        return;
      case 'reveal': {
        const snap = this.snapshot;
        const range = snap ? revealRange(snap, msg) : undefined;
        if (snap?.documentUri && range) this.host.revealToken(snap.documentUri, range.start, range.end);
        return;
      }
      case 'explainAgain':
        if (this.snapshot) this.host.explainAgain?.(this.snapshot);
        return;
      case 'selectRow': {
        const snap = this.snapshot;
        if (snap?.documentUri && msg.row < snap.result.target.rows.length) this.host.selectRow?.(snap.documentUri, snap.result.createdAt, msg.row);
        return;
      }
      case 'rerun':
        this.post({ type: 'status', state: 'running' });
        this.host.rerun(msg.change).then(
          () => this.post({ type: 'status', state: 'idle' }),
          (err: unknown) => this.post({ type: 'status', state: 'error', message: errorText(err) }),
        );
        return;
      case 'export': {
        const snap = this.snapshot;
        if (!snap) return;
        exportWithDialog(msg.format, snap, msg.view).then(
          (uri) => uri && void vscode.window.showInformationMessage(`Promptscope: exported ${msg.format.toUpperCase()} to ${vscode.workspace.asRelativePath(uri)}.`),
          (err: unknown) => void vscode.window.showErrorMessage(`Promptscope: export failed: ${errorText(err)}`),
        );
        return;
      }
      case 'compareWith':
        this.host.compareWith?.(msg.run);
        return;
      case 'rejected':
        console.warn(`Promptscope panel: the webview rejected a message: ${msg.reason}`);
        return;
    }
  }
}

function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 1000);
}
