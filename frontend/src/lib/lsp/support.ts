/**
 * The editor's language features (loaded on demand by ./hook.ts): one
 * `LSPClient` per workspace over `LspTransport`, completion with
 * documentation, hover, signature help, diagnostics with quick fixes,
 * go to definition (F12, into other files too), rename (F2), find
 * references (Shift-F12) and format document (Shift-Alt-F, ruff format).
 */
import {
  formatKeymap,
  hoverTooltips,
  jumpToDefinitionKeymap,
  findReferencesKeymap,
  LSPClient,
  LSPPlugin,
  renameKeymap,
  serverCompletion,
  signatureHelp,
  Workspace,
  type WorkspaceFile,
} from "@codemirror/lsp-client";
import { getIndentUnit, indentUnit } from "@codemirror/language";
import type { Extension, Text } from "@codemirror/state";
import { type EditorView, keymap } from "@codemirror/view";

type WorkspaceFileUpdate = ReturnType<Workspace["syncFiles"]>[number];
type Position = { line: number; character: number };
type TextEdit = { range: { start: Position; end: Position }; newText: string };
import { withDeadline } from "@/lib/formatOnSave";
import { diagnosticsWithFixes } from "./diagnostics";
import { sanitizeHtml } from "./sanitize";
import type { LanguageHook } from "./hook";
import { type LspState, LspTransport, lspSocketUrl } from "./transport";

const SHOW_TIMEOUT_MS = 5000;

export const ROOT_URI = "file:///app";

export function uriOf(path: string): string {
  return `${ROOT_URI}/${path.split("/").map(encodeURIComponent).join("/")}`;
}

export function pathOf(uri: string): string | null {
  return uri.startsWith(`${ROOT_URI}/`) ? uri.slice(ROOT_URI.length + 1).split("/").map(decodeURIComponent).join("/") : null;
}

class OpenFile implements WorkspaceFile {
  constructor(
    readonly uri: string,
    readonly languageId: string,
    public version: number,
    public doc: Text,
    readonly view: EditorView,
  ) {}

  getView(): EditorView {
    return this.view;
  }
}

/**
 * The IDE shows one file at a time in one view, so a file is open in the
 * server while it is shown (the stock workspace's rule), and `displayFile`
 * asks the IDE to open another file's tab, then hands back the view once
 * it shows that file.
 */
class IdeWorkspace extends Workspace {
  files: OpenFile[] = [];
  private versions = new Map<string, number>();

  constructor(
    client: LSPClient,
    private readonly show: (path: string) => Promise<EditorView | null>,
  ) {
    super(client);
  }

  private nextVersion(uri: string): number {
    const version = (this.versions.get(uri) ?? -1) + 1;
    this.versions.set(uri, version);
    return version;
  }

  syncFiles(): readonly WorkspaceFileUpdate[] {
    const updates: WorkspaceFileUpdate[] = [];
    for (const file of this.files) {
      const plugin = LSPPlugin.get(file.view);
      if (plugin === null || plugin.unsyncedChanges.empty) {
        continue;
      }
      updates.push({ changes: plugin.unsyncedChanges, file, prevDoc: file.doc });
      file.doc = file.view.state.doc;
      file.version = this.nextVersion(file.uri);
      plugin.clear();
    }
    return updates;
  }

  openFile(uri: string, languageId: string, view: EditorView): void {
    this.closeFile(uri);
    const file = new OpenFile(uri, languageId, this.nextVersion(uri), view.state.doc, view);
    this.files.push(file);
    this.client.didOpen(file);
  }

  closeFile(uri: string): void {
    if (this.files.some((file) => file.uri === uri)) {
      this.files = this.files.filter((file) => file.uri !== uri);
      this.client.didClose(uri);
    }
  }

  override async displayFile(uri: string): Promise<EditorView | null> {
    const open = this.getFile(uri);
    if (open !== null) {
      return open.getView();
    }
    const path = pathOf(uri);
    return path === null ? null : this.show(path);
  }
}

export class LanguageSupport {
  readonly client: LSPClient;
  readonly transport: LspTransport;
  /** Whether the server is initialized; the editor has language features only then. */
  ready = false;
  /** Bumped on every change of `ready`, so cached extensions are rebuilt. */
  generation = 0;
  private cache = new Map<string, { generation: number; extension: Extension }>();

