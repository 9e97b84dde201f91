/**
 * Entry of the long-lived inference process, forked by the editor with an IPC channel (or run with
 * `--stdio` for tools). It owns onnxruntime and every loaded model; the editor only sends JSON calls.
 */
import { EngineError, type FromEngine, type ToEngine } from '../core/engineProtocol';
import { CancelledError } from '../core/modelRunner';
import { Engine } from './engine';

const engine = new Engine({ cacheDir: process.env.PROMPTSCOPE_CACHE_DIR });
const running = new Map<number, AbortController>();

function send(msg: FromEngine): void {
  process.send?.(msg);
}

async function handle(msg: ToEngine): Promise<void> {
  if (msg.type === 'cancel') {
    running.get(msg.id)?.abort();
    return;
  }
  const controller = new AbortController();
  running.set(msg.id, controller);
  try {
    const value = await engine.call(
      msg.call,
      controller.signal,
      (done, total, message) => send({ type: 'progress', id: msg.id, done, total, message }),
      (partial) => send({ type: 'partial', id: msg.id, value: partial }),
    );
    send({ type: 'result', id: msg.id, value });
  } catch (err) {
    if (err instanceof EngineError) send({ type: 'error', id: msg.id, error: err.toInfo() });
    else if (err instanceof CancelledError || controller.signal.aborted)
      send({ type: 'error', id: msg.id, error: { code: 'cancelled', message: 'Cancelled.' } });
    else send({ type: 'error', id: msg.id, error: { code: 'internal', message: String((err as Error)?.stack ?? err) } });
  } finally {
    running.delete(msg.id);
  }
}

if (!process.send) {
  process.stderr.write('The Promptscope inference process must be started by the editor (child_process.fork).\n');
  process.exit(2);
}
process.on('message', (msg: ToEngine) => void handle(msg));
// The editor went away: nothing left to serve.
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
