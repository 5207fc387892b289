"use client";

import { useCallback, useEffect, useLayoutEffect, useRef, useState, type RefObject } from "react";
import type { FileEntry } from "@/api/client";
import type { EditorHandle } from "@/lib/editor";
import { peekEarlyFile, takeEarlyFile } from "@/lib/earlyWorkspace";
import { readFile, writeFile } from "@/lib/files";
import { isWithin, renamedPath } from "@/lib/tree";

const AUTOSAVE_MS = 1000;

export type Tab = {
  path: string;
  kind: "loading" | "text" | "binary" | "error";
  /** Content as last read from the server (text tabs); `revision` changes when it is replaced. */
  text: string;
  revision: number;
  bytes: ArrayBuffer | null;
  error: string | null;
  dirty: boolean;
  saving: boolean;
  saveError: string | null;
  /** The file's mtime when last read or saved, to notice changes made by code. */
  mtime: number | null;
};

let revisions = 0;

const newTab = (path: string, mtime: number | null): Tab => ({
  path,
  kind: "loading",
  text: "",
  revision: 0,
  bytes: null,
  error: null,
  dirty: false,
  saving: false,
  saveError: null,
  mtime,
});

/** The saved tabs that still exist (else main.py or the first top-level .py file), and the active one. */
function restoredTabs(entries: readonly FileEntry[], initial: { tabs: string[]; active: string | null }) {
  const files = new Set(entries.filter((entry) => entry.kind === "file").map((entry) => entry.path));
  let paths = initial.tabs.filter((path) => files.has(path));
  if (paths.length === 0) {
    const first = ["main.py", ...[...files].filter((path) => !path.includes("/") && path.endsWith(".py")).sort()];
    paths = first.filter((path) => files.has(path)).slice(0, 1);
  }
  const active = initial.active !== null && paths.includes(initial.active) ? initial.active : (paths[0] ?? null);
  return { paths, active };
}

/**
 * Open files: loading them, saving (Ctrl+S, and autosave a second after the
 * last edit), dirty markers, following renames and deletions, and reloading
 * a clean tab when code changed its file on disk. The text being edited
 * lives in the editor (`editor` ref); tabs hold what the server last had.
 */
