"use client";

import { useCallback, useEffect, useRef } from "react";
import type { UiState } from "@/lib/uiState";
import { usePageLeave } from "./usePageLeave";

const SAVE_AFTER_MS = 1000;

/**
 * Where the cursor is in each file, remembered for the next visit: kept in
 * the workspace's UI state (`updateUi`) a moment after the cursor stops,
 * and at once (with `flushUi`) when the page is hidden or left, so a cursor
 * moved just before a reload is not lost.
 *
 * `onCursor` is the editor's report of a move; `initialCursor` answers
 * where the cursor was in a file when the page was opened (undefined: the start).
 */
export function useCursorMemory(
  initial: Record<string, number>,
  updateUi: (change: (state: UiState) => UiState) => void,
  flushUi: () => void,
): { onCursor: (path: string, offset: number) => void; initialCursor: (path: string) => number | undefined } {
  const timer = useRef(0);
  const cursors = useRef<Record<string, number>>({ ...initial });

  const save = useCallback(() => {
    window.clearTimeout(timer.current);
    timer.current = 0;
    updateUi((state) => ({ ...state, cursors: { ...cursors.current } }));
  }, [updateUi]);

  const onCursor = useCallback(
    (path: string, offset: number) => {
      cursors.current[path] = offset;
      window.clearTimeout(timer.current);
      timer.current = window.setTimeout(save, SAVE_AFTER_MS);
    },
    [save],
  );

  // A cursor moved less than a second before the page is left is saved too.
  usePageLeave(() => {
    if (timer.current !== 0) {
      save();
      flushUi();
    }
  });
  useEffect(() => () => window.clearTimeout(timer.current), []);

  const initialCursor = useCallback((path: string) => initial[path], [initial]);
  return { onCursor, initialCursor };
}
