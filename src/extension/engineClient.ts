/**
 * Client side of the inference process. The process (dist/inference.js) is forked lazily on the first call,
 * so activating the extension loads neither a model nor onnxruntime. Calls carry ids; progress and
 * cancellation are messages of their own; when the process exits every pending call is rejected and the
 * next call forks a fresh process.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as os from 'node:os';
import type {
  EngineCall,
  EngineErrorCode,
  EngineErrorInfo,
  EngineReply,
  FromEngine,
  ToEngine,
} from '../core/engineProtocol';
import { Disposable, toDisposable } from './lifecycle';

/** A failed call. `code` is the engine's code, or 'crashed' when the process died under the call. */
export class EngineCallError extends Error {
  constructor(
    readonly code: EngineErrorCode | 'crashed',
    message: string,
    readonly details?: Record<string, number | string>,
  ) {
    super(message);
    this.name = 'EngineCallError';
  }
}

export interface CallOptions {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number, message?: string) => void;
  /** Explain calls: each partial result as it arrives (not yet validated: the caller parses it). */
  onPartial?: (value: unknown) => void;
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  onProgress?: CallOptions['onProgress'];
  onPartial?: CallOptions['onPartial'];
  /** Set once the caller gave up; a late reply is then only counted, never delivered. */
  cancelled: boolean;
}

export interface EngineClientStats {
  processesStarted: number;
  crashes: number;
  /** Calls the engine itself confirmed as stopped after a cancel message (proof that work stopped). */
  cancelsConfirmed: number;
  /** Calls that completed anyway after the caller cancelled. */
  completedAfterCancel: number;
  /** Calls made (every op). */
  calls: number;
}

export interface EngineClientOptions {
  /** Absolute path of the bundled inference entry (dist/inference.js). */
  modulePath: string;
  /** Extra environment for the process, e.g. the model cache folder; a function is read at each start. */
  env?: Record<string, string> | (() => Record<string, string>);
  /** Called when the process dies unexpectedly (not on dispose). */
  onCrash?: (info: { code: number | null; signal: NodeJS.Signals | null; stderrTail: string }) => void;
  /** Lines the process writes to stderr/stdout (for an output channel). */
  onLog?: (line: string) => void;
}

export class EngineClient extends Disposable {
  private child: ChildProcess | undefined;
  private ready: Promise<ChildProcess> | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private stderrTail = '';
  readonly stats: EngineClientStats = { processesStarted: 0, crashes: 0, cancelsConfirmed: 0, completedAfterCancel: 0, calls: 0 };

