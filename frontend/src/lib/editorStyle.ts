/**
 * The editor's colours and highlighting, shared by the IDE's editor and the
 * read-only submission viewer. Colours come from CSS variables (globals.css),
 * so one style serves both themes.
 */
import { HighlightStyle } from "@codemirror/language";
import { EditorView } from "@codemirror/view";
import { tags as t } from "@lezer/highlight";

export const highlightStyle = HighlightStyle.define([
  { tag: [t.keyword, t.controlKeyword, t.operatorKeyword, t.definitionKeyword, t.moduleKeyword], color: "var(--syn-keyword)" },
  { tag: [t.string, t.special(t.string), t.regexp], color: "var(--syn-string)" },
  { tag: [t.number, t.bool, t.null, t.atom], color: "var(--syn-number)" },
  { tag: [t.comment, t.lineComment, t.blockComment], color: "var(--syn-comment)", fontStyle: "italic" },
  { tag: [t.function(t.variableName), t.function(t.propertyName), t.definition(t.function(t.variableName))], color: "var(--syn-function)" },
  { tag: [t.className, t.definition(t.className), t.typeName], color: "var(--syn-type)" },
  { tag: [t.self, t.special(t.variableName), t.standard(t.variableName)], color: "var(--syn-builtin)" },
  { tag: [t.meta, t.annotation, t.processingInstruction], color: "var(--syn-meta)" },
  { tag: t.invalid, color: "var(--app-danger)" },
]);

export const theme = EditorView.theme({
  "&": { height: "100%", fontSize: "13.5px", backgroundColor: "var(--app-surface)", color: "var(--app-fg)" },
  ".cm-scroller": { fontFamily: "var(--font-mono)", lineHeight: "1.55" },
  ".cm-content": { caretColor: "var(--app-fg)" },
  ".cm-cursor, .cm-dropCursor": { borderLeftColor: "var(--app-fg)" },
  "&.cm-focused .cm-selectionBackground, .cm-selectionBackground, .cm-content ::selection": {
    backgroundColor: "var(--editor-selection)",
  },
  ".cm-gutters": { backgroundColor: "var(--app-surface)", color: "var(--app-fg-muted)", border: "none" },
  ".cm-activeLine": { backgroundColor: "var(--editor-active-line)" },
  ".cm-activeLineGutter": { backgroundColor: "var(--editor-active-line)", color: "var(--app-fg)" },
  "&.cm-focused .cm-matchingBracket": { backgroundColor: "var(--editor-bracket)", outline: "none" },
  ".cm-selectionMatch": { backgroundColor: "var(--editor-match)" },
  ".cm-searchMatch": { backgroundColor: "var(--editor-match)", outline: "1px solid var(--app-line)" },
  ".cm-panels": { backgroundColor: "var(--app-surface-muted)", color: "var(--app-fg)" },
  ".cm-panels-top": { borderBottom: "1px solid var(--app-line)" },
  ".cm-textfield": { border: "1px solid var(--app-line)", borderRadius: "4px", backgroundColor: "var(--app-surface)" },
  ".cm-button": { backgroundImage: "none", backgroundColor: "var(--app-surface)", border: "1px solid var(--app-line)", borderRadius: "4px" },
  ".cm-tooltip": { backgroundColor: "var(--app-surface)", border: "1px solid var(--app-line)" },
});

