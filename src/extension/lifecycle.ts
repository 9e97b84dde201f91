/**
 * Disposal scopes: every subscription, decoration type and child process the extension creates is
 * registered with the object that owns it, so disposing the owner releases everything it made.
 */
export interface IDisposable {
  dispose(): void;
}

export function toDisposable(fn: () => void): IDisposable {
  let done = false;
  return {
    dispose() {
      if (!done) {
        done = true;
        fn();
      }
    },
  };
}

/** Disposes every item even when one throws, then rethrows the first error. */
export function disposeAll(items: Iterable<IDisposable>): void {
  let first: unknown;
  for (const d of items) {
    try {
      d.dispose();
    } catch (err) {
      first ??= err;
    }
  }
  if (first !== undefined) throw first;
}

export abstract class Disposable implements IDisposable {
  private _disposed = false;
  private readonly _toDispose: IDisposable[] = [];

  protected get isDisposed(): boolean {
    return this._disposed;
  }

  /** Ties `value`'s lifetime to this object; registering after disposal disposes it at once. */
  protected _register<T extends IDisposable>(value: T): T {
    if (this._disposed) value.dispose();
    else this._toDispose.push(value);
    return value;
  }

  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
    // Reverse order: later things may depend on earlier ones.
    disposeAll(this._toDispose.splice(0).reverse());
  }
}
