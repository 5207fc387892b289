/**
 * The terminal's clipboard and keys, as an xterm.js add-on: copy on
 * selection or Ctrl+Shift+C; paste with Ctrl+Shift+V or a right click (which
 * copies instead when text is selected); Ctrl+Shift+F asks for the search
 * bar. F6 (move between the IDE's regions) and Ctrl+` (hide the panel) are
 * left to the page. Load it after `terminal.open()`: the right click is
 * heard on the terminal's element.
 */
import type { ITerminalAddon, Terminal } from "@xterm/xterm";
import { DisposableStore, listen, toDisposable } from "./disposables";
import { dimNote } from "./terminalTheme";

/** A selection is copied once it has stopped changing for this long. */
const COPY_AFTER_MS = 150;

export class TerminalClipboardAddon implements ITerminalAddon {
  private readonly store = new DisposableStore();

  /** `onFind`: Ctrl+Shift+F was pressed (open the search bar). */
  constructor(private readonly onFind: () => void) {}

  activate(terminal: Terminal): void {
    const copy = (text: string) => {
      if (text !== "") {
        void navigator.clipboard?.writeText(text).catch(() => undefined);
      }
    };
    const paste = () => {
      void navigator.clipboard
        ?.readText()
        .then((text) => {
          if (text !== "") {
            terminal.paste(text);
          }
        })
        .catch(() => terminal.write(dimNote("Paste was blocked by the browser; allow clipboard access, or use Ctrl+V.")));
    };

    let copyTimer = 0;
    this.store.add(
      terminal.onSelectionChange(() => {
        window.clearTimeout(copyTimer);
        copyTimer = window.setTimeout(() => copy(terminal.getSelection()), COPY_AFTER_MS);
      }),
    );
    this.store.add(toDisposable(() => window.clearTimeout(copyTimer)));

    terminal.attachCustomKeyEventHandler((event) => {
      if (event.type !== "keydown") {
        return true;
      }
      const chord = event.ctrlKey && event.shiftKey && !event.altKey && !event.metaKey;
      const actions: Record<string, () => void> = {
        KeyC: () => copy(terminal.getSelection()),
        KeyV: paste,
        KeyF: this.onFind,
      };
      const action = chord ? actions[event.code] : undefined;
      if (action !== undefined) {
        event.preventDefault();
        action();
        return false;
      }
      return event.key !== "F6" && !(event.ctrlKey && event.code === "Backquote");
    });
    this.store.add(toDisposable(() => terminal.attachCustomKeyEventHandler(() => true)));

    const element = terminal.element;
    if (element !== undefined) {
      this.store.add(
        listen(element, "contextmenu", (event) => {
          event.preventDefault();
          if (terminal.hasSelection()) {
            copy(terminal.getSelection());
            terminal.clearSelection();
          } else {
            paste();
          }
        }),
      );
    }
  }

  dispose(): void {
    this.store.dispose();
  }
}
