"use client";

import { useEffect, useEffectEvent, useRef, useState, type KeyboardEvent } from "react";
import { FitAddon } from "@xterm/addon-fit";
import { WebLinksAddon } from "@xterm/addon-web-links";
import type { SearchAddon } from "@xterm/addon-search";
import { Terminal, type IDisposable } from "@xterm/xterm";
import "@xterm/xterm/css/xterm.css";
import { DARK, LIGHT } from "@/lib/terminalTheme";
import {
  ackMessage,
  isFinalClose,
  listTerminals,
  parseServerMessage,
  resizeMessage,
  terminalSocketUrl,
  type ConnectionState,
  type TerminalViewProps,
} from "@/lib/terminals";

/** Unacknowledged output after which an ack goes out at once (the server pauses near 100 KB). */
const ACK_EAGER_BYTES = 32 * 1024;
const ACK_DELAY_MS = 20;
const RETRY_MIN_MS = 500;
/** Output rate past which the WebGL renderer is worth loading. */
const WEBGL_AFTER_BYTES_PER_S = 256 * 1024;
const RETRY_MAX_MS = 10_000;

function hasWebgl2(): boolean {
  try {
    return document.createElement("canvas").getContext("webgl2") !== null;
  } catch {
    return false;
  }
}

function note(text: string): string {
  return `\r\n\x1b[2m${text}\x1b[0m\r\n`;
}

/**
 * One terminal: xterm.js attached to the terminal's WebSocket (CONTRACT.md).
 * Output arrives as binary frames and is acknowledged after xterm has
 * processed it (the write callback), so the server can hold back a flood.
 * Rendering starts with xterm's DOM renderer and moves to WebGL once output
 * is heavy. A dropped connection is retried with backoff until the terminal is known
 * to be gone; each new connection starts from the server's replay, so the
 * screen is reset first. Copy on selection or Ctrl+Shift+C; paste with
 * Ctrl+Shift+V or a right click (which copies instead when text is
 * selected); Ctrl+Shift+F searches the scrollback. Every listener, timer,
 * observer and socket is released on unmount.
 */
