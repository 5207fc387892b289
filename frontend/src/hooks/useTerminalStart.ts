"use client";

import { useEffect, useState } from "react";

/** How long after the editor is shown the terminal starts (xterm.js, a socket, maybe a sandbox). */
const TERMINAL_DELAY_MS = 700;
/** The latest the terminal starts when no file shows up. */
const TERMINAL_LATEST_MS = 1500;

/**
 * Whether the terminal is still held back. It starts once the editor is up
 * (`fileShown`), or as soon as it may when no file is open (`noFile`), so it
 * does not compete with the first file for the network: a moment later, when
 * the page is idle, the first keystrokes stay quick, and nobody needs the
 * terminal in that moment. Without either, it starts after 1.5 s anyway.
 */
export function useTerminalStart(fileShown: boolean, noFile: boolean): boolean {
  const [held, setHeld] = useState(true);
  useEffect(() => {
    if (fileShown || noFile) {
      let idle = 0;
      const timer = window.setTimeout(() => {
        idle = window.requestIdleCallback(() => setHeld(false), { timeout: 1000 });
      }, TERMINAL_DELAY_MS);
      return () => {
        window.clearTimeout(timer);
        window.cancelIdleCallback(idle);
      };
    }
    const timer = window.setTimeout(() => setHeld(false), TERMINAL_LATEST_MS);
    return () => window.clearTimeout(timer);
  }, [fileShown, noFile]);
  return held;
}
