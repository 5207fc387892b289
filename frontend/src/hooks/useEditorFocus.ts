"use client";

import { startTransition, useCallback, useEffect, useRef, useState, type RefObject } from "react";
import type { EditorHandle } from "@/lib/editor";
import type { Tab } from "./useEditorTabs";

/**
 * Where the keyboard goes when files open, as desktop editors do: the
 * editor takes the focus for the first file shown (restored from the last
 * visit) and for a file opened from the tree or a link, once it shows it.
 *
 * `onReady` is the editor's `onReady` (it keeps the handle in `editorRef`);
 * `editorReady` turns true after the editor's first paint; `openFile` opens
 * a tab (`openTab`), shows the editor's region (`showEditor`, narrow
 * screens) and focuses the file once shown.
 */
export function useEditorFocus(options: {
  editorRef: RefObject<EditorHandle | null>;
  tabs: readonly Tab[];
  activeTab: Tab | null;
  openTab: (path: string) => void;
  showEditor: () => void;
}): { editorReady: boolean; onReady: (handle: EditorHandle) => void; openFile: (path: string) => void } {
  const { editorRef, tabs, activeTab, openTab, showEditor } = options;
  const [editorReady, setEditorReady] = useState(false);
  const focusedOnce = useRef(false);
  const focusPending = useRef<string | null>(null);

  useEffect(() => {
    if (!editorReady || activeTab === null || activeTab.kind !== "text") {
      return;
    }
    if (!focusedOnce.current || activeTab.path === focusPending.current) {
      focusedOnce.current = true;
      focusPending.current = null;
      editorRef.current?.focus();
    }
  }, [activeTab, editorReady, editorRef]);

  const openFile = useCallback(
    (path: string) => {
      focusPending.current = path;
      showEditor();
      openTab(path);
      if (tabs.some((tab) => tab.path === path && tab.kind === "text")) {
        // Already loaded: focus once the editor shows it (next frame).
        requestAnimationFrame(() => editorRef.current?.focus());
      }
    },
    [tabs, openTab, showEditor, editorRef],
  );

  const onReady = (handle: EditorHandle) => {
    editorRef.current = handle;
    if (!focusedOnce.current && activeTab?.kind === "text") {
      // The file is there from the start (lib/earlyWorkspace.ts): type at once.
      focusedOnce.current = true;
      handle.focus();
    }
    // Not urgent: the editor paints first, then the IDE re-renders.
    startTransition(() => setEditorReady(true));
  };

  return { editorReady, onReady, openFile };
}
