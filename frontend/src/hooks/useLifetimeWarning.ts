"use client";

import { useEffect, useState } from "react";
import type { Sandbox } from "@/api/client";

/** Warned this long before the sandbox's lifetime is over (seconds), most urgent last. */
const MARKS_S = [300, 60] as const;

export type LifetimeWarning = { key: string; text: string };

/** The sentence for `mark` seconds before the end. */
export function lifetimeText(mark: number): string {
  const when = mark >= 120 ? `${mark / 60} minutes` : "1 minute";
  return (
    `The sandbox reaches its lifetime limit in ${when}: running programs and terminals will stop. ` +
    "The next run or terminal starts a new sandbox, with your files kept."
  );
}

/**
 * The warning due now for `sandbox`'s lifetime: from 5 minutes before its
 * `expires_at`, then from 1 minute before; null before that, or when it is
 * not running. Wakes itself at each mark (no polling of its own).
 */
export function useLifetimeWarning(sandbox: Sandbox | null): LifetimeWarning | null {
  const expires = sandbox?.running ? (sandbox.expires_at ?? null) : null;
  // A mark is news only for a sandbox that lives longer than it (not for a 12-second test lifetime).
  const lifetime = expires !== null && sandbox?.started_at != null ? expires - sandbox.started_at : Infinity;
  const [now, setNow] = useState(() => Date.now());

  useEffect(() => {
    if (expires === null) {
      return;
    }
    // The next mark still ahead, and a timer to it.
    const next = MARKS_S.map((mark) => (expires - mark) * 1000).find((at) => at > Date.now());
    if (next === undefined) {
      return;
    }
    const timer = window.setTimeout(() => setNow(Date.now()), next - Date.now() + 50);
    return () => window.clearTimeout(timer);
  }, [expires, now]);

  if (expires === null) {
    return null;
  }
  const left = expires - now / 1000;
  const mark = [...MARKS_S].reverse().find((seconds) => left <= seconds && lifetime > seconds);
  if (mark === undefined || left <= 0) {
    return null;
  }
  return { key: `lifetime:${expires}:${mark}`, text: lifetimeText(mark) };
}
