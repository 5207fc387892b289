/**
 * Diagnostics from the language servers as squiggles, with ruff's quick
 * fixes as actions, and a problems count under the editor.
 *
 * Replaces `@codemirror/lsp-client`'s `serverDiagnostics()` handler (whose
 * sync extension it keeps) for one reason: ruff puts each fix's edits in the
 * diagnostic's `data` (`{title, edits}`), and the stock handler drops them.
 * Applying a fix is then a local edit, with no code-action round trip.
 */
import { type Diagnostic as LintDiagnostic, diagnosticCount, lintGutter, openLintPanel, setDiagnostics } from "@codemirror/lint";
import { LSPPlugin, type LSPClientExtension, serverDiagnostics } from "@codemirror/lsp-client";
import type { EditorState } from "@codemirror/state";
import { EditorView, type Panel, showPanel } from "@codemirror/view";

type Position = { line: number; character: number };
type Range = { start: Position; end: Position };
type TextEdit = { range: Range; newText: string };
type ServerDiagnostic = {
  range: Range;
  severity?: number;
  message: string;
  source?: string;
  code?: string | number;
  data?: { title?: string; edits?: TextEdit[] };
};

const SEVERITY = ["error", "error", "warning", "info", "hint"] as const;

function toLint(plugin: LSPPlugin, item: ServerDiagnostic): LintDiagnostic {
  const at = (pos: Position) => plugin.unsyncedChanges.mapPos(plugin.fromPosition(pos, plugin.syncedDoc));
  const edits = item.data?.edits ?? [];
  const source = [item.source, item.code].filter((part) => part !== undefined && part !== "").join(" ");
  return {
    from: at(item.range.start),
    to: at(item.range.end),
    severity: SEVERITY[item.severity ?? 1] ?? "error",
    message: item.message,
    source: source || undefined,
    actions:
      edits.length === 0
        ? []
        : [
            {
              name: item.data?.title ?? "Fix",
              apply(view: EditorView) {
                const current = LSPPlugin.get(view);
                if (current === null) {
                  return;
                }
                const changes = edits.map((edit) => ({
                  from: current.unsyncedChanges.mapPos(current.fromPosition(edit.range.start, current.syncedDoc)),
                  to: current.unsyncedChanges.mapPos(current.fromPosition(edit.range.end, current.syncedDoc)),
                  insert: edit.newText,
                }));
                view.dispatch({ changes, userEvent: "input.quickfix" });
              },
            },
          ],
  };
}

function problemsText(state: EditorState): string {
  const count = diagnosticCount(state);
  return count === 1 ? "1 problem" : `${count} problems`;
}

/** A one-line panel under the editor: the shown file's problem count, opening the list on click. */
function problemsPanel(view: EditorView): Panel {
  const dom = document.createElement("button");
  dom.type = "button";
  dom.className = "cm-problems-count";
  dom.setAttribute("data-testid", "problems-count");
  dom.textContent = problemsText(view.state);
  dom.onclick = () => openLintPanel(view);
  return {
    dom,
    update(update) {
      dom.textContent = problemsText(update.state);
    },
  };
}

const problemsTheme = EditorView.baseTheme({
  ".cm-problems-count": {
    font: "inherit",
    fontSize: "12px",
    padding: "2px 8px",
    background: "none",
    border: "none",
    color: "inherit",
    cursor: "pointer",
  },
});

export function diagnosticsWithFixes(): LSPClientExtension {
  const stock = serverDiagnostics();
  return {
    clientCapabilities: stock.clientCapabilities,
    notificationHandlers: {
      "textDocument/publishDiagnostics": (client, params: { uri: string; version?: number; diagnostics: ServerDiagnostic[] }) => {
        const file = client.workspace.getFile(params.uri);
        if (file === null || (params.version != null && params.version !== file.version)) {
          return false;
        }
        const view = file.getView();
        const plugin = view && LSPPlugin.get(view);
        if (!view || !plugin) {
          return false;
        }
        view.dispatch(setDiagnostics(view.state, params.diagnostics.map((item) => toLint(plugin, item))));
        return true;
      },
    },
    editorExtension: [stock.editorExtension ?? [], lintGutter(), showPanel.of(problemsPanel), problemsTheme],
  };
}
