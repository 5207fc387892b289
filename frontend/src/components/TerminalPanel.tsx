"use client";

import { lazy, Suspense, useCallback, useEffect, useEffectEvent, useRef, useState } from "react";
import type { LifetimeWarning } from "@/hooks/useLifetimeWarning";
import type { PlaceLinks } from "@/lib/traceback";
import {
  createTerminal,
  deleteTerminal,
  hasEnded,
  listTerminals,
  type ConnectionState,
} from "@/lib/terminals";
import { ErrorMessage } from "./ErrorMessage";
import { LoadingState } from "./LoadingState";

// xterm.js touches the DOM when imported: client only, and only on this page.
// React.lazy, not next/dynamic: the IDE renders only in the browser anyway, and
// next/dynamic's loader would be in the workspace page's first download.
const TerminalView = lazy(() => import("./TerminalView").then((m) => ({ default: m.TerminalView })));

type Tab = { id: string; number: number; state: ConnectionState; focus: boolean };

type PanelState =
  | { kind: "loading" }
  | { kind: "ready" }
  | { kind: "unsupported" }
  | { kind: "failed"; message: string };

const STATE_TEXT: Record<ConnectionState["kind"], string> = {
  connecting: "Connecting…",
  open: "Connected",
  reconnecting: "Reconnecting…",
  exited: "Exited",
  ended: "Ended",
};

function stateDot(state: ConnectionState): string {
  switch (state.kind) {
    case "open":
      return "bg-emerald-500";
    case "connecting":
    case "reconnecting":
      return "bg-amber-500 animate-pulse motion-reduce:animate-none";
    default:
      return "bg-fg-muted";
  }
}

function describe(state: ConnectionState, now: number): string {
  if (state.kind === "reconnecting") {
    const seconds = Math.ceil((state.at - now) / 1000);
    return seconds > 0 ? `Connection lost. Reconnecting in ${seconds} s…` : "Connection lost. Reconnecting…";
  }
  if (state.kind === "exited") {
    return state.code === null ? "The shell exited." : `The shell exited with code ${state.code}.`;
  }
  if (state.kind === "ended") {
    return state.message;
  }
  return STATE_TEXT[state.kind];
}

/**
 * The terminal panel: one tab per terminal of the workspace (terminals live
 * on the server, so a reload finds them again), a button for another, and
 * each tab's connection state. With no terminal yet, the panel starts one.
 * Hidden tabs stay mounted so their sockets and scrollback live on.
 */
