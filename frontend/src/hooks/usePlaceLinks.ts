"use client";

import { useCallback, useEffect, useMemo, useRef, type RefObject } from "react";
import type { EditorHandle } from "@/lib/editor";
import type { Location, PlaceLinks } from "@/lib/traceback";
import type { Tab } from "./useEditorTabs";

/**
 * The links of tracebacks and messages (`File "x.py", line N`, `x.py:N:M`)
 * in the run console and the terminal: `exists` says whether a path is a
 * workspace file; `open` opens its tab (`openFile`) and, once the editor
 * shows it, puts the cursor on the place and highlights its line. The
 * editor is ready to show a place when `editorReady` and the active tab is
 * that file's text.
 */
export function usePlaceLinks(options: {
  editorRef: RefObject<EditorHandle | null>;
  tabs: readonly Tab[];
  activeTab: Tab | null;
  editorReady: boolean;
  fileExists: (path: string) => boolean;
  openFile: (path: string) => void;
}): PlaceLinks {
  const { editorRef, tabs, activeTab, editorReady, fileExists, openFile } = options;
  const pending = useRef<Location | null>(null);

  const open = useCallback(
    (place: Location) => {
      pending.current = place;
      openFile(place.path);
      if (tabs.some((tab) => tab.path === place.path && tab.kind === "text")) {
        // Already loaded: the editor shows it next frame.
        requestAnimationFrame(() => {
          if (pending.current === place) {
            pending.current = null;
            editorRef.current?.reveal(place.path, place.line, place.column);
          }
        });
      }
    },
    [openFile, tabs, editorRef],
  );

  // Still loading when clicked: shown once the editor has the file.
  useEffect(() => {
    const place = pending.current;
    if (place !== null && editorReady && activeTab?.kind === "text" && activeTab.path === place.path) {
      pending.current = null;
      editorRef.current?.reveal(place.path, place.line, place.column);
    }
  }, [activeTab, editorReady, editorRef]);

  return useMemo(() => ({ exists: fileExists, open }), [fileExists, open]);
}
