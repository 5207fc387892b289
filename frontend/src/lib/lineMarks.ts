/**
 * Lines the editor marks for a while: the line a traceback link opened (the
 * target) and the line the last run failed on (the error). Both go away at
 * the next edit of the document, when they may no longer be the same line.
 * A CodeMirror state field: each file's state keeps its own marks.
 */
import { StateEffect, StateField, type EditorState, type Extension } from "@codemirror/state";
import { Decoration, EditorView, type DecorationSet } from "@codemirror/view";

export type LineMarkKind = "target" | "error";

/** Mark `line` (1-based) as `kind`, replacing any mark of that kind; null clears it. */
export const setLineMark = StateEffect.define<{ kind: LineMarkKind; line: number | null }>();

const DECORATIONS: Record<LineMarkKind, Decoration> = {
  target: Decoration.line({ class: "cm-target-line" }),
  error: Decoration.line({ class: "cm-error-line", attributes: { title: "The last run failed here" } }),
};

type Marks = Partial<Record<LineMarkKind, number>>;

const marks = StateField.define<Marks>({
  create: () => ({}),
  update(value, transaction) {
    let next = transaction.docChanged ? {} : value;
    for (const effect of transaction.effects) {
      if (effect.is(setLineMark)) {
        next = { ...next, [effect.value.kind]: effect.value.line ?? undefined };
      }
    }
    return next;
  },
  provide: (field) =>
    EditorView.decorations.from(field, (value) => (view: EditorView) => decorationsOf(view.state, value)),
});

function decorationsOf(state: EditorState, value: Marks): DecorationSet {
  const ranges = (Object.entries(value) as [LineMarkKind, number | undefined][])
    .filter((entry): entry is [LineMarkKind, number] => entry[1] !== undefined && entry[1] <= state.doc.lines)
    .map(([kind, line]) => DECORATIONS[kind].range(state.doc.line(line).from))
    .sort((a, b) => a.from - b.from);
  return Decoration.set(ranges);
}

const theme = EditorView.baseTheme({
  ".cm-target-line": { backgroundColor: "var(--editor-match)" },
  ".cm-error-line": { backgroundColor: "color-mix(in srgb, var(--app-danger) 16%, transparent)" },
});

/** The extension every editor state carries. */
export const lineMarks: Extension = [marks, theme];

