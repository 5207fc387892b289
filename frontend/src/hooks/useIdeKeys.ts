"use client";

import { useEffect, useEffectEvent } from "react";

export type IdeKeyActions = {
  /** Ctrl/Cmd+S. */
  save: () => void;
  /** Ctrl/Cmd+Enter. */
  run: () => void;
  /** Ctrl+`. */
  toggleTerminal: () => void;
  /** F6, or Shift+F6 (`back`). */
  cycleFocus: (back: boolean) => void;
  /** `?`, typed outside any text field, the editor and the terminal. */
  showShortcuts: () => void;
};

/**
 * The IDE's page-wide keys, heard on the window while mounted. Ctrl/Cmd+S
 * always saves (and keeps the browser's "Save page" dialog away); the others
 * act only when the editor or terminal did not handle the key already (it
 * then arrives defaultPrevented). The latest `actions` are used each time.
 */
export function useIdeKeys(actions: IdeKeyActions) {
  const onKey = useEffectEvent((event: KeyboardEvent) => {
    const mod = event.ctrlKey || event.metaKey;
    if (mod && !event.shiftKey && !event.altKey && event.key.toLowerCase() === "s") {
      event.preventDefault();
      actions.save();
    } else if (event.defaultPrevented) {
      return;
    } else if (mod && event.key === "Enter") {
      event.preventDefault();
      actions.run();
    } else if (event.ctrlKey && event.code === "Backquote") {
      event.preventDefault();
      actions.toggleTerminal();
    } else if (event.key === "F6") {
      event.preventDefault();
      actions.cycleFocus(event.shiftKey);
    } else if (event.key === "?" && !mod && !event.altKey && !typing(event.target)) {
      event.preventDefault();
      actions.showShortcuts();
    }
  });
  useEffect(() => {
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
}

/** Whether a key on `target` types text (a field, the editor, the terminal), where `?` is a character. */
function typing(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || target.closest("input, textarea, select, .cm-editor, .xterm") !== null)
  );
}
