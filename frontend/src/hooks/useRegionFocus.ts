"use client";

import { useCallback, type RefObject } from "react";

/** The IDE's panels, in the order F6 visits them. */
export type Region = "tree" | "editor" | "terminal" | "console";
const REGIONS: Region[] = ["tree", "editor", "terminal", "console"];

/** Where F6 lands in each panel. */
const PREFERRED_FOCUS: Record<Region, string> = {
  tree: '[role="treeitem"][tabindex="0"]',
  editor: ".cm-content",
  terminal: ".terminal-surface:not(.hidden) textarea.xterm-helper-textarea",
  // The newest running program's input line, else the pre-filled input (RunConsole marks it).
  console: "[data-console-focus]",
};

/** Marks an element as one of the IDE's regions: spread onto the panel's element. */
export const regionProps = (name: Region) => ({ "data-region": name });

/**
 * Moving the keyboard focus between the IDE's regions (F6 / Shift+F6), as
 * desktop IDEs do. The regions are the elements under `root` marked with
 * `regionProps`; they are looked up when a key is pressed, so panels that
 * come and go (the tree, the terminal) need no bookkeeping. `focusEditor`
 * focuses the editor itself when it shows a file (answers false when it does not).
 */
export function useRegionFocus(root: RefObject<HTMLElement | null>, focusEditor: () => boolean) {
  const element = useCallback((name: Region) => root.current?.querySelector<HTMLElement>(`[data-region="${name}"]`) ?? null, [root]);

  const focusRegion = useCallback(
    (region: Region) => {
      if (region === "editor" && focusEditor()) {
        return;
      }
      const panel = element(region);
      const target =
        panel?.querySelector<HTMLElement>(PREFERRED_FOCUS[region]) ??
        panel?.querySelector<HTMLElement>('[tabindex="0"], textarea, input, button:not([disabled])') ??
        null;
      target?.focus();
    },
    [element, focusEditor],
  );

  /** Focus the next visible region after the one holding the focus (the previous one when `back`). */
  const cycleFocus = useCallback(
    (back: boolean) => {
      const visible = REGIONS.filter((region) => element(region)?.checkVisibility() ?? false);
      const current = visible.findIndex((region) => element(region)?.contains(document.activeElement));
      const next = visible[(current + (back ? -1 : 1) + visible.length) % visible.length];
      if (next !== undefined) {
        focusRegion(next);
      }
    },
    [element, focusRegion],
  );

  return { focusRegion, cycleFocus };
}