  constructor(private readonly hook: LanguageHook) {
    const workspaceId = hook.options.workspaceId ?? "";
    this.client = new LSPClient({
      rootUri: ROOT_URI,
      timeout: 10_000,
      sanitizeHTML: sanitizeHtml,
      workspace: (client) => new IdeWorkspace(client, (path) => this.show(path)),
      extensions: [
        serverCompletion(),
        hoverTooltips(),
        signatureHelp(),
        keymap.of([...formatKeymap, ...renameKeymap, ...jumpToDefinitionKeymap, ...findReferencesKeymap]),
        diagnosticsWithFixes(),
      ],
    });
    this.transport = new LspTransport(lspSocketUrl(workspaceId), (state: LspState) => {
      if (state === "open") {
        this.client.connect(this.transport);
        void this.client.initializing.then(() => this.setReady(true)).catch(() => undefined);
      } else if (state !== "connecting") {
        if (this.client.connected) {
          this.client.disconnect();
        }
        this.setReady(false);
      }
    });
    this.transport.start();
  }

  private setReady(ready: boolean): void {
    if (this.ready === ready) {
      return;
    }
    this.ready = ready;
    this.generation += 1;
    // The shown file gets (or loses) the language features now; others when shown.
    const view = this.hook.options.view();
    const path = this.hook.options.shown();
    if (view !== null && path !== null) {
      view.dispatch({ effects: this.hook.slot.reconfigure(this.hook.current(path)) });
    }
  }

  /** Open `path`'s tab; the view once it shows that file and the server has it open (or null after 5 s). */
  private show(path: string): Promise<EditorView | null> {
    this.hook.options.openFile(path);
    const started = performance.now();
    return new Promise((resolve) => {
      const check = () => {
        const view = this.hook.options.view();
        if (view !== null && this.hook.options.shown() === path && this.client.workspace.getFile(uriOf(path))) {
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

  /**
   * Format the document `view` shows (ruff format, as Shift+Alt+F does) and
   * apply the server's edits, for format on save. Answers once they are
   * applied, or with the document unformatted when the server is not ready,
   * fails, or has not answered within `deadlineMs` (a late answer is
   * dropped: the file has been saved meanwhile). Edits that overlap what
   * the user typed while waiting are not applied either.
   */
  format(view: EditorView, deadlineMs: number): Promise<void> {
    const plugin = LSPPlugin.get(view);
    if (!this.ready || plugin === null) {
      return Promise.resolve();
    }
    const options = {
      tabSize: getIndentUnit(view.state),
      insertSpaces: !view.state.facet(indentUnit).includes("\t"),
    };
    return withDeadline((late) => {
      plugin.client.sync();
      return plugin.client.withMapping(async (mapping) => {
        const edits = await plugin.client.request<object, TextEdit[] | null>("textDocument/formatting", {
          options,
          textDocument: { uri: plugin.uri },
        });
        if (late() || edits === null || LSPPlugin.get(view) !== plugin) {
          return;
        }
        const typed = mapping.getMapping(plugin.uri);
        const changes = [];
        for (const edit of edits) {
          let from = mapping.mapPosition(plugin.uri, edit.range.start);
          let to = mapping.mapPosition(plugin.uri, edit.range.end);
          if (typed !== null) {
            if (typed.touchesRange(from, to)) {
              return;
            }
            from = typed.mapPos(from, 1);
            to = typed.mapPos(to, -1);
          }
          changes.push({ from, to, insert: edit.newText });
        }
        view.dispatch({ changes, userEvent: "format" });
      });
    }, deadlineMs);
  }

  /** The extension for `path` now: the LSP plugin while ready, else nothing. */
  extensionFor(path: string): Extension {
    const cached = this.cache.get(path);
    if (cached !== undefined && cached.generation === this.generation) {
      return cached.extension;
    }
    const extension = this.ready ? this.client.plugin(uriOf(path), "python") : [];
    this.cache.set(path, { generation: this.generation, extension });
    return extension;
  }

  dispose(): void {
    this.transport.dispose();
    if (this.client.connected) {
      this.client.disconnect();
    }
  }
}
