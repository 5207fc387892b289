/**
 * The contract between the IDE and the CodeMirror editor, kept free of
 * CodeMirror imports, so that CodeMirror stays out of any module that only
 * needs the contract (the editor itself is components/CodeEditor.tsx).
 */

/** A text tab's content as last read from the server; a new `revision` replaces the editor's document. */
export type EditorDoc = { path: string; text: string; revision: number };

/** What was saved: hand it back to `markSaved` once the server accepted it. */
export type EditorSnapshot = { readonly text: string; readonly token: unknown };

export type EditorHandle = {
  /** The current text of `path`, or null when the editor does not hold it. */
  snapshot(path: string): EditorSnapshot | null;
  /** Record that `snapshot` is on the server; answers whether edits made since keep the tab dirty. */
  markSaved(path: string, snapshot: EditorSnapshot): boolean;
  /** Keep a document (and its undo history) across a rename. */
  rename(from: string, to: string): void;
  focus(): void;
  /** Show `line` (1-based) of the shown document `path`, cursor at `column`, the line highlighted until an edit. */
  reveal(path: string, line: number, column: number | null): void;
  /**
   * Format `path` through the language server (format on save) if the
   * editor shows it and the server is there; answers once it is formatted,
   * or unformatted after `deadlineMs` at the latest. Never fails.
   */
  format(path: string, deadlineMs: number): Promise<void>;
  /** Mark `line` of `path` as where the last run failed (null: unmark), until `path` is edited; every other file is unmarked. */
  markFailure(path: string | null, line: number | null): void;
};

export type EditorProps = {
  docs: readonly EditorDoc[];
  /** The document shown; null or a path not in `docs` hides the editor. */
  active: string | null;
  /** After every edit, with whether the document now differs from what was last saved. */
  onChange: (path: string, dirty: boolean) => void;
  onSave: () => void;
  onRun: () => void;
  onReady: (handle: EditorHandle) => void;
  /** Where the cursor was in `path` when it was last open (an offset), to put it back; undefined: the start. */
  initialCursor?: (path: string) => number | undefined;
  /** After the cursor moved in `path`. */
  onCursor?: (path: string, offset: number) => void;
  /** The workspace whose language servers give Python files completion, hover and diagnostics (lib/lsp). */
  workspaceId?: string;
  /** Open a file's tab (go to definition into another file). */
  onOpenFile?: (path: string) => void;
};

/** The language support to load for a file name. */
export function isPython(path: string): boolean {
  return /\.pyw?$/i.test(path);
}
