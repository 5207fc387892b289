"use client";

import { useEffectEvent, useLayoutEffect, useRef } from "react";
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { python } from "@codemirror/lang-python";
import {
  bracketMatching,
  foldGutter,
  foldKeymap,
  HighlightStyle,
  indentOnInput,
  indentUnit,
  syntaxHighlighting,
} from "@codemirror/language";
import { Compartment, EditorState, Prec, type Extension, type StateEffect, type Text } from "@codemirror/state";
import {
  type Command,
  crosshairCursor,
  drawSelection,
  dropCursor,
  EditorView,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  keymap,
  lineNumbers,
  rectangularSelection,
} from "@codemirror/view";
import { tags as t } from "@lezer/highlight";
import { isPython, type EditorHandle, type EditorProps, type EditorSnapshot } from "@/lib/editor";
import type { LanguageHook } from "@/lib/lsp/hook";

/** Colours come from CSS variables (globals.css), so one style serves both themes. */
const highlightStyle = HighlightStyle.define([
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

const theme = EditorView.theme({
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

const languageSlot = new Compartment();
// The language servers' extensions for a Python file (lib/lsp/hook.ts, loaded on first use).
const lspSlot = new Compartment();
const searchSlot = new Compartment();

/**
 * Search and replace (@codemirror/search) is fetched on first use: until
 * then its keys load it and replay the command. Once loaded, every editor
 * state gets the real extension through `searchSlot`.
 */
let searchLoaded: Extension | null = null;
let searchLoading: Promise<Extension> | null = null;
const SEARCH_KEYS = {
  "Mod-f": "openSearchPanel",
  F3: "findNext",
  "Mod-g": "findNext",
  "Shift-F3": "findPrevious",
  "Shift-Mod-g": "findPrevious",
  "Mod-Alt-g": "gotoLine",
  "Mod-d": "selectNextOccurrence",
  "Mod-Shift-l": "selectSelectionMatches",
} as const;

function loadSearch(): Promise<Extension> {
  searchLoading ??= import("@codemirror/search").then((module) => {
    searchLoaded = [module.search({ top: true }), module.highlightSelectionMatches(), keymap.of(module.searchKeymap)];
    return searchLoaded;
  });
  return searchLoading;
}

const searchStub: Extension = keymap.of(
  Object.entries(SEARCH_KEYS).map(([key, command]) => ({
    key,
    preventDefault: true,
    run: (view: EditorView) => {
      void loadSearch().then(async (extension) => {
        const module = await import("@codemirror/search");
        view.dispatch({ effects: searchSlot.reconfigure(extension) });
        (module[command] as Command)(view);
      });
      return true;
    },
  })),
);
const darkSlot = new Compartment();
const labelSlot = new Compartment();

const prefersDark = () => window.matchMedia("(prefers-color-scheme: dark)").matches;

type Stored = { state: EditorState; saved: Text; revision: number; scroll?: StateEffect<unknown> };

function sameText(a: Text, b: Text): boolean {
  return a === b || (a.length === b.length && a.eq(b));
}

/**
 * The code editor: one CodeMirror view, one `EditorState` per open file (so
 * each tab keeps its own undo history, selection and scroll), switched with
 * `setState`. Configured only through extensions and compartments:
 * language per file, the system's light or dark scheme, the file's label,
 * and search (loaded on first use).
 * Ctrl/Cmd+S saves and Ctrl/Cmd+Enter runs (passed up); Tab indents (Escape,
 * then Tab, moves focus on, as CodeMirror documents for keyboard users).
 */
export function CodeEditor({ docs, active, onChange, onSave, onRun, onReady, workspaceId, onOpenFile }: EditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const stored = useRef(new Map<string, Stored>());
  const shown = useRef<string | null>(null);

  const changed = useEffectEvent((path: string, dirty: boolean) => onChange(path, dirty));
  const save = useEffectEvent(() => onSave());
  const run = useEffectEvent(() => onRun());
  const ready = useEffectEvent((handle: EditorHandle) => onReady(handle));
  const openFile = useEffectEvent((path: string) => onOpenFile?.(path));
  const workspace = useEffectEvent(() => workspaceId);
  const language = useRef<LanguageHook | null>(null);
  const languageLoading = useRef(false);

  const extensionsFor = useRef<(path: string) => Extension>(() => []);

  // Layout effects, here and below: the view is made and shows its file
  // before the browser first paints the IDE, not a frame later.
  useLayoutEffect(() => {
    const base: Extension = [
      lineNumbers(),
      highlightActiveLineGutter(),
      highlightSpecialChars(),
      history(),
      foldGutter(),
      drawSelection(),
      dropCursor(),
      EditorState.allowMultipleSelections.of(true),
      indentOnInput(),
      indentUnit.of("    "),
      syntaxHighlighting(highlightStyle),
      bracketMatching(),
      closeBrackets(),
      autocompletion(),
      rectangularSelection(),
      crosshairCursor(),
      highlightActiveLine(),
      Prec.highest(
        keymap.of([
          { key: "Mod-s", preventDefault: true, run: () => (save(), true) },
          { key: "Mod-Enter", preventDefault: true, run: () => (run(), true) },
        ]),
      ),
      keymap.of([
        ...closeBracketsKeymap,
        ...defaultKeymap,
        ...historyKeymap,
        ...foldKeymap,
        ...completionKeymap,
        indentWithTab,
      ]),
      theme,
      EditorView.updateListener.of((update) => {
        const path = shown.current;
        const entry = path === null ? undefined : stored.current.get(path);
        if (path === null || entry === undefined) {
          return;
        }
        entry.state = update.state;
        if (update.docChanged) {
          changed(path, !sameText(update.state.doc, entry.saved));
        }
      }),
      // Language features load when the user first works in a Python file.
      EditorView.updateListener.of((update) => {
        const path = shown.current;
        const workspaceId = workspace();
        if (languageLoading.current || path === null || !isPython(path) || workspaceId === undefined) {
          return;
        }
        if (update.transactions.some((tr) => tr.isUserEvent("input") || tr.isUserEvent("delete") || tr.isUserEvent("select"))) {
          languageLoading.current = true;
          void import("@/lib/lsp/hook").then(({ LanguageHook }) => {
            if (view.current !== null) {
              const options = { workspaceId, view: () => view.current, shown: () => shown.current, openFile: (p: string) => openFile(p) };
              language.current = new LanguageHook(options, lspSlot);
            }
          });
        }
      }),
    ];
    extensionsFor.current = (path: string) => [
      base,
      languageSlot.of(isPython(path) ? python() : []),
      darkSlot.of(EditorView.darkTheme.of(prefersDark())),
      searchSlot.of(searchLoaded ?? searchStub),
      labelSlot.of(EditorView.contentAttributes.of({ "aria-label": `Editor: ${path}` })),
      language.current?.extension(path) ?? lspSlot.of([]),
    ];

    const editor = new EditorView({ parent: host.current ?? undefined });
    view.current = editor;

    const media = window.matchMedia("(prefers-color-scheme: dark)");
    const onScheme = () => {
      editor.dispatch({ effects: darkSlot.reconfigure(EditorView.darkTheme.of(media.matches)) });
    };
    media.addEventListener("change", onScheme);

    const handle: EditorHandle = {
      snapshot(path) {
        const entry = stored.current.get(path);
        return entry === undefined ? null : { text: entry.state.doc.toString(), token: entry.state.doc };
      },
      markSaved(path, snapshot: EditorSnapshot) {
        const entry = stored.current.get(path);
        if (entry === undefined) {
          return false;
        }
        entry.saved = snapshot.token as Text;
        return !sameText(entry.state.doc, entry.saved);
      },
      rename(from, to) {
        const entry = stored.current.get(from);
        if (entry === undefined || from === to) {
          return;
        }
        stored.current.delete(from);
        const effects = [
          languageSlot.reconfigure(isPython(to) ? python() : []),
          labelSlot.reconfigure(EditorView.contentAttributes.of({ "aria-label": `Editor: ${to}` })),
        ];
        if (shown.current === from) {
          shown.current = to;
          editor.dispatch({ effects });
          entry.state = editor.state;
        } else {
          entry.state = entry.state.update({ effects }).state;
        }
        stored.current.set(to, entry);
      },
      focus() {
        editor.focus();
      },
    };
    ready(handle);

    return () => {
      media.removeEventListener("change", onScheme);
      language.current?.dispose();
      language.current = null;
      editor.destroy();
      view.current = null;
      shown.current = null;
    };
  }, []);

  // Bring the stored documents in line with the tabs, then show the active one.
  useLayoutEffect(() => {
    const editor = view.current;
    if (editor === null) {
      return;
    }
    const map = stored.current;
    const wanted = new Set(docs.map((doc) => doc.path));
    for (const path of [...map.keys()]) {
      if (!wanted.has(path)) {
        map.delete(path);
      }
    }
    let replacedShown = false;
    for (const doc of docs) {
      const entry = map.get(doc.path);
      if (entry === undefined || entry.revision !== doc.revision) {
        const state = EditorState.create({ doc: doc.text, extensions: extensionsFor.current(doc.path) });
        map.set(doc.path, { state, saved: state.doc, revision: doc.revision });
        replacedShown ||= doc.path === shown.current;
      }
    }
    const next = active !== null && map.has(active) ? active : null;
    if (next !== null && (next !== shown.current || replacedShown)) {
      const entry = map.get(next);
      if (entry !== undefined) {
        const leaving = shown.current === null ? undefined : map.get(shown.current);
        if (leaving !== undefined && !replacedShown) {
          leaving.scroll = editor.scrollSnapshot();
        }
        shown.current = next;
        // Follow a scheme change that happened while this document was
        // hidden, and search once it has been loaded in another tab.
        const dark = prefersDark();
        if (entry.state.facet(EditorView.darkTheme) !== dark) {
          entry.state = entry.state.update({ effects: darkSlot.reconfigure(EditorView.darkTheme.of(dark)) }).state;
        }
        if (searchLoaded !== null && searchSlot.get(entry.state) !== searchLoaded) {
          entry.state = entry.state.update({ effects: searchSlot.reconfigure(searchLoaded) }).state;
        }
        if (language.current !== null) {
          entry.state = language.current.refresh(entry.state, next);
        }
        editor.setState(entry.state);
        if (entry.scroll !== undefined) {
          editor.dispatch({ effects: entry.scroll });
        }
      }
    } else if (next === null) {
      shown.current = null;
    }
  }, [docs, active]);

  const visible = active !== null && docs.some((doc) => doc.path === active);
  return <div ref={host} className={visible ? "h-full min-h-0" : "hidden"} data-testid="code-editor" />;
}
