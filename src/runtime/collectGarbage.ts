/**
 * A full garbage collection, run before a large model's session that maps the weights opens (exclusive sessions,
 * gradientBackend.ts): the buffers the previous passes left (feeds, masks, logits rows: 40-75 MB after a trust run
 * or integrated gradients at 128 tokens on the Llama-135M shape) would otherwise still be resident while the new
 * session reaches its peak, since V8 collects external memory only past a limit of its own. The collector is
 * reached the way test runners reach it without a command-line flag; without it, nothing is done.
 */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';

let gc: (() => void) | null | undefined;

export function collectGarbage(): void {
  if (gc === undefined) {
    try {
      const exposed = (globalThis as { gc?: () => void }).gc;
      if (typeof exposed === 'function') gc = exposed;
      else {
        v8.setFlagsFromString('--expose-gc');
        gc = vm.runInNewContext('gc') as () => void;
      }
    } catch {
      gc = null;
    }
  }
  gc?.();
}
