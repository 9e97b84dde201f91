/**
 * One writer per model folder across processes (the editor and a CLI run may fetch the same model): a lock
 * file holding the writer's pid, created exclusively. A lock whose process is gone is taken over.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CancelledError } from '../../core/modelRunner';

export const LOCK = '.promptscope-hub.lock';

export async function withCacheLock<T>(dir: string, fn: () => Promise<T>, options: { signal?: AbortSignal; onWait?: () => void; pollMs?: number } = {}): Promise<T> {
  fs.mkdirSync(dir, { recursive: true });
  const lock = path.join(dir, LOCK);
  for (let waited = false; ; ) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = readPid(lock);
    if (holder !== undefined && !alive(holder)) {
      fs.rmSync(lock, { force: true });
      continue;
    }
    if (!waited) options.onWait?.();
    waited = true;
    await sleep(options.pollMs ?? 250, options.signal);
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : 0;
  } catch {
    return undefined; // removed meanwhile: try again at once
  }
}

function alive(pid: number): boolean {
  if (pid === 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new CancelledError());
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new CancelledError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
