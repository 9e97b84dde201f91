/**
 * What activate() returns: a small API for other extensions, the extension-host test suite and the editor
 * benchmark. It exposes state (results, painted tints, panel updates, engine statistics), never internals.
 */
import type * as vscode from 'vscode';
import type { CompareState } from '../core/compareProtocol';
import type { EngineClientStats } from './engineClient';
import type { ExplainOptions, ExplainOutcome } from './explainController';
import type { PanelUpdate } from './panelBridge';
import type { StoredResult } from './resultStore';
import type { AppliedTint, PaintedRange } from './tintRenderer';
import type { AutoExplainStats } from './autoExplain';
import type { PartialState } from '../core/partialResult';

export interface PromptscopeApi {
  /** Milliseconds activate() took. */
  readonly activationMs: number;
  /** Explains in the active editor (selection or paragraph at cursor), like the command, and waits. */
  explain(options?: ExplainOptions): Promise<ExplainOutcome>;
  /** Cancels the running request for a document; true when one was running. */
  cancel(documentUri: string): boolean;
  result(documentUri: string): StoredResult | undefined;
  /** Tints last painted for a document, in document offsets. */
  appliedTints(documentUri: string): AppliedTint[];
  /** Dotted underlines last painted for a document (tokens whose sign differs between variants). */
  unstableSignMarks(documentUri: string): readonly { start: number; end: number; tokenIndex: number }[];
  /** Decoration ranges last painted for a document (a range can cover several tokens). */
  paintedRanges(documentUri: string): PaintedRange[];
  /** Fires with a document URI after its tints were painted. */
  readonly onDidRender: vscode.Event<string>;
  panel(): {
    updates: readonly PanelUpdate[];
    rendered: { resultCreatedAt: string; tokenCount: number } | undefined;
    /** Earlier runs and the comparison last posted to the panel (null: none). */
    compare: CompareState | null | undefined;
  };
  /** createdAt of a document's kept runs, newest first (promptscope.historySize caps them). */
  history(documentUri: string): string[];
  /** What the panel's "Compare with…" control does: compare the shown result with an earlier run (null: stop). */
  compareWith(run: string | null): void;
  engine(): EngineClientStats & { running: boolean; pid: number | undefined };
  lastMessage(): string | undefined;
  /** Progress messages shown for the latest explain request, oldest first. */
  progressMessages(): readonly string[];
  legendText(): string | undefined;
  /** Main-thread stall monitor of the extension host (benchmarks). */
  startStallMonitor(): void;
  stopStallMonitor(): number;
  /** CPU time this process used during the longest stall of the last monitoring. */
  stallCpuMs(): number;
  /** Partial and final results as they were shown, oldest first, with the host's time to show each. */
  liveUpdates(): readonly LiveUpdate[];
  /** Runs promptscope.autoExplain started and how they ended. */
  autoExplain(): AutoExplainStats;
  /** The document range autoExplain would explain again (document offsets), if any. */
  autoExplainRegion(documentUri: string): { start: number; end: number } | undefined;
}

export interface LiveUpdate {
  documentUri: string;
  createdAt: string;
  /** Absent for a final result. */
  partial?: PartialState;
  /** Milliseconds the extension host spent repainting tints, legend and panel for this result. */
  hostMs: number;
  tokens: number;
}
