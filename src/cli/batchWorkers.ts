/**
 * Worker processes of `promptscope batch`: each is the engine's own inference process (dist/inference.js,
 * the one the editor forks), spoken to with the same typed messages, so a batch row is explained exactly as
 * `explain` would explain it.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { EngineCall, EngineErrorInfo, FromEngine, ToEngine } from '../core/engineProtocol';
import type { ExplainRequest } from '../core/request';
import type { AttributionResult } from '../core/result';

export type WorkerReply = { ok: true; result: AttributionResult } | { ok: false; error: EngineErrorInfo };

export function inferenceEntry(): string {
  const entry = path.join(__dirname, 'inference.js');
  if (!fs.existsSync(entry)) throw new Error(`The inference process entry ${entry} is missing: run npm run build.`);
  return entry;
}

export class BatchWorker {
  private readonly child: ChildProcess;
  private readonly ready: Promise<void>;
  private pending?: { id: number; resolve: (r: WorkerReply) => void };
  private nextId = 1;
  private exited = false;
  /** Resolves when the process has ended (and been reaped, so that its CPU time counts as the batch's). */
  readonly ended: Promise<void>;

  /**
   * `threads`: onnxruntime intra-op threads of this worker (PROMPTSCOPE_THREADS, when set, overrides it).
   * Workers that each took every core would oversubscribe them, so a batch gives each its share.
   */
  constructor(threads: number | undefined, private readonly onProgress?: (message: string, done: number, total: number) => void) {
    // A fixed glibc mmap threshold, as for the editor's inference process (engineClient.ts): released sessions' memory returns to the system.
    const base = { MALLOC_MMAP_THRESHOLD_: '131072', ...process.env };
    const env = process.env.PROMPTSCOPE_THREADS || threads === undefined ? base : { ...base, PROMPTSCOPE_THREADS: String(threads) };
    this.child = fork(inferenceEntry(), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env });
    this.ready = new Promise((resolve, reject) => {
      this.child.once('error', reject);
      this.child.on('message', (msg: FromEngine) => {
        if (msg.type === 'ready') resolve();
        else if (msg.type === 'progress' && msg.message) this.onProgress?.(msg.message, msg.done, msg.total);
        else if ((msg.type === 'result' || msg.type === 'error') && this.pending?.id === msg.id) {
          const p = this.pending;
          this.pending = undefined;
          p.resolve(msg.type === 'result' ? { ok: true, result: msg.value as AttributionResult } : { ok: false, error: msg.error });
        }
      });
    });
    this.ended = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.child.once('exit', (code, signal) => {
      this.exited = true;
      const p = this.pending;
      this.pending = undefined;
      p?.resolve({ ok: false, error: { code: 'internal', message: `The worker process stopped (${signal ?? `exit code ${code}`}) while explaining this row.` } });
    });
  }

  get alive(): boolean {
    return !this.exited;
  }

  /** `progress`: whether the worker sends progress messages for this row (one IPC message per pass otherwise). */
  explain(request: ExplainRequest, progress = false): Promise<WorkerReply> {
    return this.call({ op: 'explain', request, partials: false, ...(progress ? {} : { progress: false as const }) });
  }

  /** Loads the model a request names (read-only: derived graphs are left to the first row's worker). */
  async load(request: Pick<ExplainRequest, 'model' | 'variant'>, purpose: 'forward' | 'gradients'): Promise<void> {
    // A failed load is not reported here: the worker's first row meets the same error and reports it.
    await this.call({ op: 'describeModel', ...(request.model !== undefined ? { model: request.model } : {}), ...(request.variant ? { variant: request.variant } : {}), purpose });
  }

  private async call(call: EngineCall): Promise<WorkerReply> {
    await this.ready;
    if (this.exited) return { ok: false, error: { code: 'internal', message: 'The worker process had stopped.' } };
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending = { id, resolve };
      const msg: ToEngine = { type: 'call', id, call };
      this.child.send(msg);
    });
  }

  cancel(): void {
    if (this.pending && !this.exited) this.child.send({ type: 'cancel', id: this.pending.id } satisfies ToEngine);
  }

  /** Closing the channel ends the process (it exits on disconnect). */
  close(): void {
    if (!this.exited && this.child.connected) this.child.disconnect();
  }

  kill(): void {
    if (!this.exited) this.child.kill();
  }
}
