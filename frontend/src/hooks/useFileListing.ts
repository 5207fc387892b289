"use client";

import { useCallback, useEffect, useRef, useState } from "react";
import type { FileEntry } from "@/api/client";
import { listFiles } from "@/lib/files";
import { useVisibleInterval } from "./useVisibleInterval";

const POLL_MS = 4000;
/** After a command in a terminal: long enough for a quick command to have finished writing. */
const SOON_MS = 1200;

/**
 * The workspace's files, kept fresh: polled every few seconds while the page
 * is visible (files made by a terminal or a run appear without a click), and
 * on demand after the IDE changed something (`refresh`), or a moment after
 * something that may have (`refreshSoon`: a command typed in a terminal).
 * Overlapping refreshes collapse into one, and an answer that arrives
 * after a newer one is dropped.
 */
export function useFileListing(workspaceId: string, initial: FileEntry[]) {
  const [entries, setEntries] = useState(initial);
  const [error, setError] = useState<string | null>(null);
  const generation = useRef(0);

  const refresh = useCallback(async () => {
    const mine = ++generation.current;
    const result = await listFiles(workspaceId);
    if (mine !== generation.current) {
      return;
    }
    if (result.ok) {
      setEntries((current) => (sameListing(current, result.entries) ? current : result.entries));
      setError(null);
    } else {
      setError(result.message);
    }
  }, [workspaceId]);

  useVisibleInterval(() => void refresh(), POLL_MS);

  const soon = useRef(0);
  const refreshSoon = useCallback(() => {
    window.clearTimeout(soon.current);
    soon.current = window.setTimeout(() => void refresh(), SOON_MS);
  }, [refresh]);
  useEffect(() => () => window.clearTimeout(soon.current), []);

  return { entries, error, refresh, refreshSoon };
}

function sameListing(a: readonly FileEntry[], b: readonly FileEntry[]): boolean {
  return (
    a.length === b.length &&
    a.every((entry, i) => {
      const other = b[i];
      return (
        other !== undefined &&
        entry.path === other.path &&
        entry.kind === other.kind &&
        entry.size === other.size &&
        entry.mtime === other.mtime
      );
    })
  );
}
