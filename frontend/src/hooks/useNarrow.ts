"use client";

import { useSyncExternalStore } from "react";

/** Below this width the IDE shows one region at a time (phones, tablets upright). */
const NARROW = "(max-width: 1023.98px)";

function subscribe(onChange: () => void): () => void {
  const media = window.matchMedia(NARROW);
  media.addEventListener("change", onChange);
  return () => media.removeEventListener("change", onChange);
}

/** Whether the window is narrow (under 1024 CSS pixels), following it as it changes. */
export function useNarrow(): boolean {
  return useSyncExternalStore(
    subscribe,
    () => window.matchMedia(NARROW).matches,
    () => false,
  );
}
