/**
 * Messages between the editor (engine client) and the inference process. Typed request/response with ids;
 * cancellation is a message of its own. Everything is JSON.
 */
import type { ExplainRequest } from './request';
import type { AttributionResult } from './result';
import type { ModelKind } from './modelRunner';

export interface ModelSummary {
  id: string;
  kind: ModelKind;
  architecture: string;
  contextLength: number;
  labels?: string[];
  supportsGradients: boolean;
}

export type EngineCall =
  /**
   * `partials: false`: only the final result is sent (a batch has no view to update while a row runs);
   * `progress: false`: no progress messages either (a batch shows only its first row's, while warming up).
   */
  | { op: 'explain'; request: ExplainRequest; partials?: false; progress?: false }
  /** Loads the model (for `purpose`, default forward; `variant` as in a request) and describes it. */
  | { op: 'describeModel'; model?: string; variant?: ExplainRequest['variant']; purpose?: 'forward' | 'gradients' }
  | { op: 'countTokens'; text: string; model?: string }
  | { op: 'listModels' }
  | { op: 'ping' };

export type EngineReply<C extends EngineCall> = C extends { op: 'explain' }
  ? AttributionResult
  : C extends { op: 'describeModel' }
    ? ModelSummary
    : C extends { op: 'countTokens' }
      ? { tokens: number; contextLength: number }
      : C extends { op: 'listModels' }
        ? { bundled: string[]; /** Hub ids with files in the cache. */ downloaded?: string[]; methods: { name: string; label: string; needsGradients: boolean; needsAttention?: boolean; description: string }[] }
        : { pong: true; pid: number };

/** Host → process. */
export type ToEngine =
  | { type: 'call'; id: number; call: EngineCall }
  | { type: 'cancel'; id: number };

/** Process → host. */
export type FromEngine =
  | { type: 'ready' }
  | { type: 'progress'; id: number; done: number; total: number; message?: string }
  /** An explain call's result so far (an AttributionResult with `partial` set); the final one follows as 'result'. */
  | { type: 'partial'; id: number; value: unknown }
  | { type: 'result'; id: number; value: unknown }
  | { type: 'error'; id: number; error: EngineErrorInfo };

export interface EngineErrorInfo {
  /** Stable code front ends can branch on (e.g. offer truncation for 'too-long'). */
  code: EngineErrorCode;
  message: string;
  /** Extra facts for the message, e.g. { tokens, limit } for 'too-long'. */
  details?: Record<string, number | string>;
}

export type EngineErrorCode =
  | 'empty-input'
  | 'too-long'
  | 'unknown-method'
  | 'bad-target'
  | 'model-load'
  | 'unsupported-model'
  | 'gradients-unsupported'
  | 'attention-unsupported'
  | 'cancelled'
  | 'internal';

/** An error a user can cause: it carries a code and a message that names the cause and the fix. */
export class EngineError extends Error {
  constructor(
    readonly code: EngineErrorCode,
    message: string,
    readonly details?: Record<string, number | string>,
  ) {
    super(message);
    this.name = 'EngineError';
  }
  toInfo(): EngineErrorInfo {
    return { code: this.code, message: this.message, details: this.details };
  }
}