export function useEditorTabs(
  workspaceId: string,
  editor: RefObject<EditorHandle | null>,
  entries: readonly FileEntry[],
  initial: { tabs: string[]; active: string | null },
) {
  const mtimeOf = useCallback(
    (path: string) => entries.find((entry) => entry.path === path)?.mtime ?? null,
    [entries],
  );
  // The saved tabs are there from the first render; a file the page has
  // already read (lib/earlyWorkspace.ts) is shown at once, the others load.
  const [restore] = useState(() => restoredTabs(entries, initial));
  const [tabs, setTabs] = useState<Tab[]>(() =>
    restore.paths.map((path) => {
      const early = peekEarlyFile(workspaceId, path);
      const tab = newTab(path, mtimeOf(path));
      return early?.ok && early.content.kind === "text"
        ? { ...tab, kind: "text", text: early.content.text, revision: ++revisions }
        : tab;
    }),
  );
  const [active, setActive] = useState<string | null>(restore.active);
  // The tabs as last rendered, for callbacks that run later (a save after a timer).
  const latest = useRef(tabs);
  useLayoutEffect(() => {
    latest.current = tabs;
  });
  const timers = useRef(new Map<string, number>());
  const saveAgain = useRef(new Set<string>());

  const patch = useCallback((path: string, change: Partial<Tab>) => {
    setTabs((current) => current.map((tab) => (tab.path === path ? { ...tab, ...change } : tab)));
  }, []);

  const load = useCallback(
    async (path: string, mtime: number | null) => {
      const result = await (takeEarlyFile(workspaceId, path) ?? readFile(workspaceId, path));
      if (!result.ok) {
        patch(path, { kind: "error", error: result.message });
      } else if (result.content.kind === "text") {
        patch(path, { kind: "text", text: result.content.text, revision: ++revisions, error: null, dirty: false, mtime });
      } else {
        patch(path, { kind: "binary", bytes: result.content.bytes, error: null, mtime });
      }
    },
    [workspaceId, patch],
  );

  /** Open `path` in a tab (or switch to it). */
  const open = useCallback(
    (path: string) => {
      setActive(path);
      if (latest.current.some((tab) => tab.path === path)) {
        return;
      }
      const tab = newTab(path, null);
      setTabs((current) => (current.some((item) => item.path === path) ? current : [...current, tab]));
      void load(path, mtimeOf(path));
    },
    [load, mtimeOf],
  );

  // Load the restored tabs still loading, the active one first so it shows soonest.
  const restored = useRef(false);
  useEffect(() => {
    if (restored.current) {
      return;
    }
    restored.current = true;
    const order = [...latest.current].sort((a, b) => Number(b.path === restore.active) - Number(a.path === restore.active));
    for (const tab of order) {
      if (tab.kind === "loading") {
        void load(tab.path, tab.mtime);
      } else {
        takeEarlyFile(workspaceId, tab.path); // shown already: a later reload asks the server
      }
    }
  }, [restore, load, workspaceId]);

  /** Save `path` now. Answers whether what was in the editor is on the server. */
  const save = useCallback(
    async function saveNow(path: string): Promise<boolean> {
      window.clearTimeout(timers.current.get(path));
      timers.current.delete(path);
      const tab = latest.current.find((item) => item.path === path);
      if (tab === undefined || tab.kind !== "text") {
        return true;
      }
      if (tab.saving) {
        saveAgain.current.add(path);
        return true;
      }
      const snapshot = editor.current?.snapshot(path) ?? null;
      if (snapshot === null || (!tab.dirty && tab.saveError === null)) {
        return true;
      }
      patch(path, { saving: true });
      const result = await writeFile(workspaceId, path, snapshot.text, "editor");
      if (result.ok) {
        const stillDirty = editor.current?.markSaved(path, snapshot) ?? false;
        patch(path, { saving: false, saveError: null, dirty: stillDirty, mtime: result.entry.mtime });
      } else {
        patch(path, { saving: false, saveError: result.message });
      }
      if (saveAgain.current.delete(path)) {
        return saveNow(path);
      }
      return result.ok;
    },
    [workspaceId, editor, patch],
  );

  /** From the editor, after every edit. */
  const changed = useCallback(
    (path: string, dirty: boolean) => {
      // Most edits change nothing here (the tab is dirty already): keep the same list then.
      setTabs((current) =>
        current.some((tab) => tab.path === path && tab.dirty !== dirty)
          ? current.map((tab) => (tab.path === path ? { ...tab, dirty } : tab))
          : current,
      );
      window.clearTimeout(timers.current.get(path));
      if (dirty) {
        timers.current.set(path, window.setTimeout(() => void save(path), AUTOSAVE_MS));
      }
    },
    [save],
  );

  /** Close a tab; asks first when it has unsaved changes. */
  const close = useCallback(
    (path: string) => {
      const tab = latest.current.find((item) => item.path === path);
      if (tab?.dirty && !window.confirm(`${path} has unsaved changes. Close it anyway and lose them?`)) {
        return;
      }
      window.clearTimeout(timers.current.get(path));
      const index = latest.current.findIndex((item) => item.path === path);
      const rest = latest.current.filter((item) => item.path !== path);
      setTabs(rest);
      setActive((current) => (current === path ? (rest[Math.min(index, rest.length - 1)]?.path ?? null) : current));
    },
    [],
  );

  /** A file or folder was renamed in the tree: tabs within it follow. */
  const renamed = useCallback(
    (from: string, to: string) => {
      for (const tab of latest.current) {
        if (isWithin(tab.path, from)) {
          editor.current?.rename(tab.path, renamedPath(tab.path, from, to));
        }
      }
      setTabs((current) => current.map((tab) => ({ ...tab, path: renamedPath(tab.path, from, to) })));
      setActive((current) => (current === null ? null : renamedPath(current, from, to)));
    },
    [editor],
  );

  /** A file or folder was deleted in the tree: its tabs close without asking. */
  const deleted = useCallback((path: string) => {
    const rest = latest.current.filter((tab) => !isWithin(tab.path, path));
    setTabs(rest);
    setActive((current) => (current !== null && isWithin(current, path) ? (rest.at(-1)?.path ?? null) : current));
  }, []);

  // A clean tab whose file changed on disk (code wrote it) is reloaded.
  useEffect(() => {
    for (const tab of latest.current) {
      const mtime = mtimeOf(tab.path);
      if (tab.mtime !== null && mtime !== null && mtime > tab.mtime && !tab.dirty && !tab.saving && tab.kind !== "loading") {
        patch(tab.path, { mtime });
        void load(tab.path, mtime);
      }
    }
  }, [entries, mtimeOf, load, patch]);

  // Leaving the page inside the app (a link): save what autosave was waiting for.
  const saveRef = useRef(save);
  useLayoutEffect(() => {
    saveRef.current = save;
  });
  useEffect(() => {
    const pending = timers.current;
    return () => {
      for (const [path, timer] of pending) {
        window.clearTimeout(timer);
        void saveRef.current(path);
      }
      pending.clear();
    };
  }, []);

  const reload = useCallback(
    (path: string) => {
      patch(path, { kind: "loading", error: null });
      void load(path, mtimeOf(path));
    },
    [patch, load, mtimeOf],
  );

  return { tabs, active, setActive, open, close, save, changed, renamed, deleted, reload };
}
