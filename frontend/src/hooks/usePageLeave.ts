"use client";

import { useEffect, useEffectEvent } from "react";
import { onPageLeave } from "@/lib/pageLeave";

/**
 * Calls the latest `onLeave` when the page is hidden or left, for as long as
 * the component is mounted (lib/pageLeave.ts says when, and why `onLeave`
 * must be safe to call twice). The listeners are added once, not again
 * each time `onLeave` changes.
 */
export function usePageLeave(onLeave: () => void): void {
  const leave = useEffectEvent(onLeave);
  useEffect(() => onPageLeave(() => leave()), []);
}
