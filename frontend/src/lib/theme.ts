/**
 * The colour theme: light, dark, or the system's (the default). The choice
 * is kept in this browser (localStorage) and shown as `data-theme` on <html>
 * (absent: the system's), which the CSS tokens and Tailwind's `dark:`
 * variant follow (globals.css). An inline script in the root layout
 * (lib/themeScript.ts) sets it before the first paint, so no page flashes.
 * The editor and the terminal, which colour themselves from script, ask
 * `isDark()` and listen with `onThemeChange`.
 */

export type Theme = "light" | "dark" | "system";

import { THEME_KEY as KEY } from "./themeScript";
const CHANGED = "sandpit-theme";

export function currentTheme(): Theme {
  const value = document.documentElement.dataset.theme;
  return value === "light" || value === "dark" ? value : "system";
}

/** Whether the page shows dark colours now (the choice, else the system's). */
export function isDark(): boolean {
  const theme = currentTheme();
  return theme === "system" ? window.matchMedia("(prefers-color-scheme: dark)").matches : theme === "dark";
}

/** Choose `theme` for this browser, and tell whoever listens. */
export function setTheme(theme: Theme): void {
  if (theme === "system") {
    delete document.documentElement.dataset.theme;
  } else {
    document.documentElement.dataset.theme = theme;
  }
  try {
    if (theme === "system") {
      window.localStorage.removeItem(KEY);
    } else {
      window.localStorage.setItem(KEY, theme);
    }
  } catch {
    // Storage off: the choice lasts as long as the page.
  }
  window.dispatchEvent(new Event(CHANGED));
}

/** Call `listener` when the theme shown may have changed (a choice, or the system's); answers the unsubscribe. */
export function onThemeChange(listener: () => void): () => void {
  const media = window.matchMedia("(prefers-color-scheme: dark)");
  media.addEventListener("change", listener);
  window.addEventListener(CHANGED, listener);
  return () => {
    media.removeEventListener("change", listener);
    window.removeEventListener(CHANGED, listener);
  };
}
