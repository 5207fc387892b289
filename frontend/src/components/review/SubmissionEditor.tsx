"use client";

import { useEffect, useEffectEvent, useRef } from "react";
import { python } from "@codemirror/lang-python";
import { syntaxHighlighting } from "@codemirror/language";
import { EditorState, RangeSet, StateEffect, StateField } from "@codemirror/state";
import { EditorView, GutterMarker, gutter, highlightActiveLine, lineNumbers } from "@codemirror/view";
import { isPython } from "@/lib/editor";
import { highlightStyle, theme } from "@/lib/editorStyle";

/** Lines that hold comments: line number → how many comments (threads and replies). */
export type CommentCounts = ReadonlyMap<number, number>;

class CommentMarker extends GutterMarker {
  constructor(readonly count: number) {
    super();
  }
  override eq(other: CommentMarker) {
    return other.count === this.count;
  }
  override toDOM() {
    const marker = document.createElement("span");
    marker.className = "cm-comment-marker";
    marker.textContent = String(this.count);
    marker.title = `${this.count} comment${this.count === 1 ? "" : "s"} on this line`;
    return marker;
  }
}

const setCounts = StateEffect.define<CommentCounts>();
const countsField = StateField.define<RangeSet<GutterMarker>>({
  create: () => RangeSet.empty,
  update(markers, transaction) {
    for (const effect of transaction.effects) {
      if (effect.is(setCounts)) {
        const doc = transaction.state.doc;
        const ranges = [...effect.value]
          .filter(([line]) => line >= 1 && line <= doc.lines)
          .sort(([a], [b]) => a - b)
          .map(([line, count]) => new CommentMarker(count).range(doc.line(line).from));
        return RangeSet.of(ranges);
      }
    }
    return markers;
  },
});

const commentTheme = EditorView.theme({
  ".cm-comment-gutter": { minWidth: "1.6em" },
  ".cm-comment-marker": {
    display: "inline-block",
    minWidth: "1.3em",
    borderRadius: "0.6em",
    padding: "0 0.3em",
    textAlign: "center",
    fontSize: "11px",
    backgroundColor: "var(--app-accent)",
    color: "var(--app-accent-fg)",
    cursor: "pointer",
  },
});

/**
 * One submitted file, read-only, with a gutter that counts the comments on
 * each line. Selecting lines (or clicking a line's number or its marker)
 * reports the selected range, which the comment form then uses.
 */
export function SubmissionEditor({
  path,
  text,
  counts,
  onSelectLines,
}: {
  path: string;
  text: string;
  counts: CommentCounts;
  onSelectLines: (line: number, endLine: number) => void;
}) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const selected = useEffectEvent(onSelectLines);

  useEffect(() => {
    if (host.current === null) {
      return;
    }
    const pickLine = (target: EditorView, from: number) => {
      const line = target.state.doc.lineAt(from).number;
      target.dispatch({ selection: { anchor: from } });
      selected(line, line);
      return true;
    };
    const created = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc: text,
        extensions: [
          EditorState.readOnly.of(true),
          EditorView.editable.of(false),
          EditorView.contentAttributes.of({ "aria-label": `Submitted file: ${path}`, tabindex: "0" }),
          lineNumbers({ domEventHandlers: { mousedown: (target, block) => pickLine(target, block.from) } }),
          countsField,
          gutter({
            class: "cm-comment-gutter",
            markers: (target) => target.state.field(countsField),
            domEventHandlers: { mousedown: (target, block) => pickLine(target, block.from) },
          }),
          highlightActiveLine(),
          isPython(path) ? python() : [],
          syntaxHighlighting(highlightStyle),
          theme,
          commentTheme,
          EditorView.updateListener.of((update) => {
            if (update.selectionSet && update.transactions.some((tr) => tr.isUserEvent("select"))) {
              const range = update.state.selection.main;
              const doc = update.state.doc;
              selected(doc.lineAt(range.from).number, doc.lineAt(range.to).number);
            }
          }),
        ],
      }),
    });
    view.current = created;
    return () => {
      created.destroy();
      view.current = null;
    };
  }, [path, text]);

  useEffect(() => {
    view.current?.dispatch({ effects: setCounts.of(counts) });
  }, [counts, path, text]);

  return <div ref={host} className="h-full min-h-0 overflow-auto" data-testid="submission-editor" />;
}
