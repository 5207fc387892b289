/**
 * How a terminal draws its output, as an xterm.js add-on: xterm's DOM
 * renderer first, as it starts at once and needs nothing more; when output
 * gets heavy (a flood, a long build log) the WebGL renderer, where it pays
 * off, if the browser has WebGL2, and back to the DOM renderer if the GPU
 * context is lost. Unicode 11 character widths (emoji, CJK) matter only once
 * such text shows up: that add-on is loaded then, and output waits for it,
 * in order. Links in the output (URLs) become clickable once the pointer
 * first comes over the terminal, before it can reach one. Each add-on is
 * fetched only when needed. Load this after `terminal.open()`.
 *
 * Output reaches the screen through `write`, which watches it on the way.
 */
import type { ITerminalAddon, Terminal } from "@xterm/xterm";
import { DisposableStore, listen } from "./disposables";

/** Output rate past which the WebGL renderer is worth loading. */
const WEBGL_AFTER_BYTES_PER_S = 256 * 1024;

function hasWebgl2(): boolean {
  try {
    return document.createElement("canvas").getContext("webgl2") !== null;
  } catch {
    return false;
  }
}

export class TerminalRendererAddon implements ITerminalAddon {
  private readonly store = new DisposableStore();
  private terminal: Terminal | null = null;
  /** The WebGL renderer: not loaded (the DOM renderer draws), being fetched, or loaded (or not available). */
  private webgl: "off" | "loading" | "on" = "off";
  private burst = { since: 0, bytes: 0 };
  private unicodeLoading: Promise<void> | null = null;
  private unicodeOn = false;

  activate(terminal: Terminal): void {
    this.terminal = terminal;
    // Without WebGL2 there is nothing to switch to: count it as done.
    this.webgl = hasWebgl2() ? "off" : "on";
    const element = terminal.element;
    if (element !== undefined) {
      const pointer = this.store.add(
        listen(element, "pointerover", () => {
          pointer.dispose();
          void import("@xterm/addon-web-links")
            .then(({ WebLinksAddon }) => !this.store.isDisposed && terminal.loadAddon(new WebLinksAddon()))
            .catch(() => undefined);
        }),
      );
    }
  }

  dispose(): void {
    this.store.dispose();
  }

  /** Writes `bytes` to the terminal, `done` once xterm has processed them (after the Unicode add-on, if it is loading). */
  write(bytes: Uint8Array, done: () => void): void {
    const terminal = this.terminal;
    if (terminal === null) {
      return;
    }
    this.count(bytes.length);
    if (!this.unicodeOn && this.unicodeLoading === null && bytes.some((byte) => byte >= 0x80)) {
      this.unicodeLoading = import("@xterm/addon-unicode11")
        .then(({ Unicode11Addon }) => {
          if (!this.store.isDisposed) {
            terminal.loadAddon(new Unicode11Addon());
            terminal.unicode.activeVersion = "11";
          }
        })
        .catch(() => undefined)
        .finally(() => {
          this.unicodeOn = true;
        });
    }
    if (this.unicodeLoading !== null && !this.unicodeOn) {
      void this.unicodeLoading.then(() => !this.store.isDisposed && terminal.write(bytes, done));
    } else {
      terminal.write(bytes, done);
    }
  }

  /** Counts output per second; past the threshold, switches to WebGL. */
  private count(bytes: number): void {
    if (this.webgl !== "off") {
      return;
    }
    const now = performance.now();
    if (now - this.burst.since > 1000) {
      this.burst = { since: now, bytes: 0 };
    }
    this.burst.bytes += bytes;
    if (this.burst.bytes > WEBGL_AFTER_BYTES_PER_S) {
      this.loadWebgl();
    }
  }

  private loadWebgl(): void {
    this.webgl = "loading";
    void import("@xterm/addon-webgl")
      .then(({ WebglAddon }) => {
        const terminal = this.terminal;
        if (terminal === null || this.store.isDisposed) {
          return;
        }
        const webgl = new WebglAddon();
        this.store.add(webgl.onContextLoss(() => webgl.dispose()));
        terminal.loadAddon(webgl);
        this.webgl = "on";
      })
      .catch(() => undefined);
  }
}
