/**
 * The code editor's seam to the language servers. CodeEditor.tsx gives
 * every state a compartment and imports this module when the user first
 * works in a Python file (types, or clicks or moves the cursor in it), so
 * the page loads no more script than before and a workspace only opened to
 * run code starts no language-server sandbox; this module then imports
 * `./support` (with `@codemirror/lsp-client`) and fills the compartments.
 *
 * Until the server is ready, and whenever it is gone, a Python file's
 * compartment holds only a listener that loads the support (the first
 * time) or wakes an idle connection (later): the editor works as before,
 * without language features.
 */
import type { Compartment, EditorState, Extension, Transaction } from "@codemirror/state";
import { EditorView } from "@codemirror/view";
import { isPython } from "@/lib/editor";
import type { LanguageSupport } from "./support";

export type LanguageHookOptions = {
  workspaceId: string | undefined;
  view: () => EditorView | null;
  /** The path the view shows now. */
  shown: () => string | null;
  /** Open a workspace file's tab (go to definition in another file). */
  openFile: (path: string) => void;
};

/** Whether a transaction is the user's own work in the document (typing, deleting, moving the cursor). */
function isUserWork(tr: Transaction): boolean {
  return tr.isUserEvent("input") || tr.isUserEvent("delete") || tr.isUserEvent("select");
}

export class LanguageHook {
  private support: LanguageSupport | null = null;
  private loading = false;
  private readonly waking: Extension;

  constructor(
    readonly options: LanguageHookOptions,
    readonly slot: Compartment,
  ) {
    this.waking = EditorView.updateListener.of((update) => {
      if (update.transactions.some(isUserWork)) {
        this.engage();
      }
    });
    this.engage();
  }

  /** What a Python file's compartment holds now: the LSP plugin while the server is ready. */
  current(path: string): Extension {
    if (!isPython(path) || this.options.workspaceId === undefined) {
      return [];
    }
    return this.support?.ready ? this.support.extensionFor(path) : this.waking;
  }

  /** For a new editor state. */
  extension(path: string): Extension {
    return this.slot.of(this.current(path));
  }

  /** `state` brought up to date before it is shown (the server may have come or gone meanwhile). */
  refresh(state: EditorState, path: string): EditorState {
    const wanted = this.current(path);
    return this.slot.get(state) === wanted ? state : state.update({ effects: this.slot.reconfigure(wanted) }).state;
  }

  /**
   * Format `path` if the view shows it and the server is ready (format on
   * save); answers once formatted, or unformatted by `deadlineMs` at the latest.
   */
  format(path: string, deadlineMs: number): Promise<void> {
    const view = this.options.view();
    if (this.support === null || view === null || this.options.shown() !== path || !isPython(path)) {
      return Promise.resolve();
    }
    return this.support.format(view, deadlineMs);
  }

  /** Load the support the first time; later, wake an idle connection. */
  private engage(): void {
    if (this.support !== null) {
      this.support.transport.wake();
    } else if (!this.loading && this.options.workspaceId !== undefined) {
      this.loading = true;
      void import("./support").then(({ LanguageSupport }) => {
        if (this.loading) {
          this.support = new LanguageSupport(this);
        }
      });
    }
  }

  dispose(): void {
    this.loading = false;
    this.support?.dispose();
    this.support = null;
  }
}
