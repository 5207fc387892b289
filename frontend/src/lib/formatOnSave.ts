/**
 * Format on save: whether saving a Python file (Ctrl/Cmd+S) first formats
 * it through the language server (ruff format). Off unless chosen; the
 * choice is kept in this browser (localStorage), as the theme is
 * (lib/theme.ts), and made in the shortcuts dialog.
 *
 * Saving never waits on the server for long: after `FORMAT_DEADLINE_MS`
 * the file is saved as it is, and a late answer is dropped.
 */

const KEY = "sandpit.format-on-save";

/** How long a save waits for the formatted text (ruff answers in tens of milliseconds when warm). */
export const FORMAT_DEADLINE_MS = 1000;

export function formatOnSave(): boolean {
  try {
    return window.localStorage.getItem(KEY) === "on";
  } catch {
    return false; // Storage off: the default.
  }
}

export function setFormatOnSave(on: boolean): void {
  try {
    if (on) {
      window.localStorage.setItem(KEY, "on");
    } else {
      window.localStorage.removeItem(KEY);
    }
  } catch {
    // Storage off: nothing to keep it in.
  }
}

/**
 * Runs `work` with a deadline: answers once `work` has finished or failed,
 * or when `ms` have passed, whichever comes first. `work` gets `late()`,
 * which says whether the deadline has passed (then its result must not be
 * applied any more).
 */
export function withDeadline(work: (late: () => boolean) => Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    let over = false;
    const finish = () => {
      if (!over) {
        over = true;
        clearTimeout(timer);
        resolve();
      }
    };
    const timer = setTimeout(finish, ms);
    work(() => over).then(finish, finish);
  });
}