  constructor(private readonly options: EngineClientOptions) {
    super();
    this._register(toDisposable(() => this.stop(new EngineCallError('cancelled', 'Promptscope was shut down.'))));
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  call<C extends EngineCall>(call: C, options: CallOptions = {}): Promise<EngineReply<C>> {
    this.stats.calls++;
    if (this.isDisposed) return Promise.reject(new EngineCallError('cancelled', 'Promptscope was shut down.'));
    const { signal, onProgress, onPartial } = options;
    if (signal?.aborted) return Promise.reject(new EngineCallError('cancelled', 'Cancelled.'));
    const id = this.nextId++;
    return new Promise<EngineReply<C>>((resolve, reject) => {
      const entry: Pending = { resolve: resolve as (v: unknown) => void, reject, onProgress, onPartial, cancelled: false };
      this.pending.set(id, entry);
      const onAbort = () => {
        if (entry.cancelled) return;
        entry.cancelled = true;
        // The caller is released at once; the process is told to stop and its reply is only counted.
        this.post({ type: 'cancel', id });
        reject(new EngineCallError('cancelled', 'Cancelled.'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const cleanup = () => signal?.removeEventListener('abort', onAbort);
      entry.resolve = (v) => {
        cleanup();
        resolve(v as EngineReply<C>);
      };
      entry.reject = (e) => {
        cleanup();
        reject(e);
      };
      this.start().then(
        () => {
          if (!entry.cancelled) this.post({ type: 'call', id, call });
          else this.pending.delete(id);
        },
        (err: Error) => {
          this.pending.delete(id);
          entry.reject(err);
        },
      );
    });
  }

  /** Kills the process (if any); pending calls are rejected with `reason`. The next call starts a new one. */
  stop(reason = new EngineCallError('cancelled', 'The inference process was stopped.')): void {
    const child = this.child;
    this.child = undefined;
    this.ready = undefined;
    this.rejectAll(reason);
    if (child && child.exitCode === null) {
      child.removeAllListeners('exit');
      child.kill();
    }
  }

  private start(): Promise<ChildProcess> {
    if (this.ready && this.running) return this.ready;
    this.stderrTail = '';
    const child = fork(this.options.modulePath, [], {
      // Inspector flags of the extension host must not be inherited (they would clash on the port).
      execArgv: [],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // Inside Electron (desktop VS Code) process.execPath is the editor binary: run it as plain Node.
      env: {
        // Leave one core to the editor: onnxruntime's worker threads spin and would starve the extension host.
        PROMPTSCOPE_THREADS: String(Math.max(1, os.availableParallelism() - 1)),
        // glibc: a fixed mmap threshold, so that a released onnxruntime session's memory goes back to the system (by
        // default the threshold rises to the largest block freed, up to 32 MB, and later sessions' weights land in a
        // heap that does not shrink: a gradient model's third explain with trust figures peaked 1366 MB instead of 946).
        MALLOC_MMAP_THRESHOLD_: '131072',
        ...process.env,
        ...(typeof this.options.env === 'function' ? this.options.env() : this.options.env),
        ELECTRON_RUN_AS_NODE: '1',
      },
      serialization: 'json',
    });
    this.child = child;
    // Background priority for the same reason; not fatal where the OS refuses.
    try {
      if (child.pid) os.setPriority(child.pid, 10);
    } catch {
      /* ignore */
    }
    this.stats.processesStarted++;
    const log = (chunk: Buffer) => {
      const text = chunk.toString();
      this.stderrTail = (this.stderrTail + text).slice(-4000);
      for (const line of text.split('\n')) if (line.trim()) this.options.onLog?.(line);
    };
    child.stdout?.on('data', log);
    child.stderr?.on('data', log);
    this.ready = new Promise<ChildProcess>((resolve, reject) => {
      const onReadyMessage = (msg: FromEngine) => {
        if (msg?.type === 'ready') resolve(child);
      };
      child.on('message', onReadyMessage);
      child.once('error', (err) => reject(new EngineCallError('crashed', `Could not start the inference process: ${err.message}`)));
      child.once('exit', (code, signal) => {
        reject(new EngineCallError('crashed', this.exitMessage(code, signal)));
        this.onExit(child, code, signal);
      });
    });
    child.on('message', (msg: FromEngine) => this.onMessage(msg));
    return this.ready;
  }

  private onMessage(msg: FromEngine): void {
    if (!msg || typeof msg !== 'object' || msg.type === 'ready') return;
    const entry = this.pending.get(msg.id);
    if (!entry) return;
    if (msg.type === 'progress') {
      if (!entry.cancelled) entry.onProgress?.(msg.done, msg.total, msg.message);
      return;
    }
    if (msg.type === 'partial') {
      if (!entry.cancelled) entry.onPartial?.(msg.value);
      return;
    }
    this.pending.delete(msg.id);
    if (entry.cancelled) {
      if (msg.type === 'error' && msg.error.code === 'cancelled') this.stats.cancelsConfirmed++;
      else this.stats.completedAfterCancel++;
      return;
    }
    if (msg.type === 'result') entry.resolve(msg.value);
    else entry.reject(toCallError(msg.error));
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return; // an old process we already replaced
    this.child = undefined;
    this.ready = undefined;
    if (this.isDisposed) return;
    this.stats.crashes++;
    const message = this.exitMessage(code, signal);
    this.rejectAll(new EngineCallError('crashed', message));
    this.options.onCrash?.({ code, signal, stderrTail: this.stderrTail });
  }

  private exitMessage(code: number | null, signal: NodeJS.Signals | null): string {
    const how = signal ? `signal ${signal}` : `exit code ${code}`;
    return `The Promptscope inference process stopped (${how}).`;
  }

  private rejectAll(err: Error): void {
    const entries = [...this.pending.values()];
    this.pending.clear();
    for (const e of entries) if (!e.cancelled) e.reject(err);
  }

  private post(msg: ToEngine): void {
    const child = this.child;
    if (child?.connected) child.send(msg);
  }
}

function toCallError(info: EngineErrorInfo | undefined): EngineCallError {
  return new EngineCallError(info?.code ?? 'internal', info?.message ?? 'Unknown engine error.', info?.details);
}