export function TerminalPanel({
  workspaceId,
  onCommand,
  onStarted,
  onClose,
  links,
  warning,
  onCount,
}: {
  workspaceId: string;
  /** Places in the output (`File "/app/x.py", line 3`, `x.py:3:5`) become links that open the file there. */
  links: PlaceLinks;
  /** The sandbox's lifetime warning: each open terminal prints it once. */
  warning: LifetimeWarning | null;
  /** How many terminals are open, whenever that changes. */
  onCount: (count: number) => void;
  onCommand: () => void;
  /** A new terminal started (and with it, maybe, the sandbox). Keep it stable: the first load depends on it. */
  onStarted: () => void;
  onClose: () => void;
}) {
  const [panel, setPanel] = useState<PanelState>({ kind: "loading" });
  const [tabs, setTabs] = useState<Tab[]>([]);
  const counted = useEffectEvent((count: number) => onCount(count));
  useEffect(() => counted(tabs.length), [tabs.length]);
  const [active, setActive] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [now, setNow] = useState(() => Date.now());
  const counter = useRef(0);

  const add = useCallback((ids: string[], focus: boolean) => {
    setTabs((current) => {
      const known = new Set(current.map((tab) => tab.id));
      const added = ids
        .filter((id) => !known.has(id))
        .map((id): Tab => ({ id, number: ++counter.current, state: { kind: "connecting" }, focus }));
      return added.length === 0 ? current : [...current, ...added];
    });
  }, []);

  const create = useCallback(
    async (focus: boolean) => {
      setCreating(true);
      setNotice(null);
      const result = await createTerminal(workspaceId);
      setCreating(false);
      if (result.kind === "ok") {
        onStarted();
        const ids = result.terminals.map((terminal) => terminal.id);
        add(ids, focus);
        setActive(ids[0] ?? null);
        setPanel({ kind: "ready" });
      } else if (result.kind === "unsupported") {
        setPanel({ kind: "unsupported" });
      } else {
        setPanel((current) => (current.kind === "ready" ? current : { kind: "failed", message: result.message }));
        setNotice(result.message);
      }
    },
    [workspaceId, add, onStarted],
  );

  const loadTerminals = useCallback(async () => {
    const result = await listTerminals(workspaceId);
    if (result.kind === "unsupported") {
      setPanel({ kind: "unsupported" });
    } else if (result.kind === "failed") {
      setPanel({ kind: "failed", message: result.message });
    } else if (!result.terminals.some((terminal) => !terminal.exited)) {
      await create(false);
    } else {
      // Reattach to the live ones; shells that ended are not brought back.
      const ids = result.terminals.filter((terminal) => !terminal.exited).map((terminal) => terminal.id);
      add(ids, false);
      setActive((current) => current ?? ids[0] ?? null);
      setPanel({ kind: "ready" });
    }
  }, [workspaceId, add, create]);

  // One load at a time: a second one (React's development double effects)
  // could otherwise start a second first terminal.
  const loading = useRef(false);
  const load = useCallback(async () => {
    if (loading.current) {
      return;
    }
    loading.current = true;
    setPanel({ kind: "loading" });
    try {
      await loadTerminals();
    } finally {
      loading.current = false;
    }
  }, [loadTerminals]);
  useEffect(() => {
    void load();
  }, [load]);

  const reconnecting = tabs.some((tab) => tab.state.kind === "reconnecting");
  useEffect(() => {
    if (!reconnecting) {
      return;
    }
    const timer = window.setInterval(() => setNow(Date.now()), 500);
    return () => window.clearInterval(timer);
  }, [reconnecting]);

  const setState = useCallback((id: string, state: ConnectionState) => {
    setTabs((current) => current.map((tab) => (tab.id === id ? { ...tab, state } : tab)));
    setNow(Date.now());
  }, []);

  function close(id: string) {
    const index = tabs.findIndex((tab) => tab.id === id);
    const rest = tabs.filter((tab) => tab.id !== id);
    setTabs(rest);
    if (active === id) {
      setActive(rest[Math.max(0, index - 1)]?.id ?? null);
    }
    void deleteTerminal(workspaceId, id);
  }

  const current = tabs.find((tab) => tab.id === active) ?? null;

  return (
    <section aria-label="Terminals" className="flex h-full min-h-0 flex-col bg-surface">
      <div className="flex items-center gap-1 border-b border-line bg-surface-muted px-1">
        {/* Only tabs in the tab list; each × is for the mouse (Delete on a tab closes it). */}
        <div className="flex items-center gap-1" role="tablist" aria-label="Terminal tabs">
          {tabs.map((tab) => (
            <div
              key={tab.id}
              className={`group flex items-center rounded-t-md text-xs ${tab.id === active ? "bg-surface text-fg" : "text-fg-muted hover:text-fg"}`}
            >
              <button
                type="button"
                role="tab"
                aria-selected={tab.id === active}
                aria-controls={`terminal-${tab.id}`}
                id={`terminal-tab-${tab.id}`}
                onClick={() => {
                  setActive(tab.id);
                  setTabs((list) => list.map((item) => (item.id === tab.id ? { ...item, focus: true } : item)));
                }}
                className="flex items-center gap-2 py-1.5 pl-3 pr-1"
                title={describe(tab.state, now)}
                aria-keyshortcuts="Delete"
                onKeyDown={(event) => {
                  if (event.key === "Delete") {
                    event.preventDefault();
                    close(tab.id);
                  }
                }}
              >
                <span aria-hidden="true" className={`size-2 rounded-full ${stateDot(tab.state)}`} />
                Terminal {tab.number}
                <span className="sr-only">({STATE_TEXT[tab.state.kind]})</span>
              </button>
              <button
                type="button"
                tabIndex={-1}
                aria-hidden="true"
                onClick={() => close(tab.id)}
                className="mr-1 rounded px-1 text-fg-muted hover:bg-line hover:text-fg"
                title="Close terminal (ends its shell)"
              >
                ×
              </button>
            </div>
          ))}
        </div>
        {panel.kind !== "unsupported" && (
          <button
            type="button"
            className="btn-ghost px-2 py-1 text-xs"
            onClick={() => void create(true)}
            disabled={creating}
            aria-label="New terminal"
            title="New terminal"
          >
            + <span className="max-md:sr-only">New terminal</span>
          </button>
        )}
        <span className="ml-auto truncate px-2 text-xs text-fg-muted" role="status" data-testid="terminal-status">
          {current === null ? "" : describe(current.state, now)}
        </span>
        {current !== null && (current.state.kind === "exited" || current.state.kind === "ended") && (
          <button
            type="button"
            className="btn-secondary px-2 py-0.5 text-xs"
            disabled={creating}
            onClick={() => {
              close(current.id);
              void create(true);
            }}
          >
            Restart
          </button>
        )}
        <button
          type="button"
          className="btn-ghost px-2 py-1 text-xs"
          onClick={onClose}
          aria-label="Hide terminals"
          title="Hide terminals (Ctrl+`)"
        >
          ▾
        </button>
      </div>
      {notice !== null && panel.kind === "ready" && (
        <div className="flex items-start gap-2 border-b border-line bg-danger-soft px-3 py-1.5 text-xs text-danger" role="alert">
          <p className="min-w-0 flex-1">{notice}</p>
          <button type="button" onClick={() => setNotice(null)} className="shrink-0 underline">
            Dismiss
          </button>
        </div>
      )}
      <div className="relative min-h-0 flex-1">
        {panel.kind === "loading" && <LoadingState label="Starting a terminal…" className="h-full" />}
        {panel.kind === "unsupported" && (
          <p className="p-4 text-sm text-fg-muted">Terminals are not available on this server yet.</p>
        )}
        {panel.kind === "failed" && tabs.length === 0 && (
          <div className="p-4">
            <ErrorMessage message={panel.message} onRetry={() => void load()} />
          </div>
        )}
        {panel.kind === "ready" && tabs.length === 0 && (
          <div className="grid h-full place-items-center text-sm text-fg-muted">
            <button type="button" className="btn-secondary" onClick={() => void create(true)} disabled={creating}>
              Open a terminal
            </button>
          </div>
        )}
        {tabs.map((tab) => (
          <div
            key={tab.id}
            id={`terminal-${tab.id}`}
            role="tabpanel"
            aria-labelledby={`terminal-tab-${tab.id}`}
            className={tab.id === active ? "terminal-surface absolute inset-0 p-1 pl-2" : "hidden"}
          >
            <Suspense fallback={<LoadingState label="Loading terminal…" className="h-full" />}>
              <TerminalView
                workspaceId={workspaceId}
                terminalId={tab.id}
                visible={tab.id === active}
                autoFocus={tab.focus}
                onState={(state) => setState(tab.id, state)}
                onCommand={onCommand}
                onNotice={setNotice}
                links={links}
                warning={warning}
                isGone={() => hasEnded(workspaceId, tab.id)}
              />
            </Suspense>
          </div>
        ))}
      </div>
    </section>
  );
}