export function TerminalView({ workspaceId, terminalId, visible, autoFocus, onState, onCommand, onNotice }: TerminalViewProps) {
  const host = useRef<HTMLDivElement>(null);
  const controls = useRef<{ fit: () => void; focus: () => void; find: (query: string, back: boolean) => void } | null>(null);
  const [searching, setSearching] = useState(false);
  const [query, setQuery] = useState("");
  const searchInput = useRef<HTMLInputElement>(null);

  const stateChanged = useEffectEvent((state: ConnectionState) => onState(state));
  const commanded = useEffectEvent(() => onCommand());
  const noticed = useEffectEvent((message: string) => onNotice(message));
  const openSearch = useEffectEvent(() => {
    setSearching(true);
    window.setTimeout(() => searchInput.current?.select(), 0);
  });

  useEffect(() => {
    const element = host.current;
    if (element === null) {
      return;
    }
    const media = window.matchMedia("(prefers-color-scheme: dark)");
    const term = new Terminal({
      allowProposedApi: true,
      cursorBlink: true,
      fontFamily: '"JetBrains Mono", "Cascadia Code", "SF Mono", Menlo, Consolas, "DejaVu Sans Mono", monospace',
      fontSize: 13,
      scrollback: 5000,
      theme: media.matches ? DARK : LIGHT,
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.loadAddon(new WebLinksAddon());
    term.open(element);

    let disposed = false;
    const disposables: IDisposable[] = [];
    const cleanups: Array<() => void> = [];

    // xterm's DOM renderer first: it starts at once and needs nothing more.
    // When output gets heavy (a flood, a long build log), switch to the
    // WebGL renderer, where it pays off, if the browser has WebGL2; back to
    // the DOM renderer if the GPU context is lost. The add-on is fetched
    // only then.
    let webglState: "off" | "loading" | "on" = hasWebgl2() ? "off" : "on";
    let burst = { since: 0, bytes: 0 };
    const useWebgl = () => {
      webglState = "loading";
      void import("@xterm/addon-webgl")
        .then(({ WebglAddon }) => {
          if (disposed) {
            return;
          }
          const webgl = new WebglAddon();
          disposables.push(webgl.onContextLoss(() => webgl.dispose()));
          term.loadAddon(webgl);
          webglState = "on";
        })
        .catch(() => undefined);
    };
    const countOutput = (bytes: number) => {
      if (webglState !== "off") {
        return;
      }
      const now = performance.now();
      if (now - burst.since > 1000) {
        burst = { since: now, bytes: 0 };
      }
      burst.bytes += bytes;
      if (burst.bytes > WEBGL_AFTER_BYTES_PER_S) {
        useWebgl();
      }
    };

    // Unicode 11 character widths (emoji, CJK) matter only once such text
    // shows up: the add-on is loaded then, and output waits for it, in order.
    let unicodeLoading: Promise<void> | null = null;
    let unicodeOn = false;
    const print = (bytes: Uint8Array, done: () => void) => {
      if (!unicodeOn && unicodeLoading === null && bytes.some((byte) => byte >= 0x80)) {
        unicodeLoading = import("@xterm/addon-unicode11")
          .then(({ Unicode11Addon }) => {
            if (!disposed) {
              term.loadAddon(new Unicode11Addon());
              term.unicode.activeVersion = "11";
            }
          })
          .catch(() => undefined)
          .finally(() => {
            unicodeOn = true;
          });
      }
      if (unicodeLoading !== null && !unicodeOn) {
        void unicodeLoading.then(() => !disposed && term.write(bytes, done));
      } else {
        term.write(bytes, done);
      }
    };

    // The search add-on, loaded on the first search.
    let search: Promise<SearchAddon> | null = null;
    const searcher = () => {
      search ??= import("@xterm/addon-search").then(({ SearchAddon: Addon }) => {
        const addon = new Addon();
        term.loadAddon(addon);
        return addon;
      });
      return search;
    };

    const safeFit = () => {
      if (!disposed && element.clientWidth > 0 && element.clientHeight > 0) {
        try {
          fit.fit();
        } catch {
          // Not measurable yet (hidden); the next resize fits it.
        }
      }
    };
    safeFit();
    let frame = 0;
    const observer = new ResizeObserver(() => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(safeFit);
    });
    observer.observe(element);
    cleanups.push(() => {
      observer.disconnect();
      cancelAnimationFrame(frame);
    });

    const onScheme = () => {
      term.options.theme = media.matches ? DARK : LIGHT;
    };
    media.addEventListener("change", onScheme);
    cleanups.push(() => media.removeEventListener("change", onScheme));

    // --- Clipboard -------------------------------------------------------
    const copy = (text: string) => {
      if (text !== "") {
        void navigator.clipboard?.writeText(text).catch(() => undefined);
      }
    };
    const paste = () => {
      void navigator.clipboard
        ?.readText()
        .then((text) => {
          if (text !== "") {
            term.paste(text);
          }
        })
        .catch(() => term.write(note("Paste was blocked by the browser; allow clipboard access, or use Ctrl+V.")));
    };
    let copyTimer = 0;
    disposables.push(
      term.onSelectionChange(() => {
        window.clearTimeout(copyTimer);
        copyTimer = window.setTimeout(() => copy(term.getSelection()), 150);
      }),
    );
    cleanups.push(() => window.clearTimeout(copyTimer));
    term.attachCustomKeyEventHandler((event) => {
      if (event.type !== "keydown") {
        return true;
      }
      const chord = event.ctrlKey && event.shiftKey && !event.altKey && !event.metaKey;
      if (chord && event.code === "KeyC") {
        copy(term.getSelection());
        event.preventDefault();
        return false;
      }
      if (chord && event.code === "KeyV") {
        paste();
        event.preventDefault();
        return false;
      }
      if (chord && event.code === "KeyF") {
        event.preventDefault();
        openSearch();
        return false;
      }
      // F6 (move between the IDE's regions) and Ctrl+` (hide the panel) are the page's.
      return event.key !== "F6" && !(event.ctrlKey && event.code === "Backquote");
    });
    const onContextMenu = (event: MouseEvent) => {
      event.preventDefault();
      if (term.hasSelection()) {
        copy(term.getSelection());
        term.clearSelection();
      } else {
        paste();
      }
    };
    element.addEventListener("contextmenu", onContextMenu);
    cleanups.push(() => element.removeEventListener("contextmenu", onContextMenu));

    // --- Connection ----------------------------------------------------
    const encoder = new TextEncoder();
    let socket: WebSocket | null = null;
    let final = false;
    let attempt = 0;
    let connectedBefore = false;
    let retryTimer = 0;

    const send = (data: string | Uint8Array) => {
      if (socket !== null && socket.readyState === WebSocket.OPEN) {
        socket.send(data);
      }
    };
    const finish = (state: ConnectionState, text: string | null) => {
      final = true;
      window.clearTimeout(retryTimer);
      if (text !== null) {
        term.write(note(text));
      }
      stateChanged(state);
      socket?.close(1000);
    };

    const connect = () => {
      if (disposed || final) {
        return;
      }
      stateChanged(attempt === 0 && !connectedBefore ? { kind: "connecting" } : { kind: "reconnecting", attempt, at: Date.now() });
      const ws = new WebSocket(terminalSocketUrl(workspaceId, terminalId));
      ws.binaryType = "arraybuffer";
      socket = ws;
      // Acknowledgements count this connection's output only.
      let rendered = 0;
      let acked = 0;
      let ackTimer = 0;
      const ack = () => {
        window.clearTimeout(ackTimer);
        ackTimer = 0;
        if (rendered > acked && ws.readyState === WebSocket.OPEN) {
          ws.send(ackMessage(rendered));
          acked = rendered;
        }
      };

      ws.onopen = () => {
        if (connectedBefore) {
          // The server replays its recent output first: start from a clean screen.
          term.reset();
        }
        connectedBefore = true;
        attempt = 0;
        stateChanged({ kind: "open" });
        ws.send(resizeMessage(term.cols, term.rows));
      };
      ws.onmessage = (event: MessageEvent<ArrayBuffer | string>) => {
        if (typeof event.data === "string") {
          const message = parseServerMessage(event.data);
          if (final) {
            return;
          }
          if (message.type === "ended") {
            // The server has written why into the output already.
            finish({ kind: "ended", message: message.message ?? "The terminal has ended." }, null);
          } else if (message.type === "exit") {
            const code = message.code === null ? "" : ` with code ${message.code}`;
            finish({ kind: "exited", code: message.code }, `[The shell exited${code}.]`);
          } else if (message.type === "resync") {
            term.reset();
          } else if (message.type === "error" && message.message !== null) {
            noticed(message.message);
          }
          return;
        }
        const bytes = new Uint8Array(event.data);
        countOutput(bytes.length);
        print(bytes, () => {
          rendered += bytes.length;
          if (rendered - acked >= ACK_EAGER_BYTES) {
            ack();
          } else if (ackTimer === 0) {
            ackTimer = window.setTimeout(ack, ACK_DELAY_MS);
          }
        });
      };
      ws.onclose = (event) => {
        window.clearTimeout(ackTimer);
        if (socket !== ws) {
          return;
        }
        socket = null;
        if (disposed || final) {
          return;
        }
        if (isFinalClose(event.code)) {
          const text = event.reason || "The server closed this terminal.";
          finish({ kind: "ended", message: text }, `[${text}]`);
          return;
        }
        void retry();
      };
    };

    const retry = async () => {
      // Gone for good (ended with its sandbox, or its grace period passed)?
      const listed = await listTerminals(workspaceId);
      if (disposed || final) {
        return;
      }
      if (listed.kind === "ok" && !listed.terminals.some((item) => item.id === terminalId && !item.exited)) {
        finish({ kind: "ended", message: "This terminal has ended." }, "[This terminal has ended.]");
        return;
      }
      attempt += 1;
      const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** (attempt - 1)) * (0.8 + Math.random() * 0.4);
      stateChanged({ kind: "reconnecting", attempt, at: Date.now() + delay });
      retryTimer = window.setTimeout(connect, delay);
    };
    const onOnline = () => {
      if (socket === null && !final && !disposed) {
        window.clearTimeout(retryTimer);
        connect();
      }
    };
    window.addEventListener("online", onOnline);
    cleanups.push(() => window.removeEventListener("online", onOnline));

    disposables.push(
      term.onData((data) => {
        send(encoder.encode(data));
        if (data.includes("\r")) {
          commanded();
        }
      }),
      term.onBinary((data) => send(Uint8Array.from(data, (char) => char.charCodeAt(0) & 0xff))),
      term.onResize(({ cols, rows }) => send(resizeMessage(cols, rows))),
    );

    controls.current = {
      fit: safeFit,
      focus: () => term.focus(),
      find: (text, back) => {
        void searcher().then((addon) => {
          const options = { decorations: { matchOverviewRuler: "#d29922", activeMatchColorOverviewRuler: "#58a6ff" } };
          if (back) {
            addon.findPrevious(text, options);
          } else {
            addon.findNext(text, options);
          }
        });
      },
    };
    connect();

    return () => {
      disposed = true;
      controls.current = null;
      window.clearTimeout(retryTimer);
      const open = socket;
      socket = null;
      open?.close(1000);
      for (const cleanup of cleanups) {
        cleanup();
      }
      for (const disposable of disposables) {
        disposable.dispose();
      }
      term.dispose();
    };
  }, [workspaceId, terminalId]);

  // Fit when shown (a hidden terminal cannot measure itself); focus when asked.
  const wasVisible = useRef(false);
  useEffect(() => {
    if (visible) {
      controls.current?.fit();
      if (wasVisible.current || autoFocus) {
        controls.current?.focus();
      }
    }
    wasVisible.current = visible;
  }, [visible, autoFocus]);

  function onSearchKey(event: KeyboardEvent<HTMLInputElement>) {
    if (event.key === "Enter") {
      event.preventDefault();
      controls.current?.find(query, event.shiftKey);
    } else if (event.key === "Escape") {
      event.preventDefault();
      setSearching(false);
      controls.current?.focus();
    }
  }

  return (
    <div className={visible ? "relative flex h-full min-h-0 flex-col" : "hidden"}>
      {searching && (
        <div className="flex items-center gap-2 border-b border-line bg-surface-muted px-2 py-1 text-xs">
          <label htmlFor={`term-search-${terminalId}`} className="text-fg-muted">
            Find
          </label>
          <input
            id={`term-search-${terminalId}`}
            ref={searchInput}
            className="input max-w-64 py-1 text-xs"
            value={query}
            onChange={(event) => setQuery(event.target.value)}
            onKeyDown={onSearchKey}
            placeholder="Enter: next, Shift+Enter: previous"
          />
          <button type="button" className="btn-ghost px-2 py-1 text-xs" onClick={() => (setSearching(false), controls.current?.focus())}>
            Close
          </button>
        </div>
      )}
      <div
        ref={host}
        className="terminal-host min-h-0 flex-1"
        data-terminal-id={terminalId}
        aria-label="Terminal"
        role="group"
      />
    </div>
  );
}
