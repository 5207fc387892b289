"use client";

import { useCallback, useEffect, useMemo } from "react";
import { ancestors } from "@/lib/tree";
import type { UiState } from "@/lib/uiState";

/**
 * The file tree's open folders, kept in the saved IDE state (`ui`, changed
 * through `updateUi`), with the active file's folders always opened so the
 * tree shows where it is.
 */
export function useExpandedFolders(ui: UiState, updateUi: (change: (state: UiState) => UiState) => void, active: string | null) {
  const expanded = useMemo(() => new Set(ui.expanded), [ui.expanded]);

  const setExpanded = useCallback(
    (path: string, open: boolean) => {
      updateUi((state) => {
        const has = state.expanded.includes(path);
        if (has === open) {
          return state;
        }
        return { ...state, expanded: open ? [...state.expanded, path] : state.expanded.filter((item) => item !== path) };
      });
    },
    [updateUi],
  );

  useEffect(() => {
    if (active !== null) {
      for (const folder of ancestors(active)) {
        setExpanded(folder, true);
      }
    }
  }, [active, setExpanded]);

  return { expanded, setExpanded };
}
