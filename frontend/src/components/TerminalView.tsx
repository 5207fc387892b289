"use client";

import { useEffect, useEffectEvent, useRef, useState, type KeyboardEvent } from "react";
import { FitAddon } from "@xterm/addon-fit";
import type { SearchAddon } from "@xterm/addon-search";
import { Terminal } from "@xterm/xterm";
import "@xterm/xterm/css/xterm.css";
import { TerminalClipboardAddon } from "@/lib/terminalClipboardAddon";
import { registerPlaceLinks } from "@/lib/terminalPlaceLinks";
import { TerminalRendererAddon } from "@/lib/terminalRendererAddon";
import { TerminalSocketAddon } from "@/lib/terminalSocketAddon";
import { DARK, LIGHT } from "@/lib/terminalTheme";
import { isDark, onThemeChange } from "@/lib/theme";
import type { ConnectionState, TerminalViewProps } from "@/lib/terminals";

type Controls = {
  fit: () => void;
  focus: () => void;
  find: (query: string, back: boolean) => void;
  /** Print a line of the IDE's own (not the program's), in yellow, after what the terminal shows. */
  announce: (text: string) => void;
};

const SEARCH_DECORATIONS = { decorations: { matchOverviewRuler: "#d29922", activeMatchColorOverviewRuler: "#58a6ff" } };

/**
 * One terminal: xterm.js with its add-ons, attached to the terminal's
 * WebSocket. The add-ons do the work: `TerminalSocketAddon` the connection
 * (acks, resync, reconnect), `TerminalRendererAddon` the renderer,
 * character widths and links, `TerminalClipboardAddon` copy, paste and the terminal's
 * own keys. This component keeps xterm's lifecycle (create, fit to its box,
 * follow the colour scheme, dispose with every add-on on unmount) and the
 * search bar (Ctrl+Shift+F; the search add-on loads on the first search).
 */
export function TerminalView(props: TerminalViewProps) {
  const { workspaceId, terminalId, visible, autoFocus } = props;
  const host = useRef<HTMLDivElement>(null);
  const controls = useRef<Controls | null>(null);
  const [searching, setSearching] = useState(false);
  const [query, setQuery] = useState("");
  const searchInput = useRef<HTMLInputElement>(null);

  const stateChanged = useEffectEvent((state: ConnectionState) => props.onState(state));
  const commanded = useEffectEvent(() => props.onCommand());
  const noticed = useEffectEvent((message: string) => props.onNotice(message));
  const gone = useEffectEvent(() => props.isGone());
  const places = useEffectEvent(() => props.links);
  const openSearch = useEffectEvent(() => {
    setSearching(true);
    window.setTimeout(() => searchInput.current?.select(), 0);
  });

  useEffect(() => {
    const element = host.current;
    if (element === null) {
      return;
    }
    const term = new Terminal({
      allowProposedApi: true,
      cursorBlink: true,
      fontFamily: '"JetBrains Mono", "Cascadia Code", "SF Mono", Menlo, Consolas, "DejaVu Sans Mono", monospace',
      fontSize: 13,
      scrollback: 5000,
      theme: isDark() ? DARK : LIGHT,
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(element);

    let disposed = false;
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
    const stopWatching = onThemeChange(() => {
      term.options.theme = isDark() ? DARK : LIGHT;
    });

    // The search add-on, loaded on the first search.
    let search: Promise<SearchAddon> | null = null;
    const searcher = () =>
      (search ??= import("@xterm/addon-search").then(({ SearchAddon: Addon }) => {
        const addon = new Addon();
        term.loadAddon(addon);
        return addon;
      }));

    const renderer = new TerminalRendererAddon();
    term.loadAddon(renderer);
    const placeLinks = registerPlaceLinks(term, () => places());
    term.loadAddon(new TerminalClipboardAddon(() => openSearch()));
    // Last: its first message tells the server the fitted size.
    term.loadAddon(
      new TerminalSocketAddon({
        workspaceId,
        terminalId,
        onState: (state) => stateChanged(state),
        onCommand: () => commanded(),
        onNotice: (message) => noticed(message),
        isGone: () => gone(),
        write: (bytes, done) => renderer.write(bytes, done),
      }),
    );

    controls.current = {
      fit: safeFit,
      announce: (text) => {
        // Through the renderer, so it comes after output already on its way.
        renderer.write(new TextEncoder().encode(`\r\n\x1b[33m[Sandpit] ${text}\x1b[0m\r\n`), () => undefined);
      },
      focus: () => term.focus(),
      find: (text, back) => {
        void searcher().then((addon) =>
          back ? addon.findPrevious(text, SEARCH_DECORATIONS) : addon.findNext(text, SEARCH_DECORATIONS),
        );
      },
    };

    return () => {
      disposed = true;
      controls.current = null;
      observer.disconnect();
      cancelAnimationFrame(frame);
      stopWatching();
      placeLinks.dispose();
      // Disposes every loaded add-on too: the socket closes, listeners and timers go.
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

  // The sandbox's lifetime is nearly over: say so in the terminal too, once per warning.
  const warned = useRef<string | null>(null);
  const warning = props.warning;
  useEffect(() => {
    if (warning !== null && warned.current !== warning.key) {
      warned.current = warning.key;
      controls.current?.announce(warning.text);
    }
  }, [warning]);

  function closeSearch() {
    setSearching(false);
    controls.current?.focus();
  }

  function onSearchKey(event: KeyboardEvent<HTMLInputElement>) {
    if (event.key === "Enter") {
      event.preventDefault();
      controls.current?.find(query, event.shiftKey);
    } else if (event.key === "Escape") {
      event.preventDefault();
      closeSearch();
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
          <button type="button" className="btn-ghost px-2 py-1 text-xs" onClick={closeSearch}>
            Close
          </button>
        </div>
      )}
      <div ref={host} className="terminal-host min-h-0 flex-1" data-terminal-id={terminalId} aria-label="Terminal" role="group" />
    </div>
  );
}
