/**
 * The code editor's seam to the language servers, light enough for the
 * first load: a compartment per editor state, and `./support` (with
 * `@codemirror/lsp-client`) imported only once a Python file is shown and
 * the browser is idle, so the editor is interactive first.
 *
 * Until the server is ready, and whenever it is gone, a Python file's
 * compartment holds only a listener that wakes an idle connection on the
 * next edit: the editor works as before, without language features.
 */
import { Compartment, type EditorState, type Extension } from "@codemirror/state";
import { EditorView } from "@codemirror/view";
import { isPython } from "@/lib/editor";
import type { LanguageSupport } from "./support";

const slot = new Compartment();

export type LanguageHookOptions = {
  workspaceId: string | undefined;
  view: () => EditorView | null;
  /** The path the view shows now. */
  shown: () => string | null;
  /** Open a workspace file's tab (go to definition in another file). */
  openFile: (path: string) => void;
};

const SHOW_TIMEOUT_MS = 5000;

export class LanguageHook {
  private support: LanguageSupport | null = null;
  private loading = false;
  private disposed = false;
  private readonly waking: Extension;

  constructor(private readonly options: LanguageHookOptions) {
    this.waking = EditorView.updateListener.of((update) => {
      if (update.docChanged) {
        this.support?.transport.wake();
      }
    });
  }

  private current(path: string): Extension {
    if (!isPython(path) || this.options.workspaceId === undefined) {
      return [];
    }
    return this.support?.ready ? this.support.extensionFor(path) : this.waking;
  }

  /** For a new editor state. */
  extension(path: string): Extension {
    return slot.of(this.current(path));
  }

  /** `state` brought up to date before it is shown (the server may have come or gone meanwhile). */
  refresh(state: EditorState, path: string): EditorState {
    const wanted = this.current(path);
    return slot.get(state) === wanted ? state : state.update({ effects: slot.reconfigure(wanted) }).state;
  }

  /** A file is shown: load the language support the first time a Python file is. */
  shownFile(path: string): void {
    if (this.loading || this.disposed || !isPython(path) || this.options.workspaceId === undefined) {
      return;
    }
    this.loading = true;
    const workspaceId = this.options.workspaceId;
    const load = () => {
      void import("./support").then(({ LanguageSupport }) => {
        if (this.disposed) {
          return;
        }
        this.support = new LanguageSupport(workspaceId, () => this.update(), (target) => this.show(target));
      });
    };
    if ("requestIdleCallback" in window) {
      window.requestIdleCallback(load, { timeout: 2000 });
    } else {
      setTimeout(load, 200);
    }
  }

  private update(): void {
    const view = this.options.view();
    const path = this.options.shown();
    if (view !== null && path !== null) {
      view.dispatch({ effects: slot.reconfigure(this.current(path)) });
    }
  }

  private show(path: string): Promise<EditorView | null> {
    this.options.openFile(path);
    const started = performance.now();
    return new Promise((resolve) => {
      const check = () => {
        const view = this.options.view();
        if (view !== null && this.options.shown() === path && this.support?.client.workspace.getFile(this.uri(path))) {
          resolve(view);
        } else if (performance.now() - started > SHOW_TIMEOUT_MS) {
          resolve(null);
        } else {
          requestAnimationFrame(check);
        }
      };
      check();
    });
  }

  private uri(path: string): string {
    return `file:///app/${path.split("/").map(encodeURIComponent).join("/")}`;
  }

  dispose(): void {
    this.disposed = true;
    this.support?.dispose();
    this.support = null;
  }
}
