/**
 * xterm.js's disposable pattern for our own add-ons: every listener, timer
 * and observer an add-on sets up is registered here and released together.
 */
import type { IDisposable } from "@xterm/xterm";

/** A cleanup function as a disposable. */
export function toDisposable(dispose: () => void): IDisposable {
  return { dispose };
}

/** `type` on `target` until disposed. */
export function listen<K extends keyof WindowEventMap>(
  target: Window,
  type: K,
  listener: (event: WindowEventMap[K]) => void,
): IDisposable;
export function listen<K extends keyof HTMLElementEventMap>(
  target: HTMLElement,
  type: K,
  listener: (event: HTMLElementEventMap[K]) => void,
): IDisposable;
export function listen(target: EventTarget, type: string, listener: (event: Event) => void): IDisposable {
  target.addEventListener(type, listener);
  return toDisposable(() => target.removeEventListener(type, listener));
}

/** Disposables released together, last registered first; any added after disposal is released at once. */
export class DisposableStore implements IDisposable {
  private readonly items: IDisposable[] = [];
  private disposed = false;

  get isDisposed(): boolean {
    return this.disposed;
  }

  add<T extends IDisposable>(item: T): T {
    if (this.disposed) {
      item.dispose();
    } else {
      this.items.push(item);
    }
    return item;
  }

  dispose(): void {
    this.disposed = true;
    for (const item of this.items.splice(0).reverse()) {
      item.dispose();
    }
  }
}
