"use client";

import { useEffect, useRef, type KeyboardEvent } from "react";
import type { Tab } from "@/hooks/useEditorTabs";
import { baseName } from "@/lib/tree";
import { Icon } from "./Icon";

/**
 * The open files as tabs (WAI-ARIA tabs: arrows move between them, Delete
 * closes the selected one). A dot marks unsaved changes; the × closes
 * (middle click too). The × is for the mouse and hidden from assistive
 * technology: a tab list may hold nothing but tabs.
 */
export function EditorTabs({
  tabs,
  active,
  onSelect,
  onClose,
}: {
  tabs: Tab[];
  active: string | null;
  onSelect: (path: string) => void;
  onClose: (path: string) => void;
}) {
  const list = useRef<HTMLDivElement>(null);
  // The active tab is always in sight, however many are open (opened from the tree, restored, or by a link).
  const count = tabs.length;
  useEffect(() => {
    if (active !== null) {
      list.current
        ?.querySelector<HTMLElement>(`[data-tab="${CSS.escape(active)}"]`)
        ?.scrollIntoView({ block: "nearest", inline: "nearest" });
    }
  }, [active, count]);

  function onKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    const index = tabs.findIndex((tab) => tab.path === active);
    if (event.key === "Delete" && active !== null) {
      event.preventDefault();
      onClose(active);
      return;
    }
    const step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
    if (step === 0 || tabs.length === 0) {
      return;
    }
    event.preventDefault();
    const next = tabs[(index + step + tabs.length) % tabs.length];
    if (next !== undefined) {
      onSelect(next.path);
      event.currentTarget.querySelector<HTMLElement>(`[data-tab="${CSS.escape(next.path)}"]`)?.focus();
    }
  }

  if (tabs.length === 0) {
    return null;
  }
  return (
    <div
      ref={list}
      role="tablist"
      aria-label="Open files"
      onKeyDown={onKeyDown}
      className="flex min-h-9 items-stretch overflow-x-auto border-b border-line bg-surface-muted"
    >
      {tabs.map((tab) => {
        const selected = tab.path === active;
        return (
          <div
            key={tab.path}
            className={`group flex shrink-0 items-center border-r border-line text-[13px] ${
              selected ? "bg-surface text-fg shadow-[inset_0_2px_0_var(--app-accent)]" : "text-fg-muted hover:text-fg"
            }`}
            onAuxClick={(event) => {
              if (event.button === 1) {
                onClose(tab.path);
              }
            }}
          >
            <button
              type="button"
              role="tab"
              data-tab={tab.path}
              aria-selected={selected}
              aria-controls="editor-panel"
              tabIndex={selected ? 0 : -1}
              onClick={() => onSelect(tab.path)}
              title={tab.path}
              aria-keyshortcuts="Delete"
              className="flex items-center gap-1.5 py-1.5 pr-1 pl-3 font-mono"
            >
              {baseName(tab.path)}
              {tab.dirty && <span className="sr-only">(unsaved changes)</span>}
              {tab.saveError !== null && <span className="text-danger" aria-label="(not saved)">!</span>}
            </button>
            <button
              type="button"
              tabIndex={-1}
              aria-hidden="true"
              onClick={() => onClose(tab.path)}
              title={tab.dirty ? "Unsaved changes: close" : "Close"}
              className="mr-1 grid size-5 place-items-center rounded text-fg-muted hover:bg-line hover:text-fg"
            >
              {tab.dirty ? (
                <>
                  <span aria-hidden="true" className="text-accent group-hover:hidden" data-testid="unsaved-marker">
                    ●
                  </span>
                  <span className="hidden group-hover:inline">
                    <Icon name="close" className="size-3.5" />
                  </span>
                </>
              ) : (
                <Icon name="close" className="size-3.5" />
              )}
            </button>
          </div>
        );
      })}
    </div>
  );
}
