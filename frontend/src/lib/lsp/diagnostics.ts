/**
 * Diagnostics from the language servers as squiggles, with quick fixes as
 * actions, and a problems count under the editor.
 *
 * Replaces `@codemirror/lsp-client`'s `serverDiagnostics()` handler (whose
 * sync extension it keeps) for one reason: ruff puts each fix's edits in the
 * diagnostic's `data` (`{title, edits}`), and the stock handler drops them.
 * Applying such a fix is then a local edit, with no code-action round trip.
 *
 * Problems that come without a fix (pyrefly's) are shown at once; their fixes
 * are then asked for (`textDocument/codeAction`, one request per problem, at
 * most `ASKED_MAX` per publication) and added to the shown problems, unless
 * the document changed meanwhile (the edits would be for another text). Only
 * quick fixes that edit this document alone are offered, and only those of
 * the server that reported the problem (the backend asks both servers).
 */
import { type Action, type Diagnostic as LintDiagnostic, diagnosticCount, lintGutter, openLintPanel, setDiagnostics } from "@codemirror/lint";
import { LSPPlugin, type LSPClientExtension, serverDiagnostics } from "@codemirror/lsp-client";
import type { EditorState } from "@codemirror/state";
import { EditorView, type Panel, showPanel } from "@codemirror/view";

import { type CodeAction, type Fix, type Position, quickFixes, type ServerDiagnostic } from "./fixes";

const SEVERITY = ["error", "error", "warning", "info", "hint"] as const;
const ASKED_MAX = 8;

function fixAction(fix: Fix): Action {
  return {
    name: fix.title,
    apply(view: EditorView) {
      const current = LSPPlugin.get(view);
      if (current === null) {
        return;
      }
      const changes = fix.edits.map((edit) => ({
        from: current.unsyncedChanges.mapPos(current.fromPosition(edit.range.start, current.syncedDoc)),
        to: current.unsyncedChanges.mapPos(current.fromPosition(edit.range.end, current.syncedDoc)),
        insert: edit.newText,
      }));
      view.dispatch({ changes, userEvent: "input.quickfix" });
    },
  };
}

function toLint(plugin: LSPPlugin, item: ServerDiagnostic, fixes: Fix[]): LintDiagnostic {
  const at = (pos: Position) => plugin.unsyncedChanges.mapPos(plugin.fromPosition(pos, plugin.syncedDoc));
  const edits = item.data?.edits ?? [];
  const own = edits.length === 0 ? [] : [{ title: item.data?.title ?? "Fix", edits }];
  const source = [item.source, item.code].filter((part) => part !== undefined && part !== "").join(" ");
  return {
    from: at(item.range.start),
    to: at(item.range.end),
    severity: SEVERITY[item.severity ?? 1] ?? "error",
    message: item.message,
    source: source || undefined,
    actions: [...own, ...fixes].map(fixAction),
  };
}

// Each view's publications, counted: fixes asked for one are shown only if no other came since.
const published = new WeakMap<EditorView, number>();

/** Ask the server for the fixes of the problems that came without one; show them if nothing changed. */
async function addServerFixes(view: EditorView, plugin: LSPPlugin, items: ServerDiagnostic[]): Promise<void> {
  const doc = plugin.syncedDoc;
  const publication = (published.get(view) ?? 0) + 1;
  published.set(view, publication);
  const asked = items.map((item, index) => ({ item, index })).filter(({ item }) => !item.data?.edits?.length).slice(0, ASKED_MAX);
  if (asked.length === 0) {
    return;
  }
  const answers = await Promise.all(
    asked.map(({ item }) =>
      plugin.client
        .request<object, CodeAction[] | null>("textDocument/codeAction", {
          textDocument: { uri: plugin.uri },
          range: item.range,
          context: { diagnostics: [item], only: ["quickfix"] },
        })
        .then((actions) => quickFixes(actions, item, plugin.uri))
        .catch(() => []),
    ),
  );
  const current = LSPPlugin.get(view) === plugin && plugin.syncedDoc === doc && published.get(view) === publication;
  if (!current || !answers.some((fixes) => fixes.length > 0)) {
    return;
  }
  const fixes = new Map(asked.map(({ index }, at) => [index, answers[at]]));
  view.dispatch(setDiagnostics(view.state, items.map((item, index) => toLint(plugin, item, fixes.get(index) ?? []))));
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
        view.dispatch(setDiagnostics(view.state, params.diagnostics.map((item) => toLint(plugin, item, []))));
        void addServerFixes(view, plugin, params.diagnostics);
        return true;
      },
    },
    editorExtension: [stock.editorExtension ?? [], lintGutter(), showPanel.of(problemsPanel), problemsTheme],
  };
}
