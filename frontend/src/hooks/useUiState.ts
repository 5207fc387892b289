"use client";

import { useCallback, useEffect, useRef, useState } from "react";
import { rememberActiveFile } from "@/lib/earlyRequests";
import { saveUiState, type UiState } from "@/lib/uiState";
import { usePageLeave } from "./usePageLeave";

const SAVE_DELAY_MS = 800;

/**
 * The workspace's IDE state, saved to the server (`PATCH {ui_state}`) a
 * moment after it last changed, and at once when the page is hidden or left,
 * so a reload restores tabs and layout. Saving is best effort: a failure
 * costs a remembered layout, nothing more, so it is not shown. The active
 * file is also remembered in this browser, for the next visit to ask for it
 * early (lib/earlyRequests.ts).
 *
 * The third element saves a pending change at once (for callers that batch
 * their own changes and must hand them over when the page is left).
 */
export function useUiState(
  workspaceId: string,
  initial: UiState,
): [UiState, (change: (state: UiState) => UiState) => void, () => void] {
  const [state, setState] = useState(initial);
  const latest = useRef(state);
  const pending = useRef(false);
  const timer = useRef<number | undefined>(undefined);

  const flush = useCallback(() => {
    window.clearTimeout(timer.current);
    if (!pending.current) {
      return;
    }
    pending.current = false;
    saveUiState(workspaceId, latest.current);
  }, [workspaceId]);

  const update = useCallback(
    (change: (state: UiState) => UiState) => {
      const next = change(latest.current);
      if (next === latest.current) {
        return;
      }
      latest.current = next;
      setState(next);
      pending.current = true;
      window.clearTimeout(timer.current);
      timer.current = window.setTimeout(flush, SAVE_DELAY_MS);
    },
    [flush],
  );

  useEffect(() => rememberActiveFile(workspaceId, state.active), [workspaceId, state.active]);

  usePageLeave(flush);
  // Leaving the workspace inside the app unmounts it without a page leave.
  useEffect(() => flush, [flush]);

  return [state, update, flush];
}
