"use client";

import { useEffect, useEffectEvent } from "react";

/**
 * Calls `callback` every `ms` milliseconds while the page is visible, and once
 * more when it becomes visible again (a background tab polls nothing).
 * `ms === null` pauses it.
 */
export function useVisibleInterval(callback: () => void, ms: number | null): void {
  const tick = useEffectEvent(callback);
  useEffect(() => {
    if (ms === null) {
      return;
    }
    const visible = () => document.visibilityState === "visible";
    const timer = window.setInterval(() => {
      if (visible()) {
        tick();
      }
    }, ms);
    const onVisibility = () => {
      if (visible()) {
        tick();
      }
    };
    document.addEventListener("visibilitychange", onVisibility);
    return () => {
      window.clearInterval(timer);
      document.removeEventListener("visibilitychange", onVisibility);
    };
  }, [ms]);
}
