"use client";

import { useEffectEvent, useLayoutEffect, useRef } from "react";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { pythonLanguage } from "@/lib/pythonLanguage";
import {
  bracketMatching,
  foldGutter,
  foldKeymap,
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
import { isDark, onThemeChange } from "@/lib/theme";
import { isPython, type EditorHandle, type EditorProps, type EditorSnapshot } from "@/lib/editor";
import { highlightStyle, theme } from "@/lib/editorStyle";
import type { LanguageHook } from "@/lib/lsp/hook";

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
/**
 * Completion and bracket closing (lib/completion.ts) are fetched on the
 * first keystroke, click or Ctrl+Space in the editor. A bracket or quote
 * typed before they are there waits for them (a few milliseconds), and so
 * does what is typed after it meanwhile, so even the first one is closed.
 * Once loaded, every editor state gets them through `completionSlot`.
 */
const completionSlot = new Compartment();
let completionLoaded: Extension | null = null;
let completionLoading: Promise<typeof import("@/lib/completion")> | null = null;
const waitingInput = new WeakMap<EditorView, string[]>();

function loadCompletion(view: EditorView): Promise<typeof import("@/lib/completion")> {
  completionLoading ??= import("@/lib/completion").then(
    (module) => {
      completionLoaded = module.completion;
      return module;
    },
    (error: unknown) => {
      completionLoading = null; // Fetched again on the next keystroke.
      throw error;
    },
  );
  return completionLoading.then((module) => {
    if (completionSlot.get(view.state) !== module.completion) {
      view.dispatch({ effects: completionSlot.reconfigure(module.completion) });
    }
    return module;
  });
}

const completionStub: Extension = [
  EditorView.domEventHandlers({
    keydown: (_event, view) => void loadCompletion(view).catch(() => undefined),
    pointerdown: (_event, view) => void loadCompletion(view).catch(() => undefined),
  }),
  EditorView.inputHandler.of((view, _from, _to, text) => {
    const waiting = waitingInput.get(view) ?? [];
    if (completionLoaded !== null || view.composing || (waiting.length === 0 && !/^[()[\]{}'"]$/.test(text))) {
      return false;
    }
    waiting.push(text);
    if (waiting.length === 1) {
      waitingInput.set(view, waiting);
      // Not fetched (offline): what was typed goes in as typed, never lost.
      const insert = (module: typeof import("@/lib/completion") | null) => {
        for (const typed of waiting.splice(0)) {
          const { state } = view;
          view.dispatch(
            module?.insertBracket(state, typed) ??
              state.update(state.replaceSelection(typed), { scrollIntoView: true, userEvent: "input.type" }),
          );
        }
      };
      loadCompletion(view).then(insert, () => insert(null));
    }
    return true;
  }),
  keymap.of([
    {
      key: "Ctrl-Space",
      run: (view) => {
        loadCompletion(view).then(({ startCompletion }) => startCompletion(view), () => undefined);
        return true;
      },
    },
  ]),
];

/** Line marks (lib/lineMarks.ts), loaded with the first traceback link or failed run. */
const marksSlot = new Compartment();
let marks: typeof import("@/lib/lineMarks") | null = null;
const loadMarks = () => import("@/lib/lineMarks").then((module) => (marks = module));

/** `state` with the line marks' extension (once), then `effects`. */
function withMarks(module: typeof import("@/lib/lineMarks"), state: EditorState, effects: StateEffect<unknown>[]): EditorState {
  const reconfigure = marksSlot.get(state) === module.lineMarks ? [] : [marksSlot.reconfigure(module.lineMarks)];
  return state.update({ effects: reconfigure }).state.update({ effects }).state;
}
const darkSlot = new Compartment();
const labelSlot = new Compartment();

const prefersDark = isDark;

type Stored = { state: EditorState; saved: Text; revision: number; scroll?: StateEffect<unknown> };

function sameText(a: Text, b: Text): boolean {
  return a === b || (a.length === b.length && a.eq(b));
}

/**
 * The code editor: one CodeMirror view, one `EditorState` per open file (so
 * each tab keeps its own undo history, selection and scroll), switched with
 * `setState`. Configured only through extensions and compartments:
 * language per file, the system's light or dark scheme, the file's label,
 * and search and completion (loaded on first use).
 * Ctrl/Cmd+S saves and Ctrl/Cmd+Enter runs (passed up); Tab indents (Escape,
 * then Tab, moves focus on, as CodeMirror documents for keyboard users).
 */
export function CodeEditor({
  docs,
  active,
  onChange,
  onSave,
  onRun,
  onReady,
  initialCursor,
  onCursor,
  workspaceId,
  onOpenFile,
}: EditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const stored = useRef(new Map<string, Stored>());
  const shown = useRef<string | null>(null);
  /** Where the last run failed: marked in that file now, or when it is opened. */
  const failure = useRef<{ path: string; line: number } | null>(null);

  const changed = useEffectEvent((path: string, dirty: boolean) => onChange(path, dirty));
  const save = useEffectEvent(() => onSave());
  const run = useEffectEvent(() => onRun());
  const ready = useEffectEvent((handle: EditorHandle) => onReady(handle));
  const cursorMoved = useEffectEvent((path: string, offset: number) => onCursor?.(path, offset));
  const cursorOf = useEffectEvent((path: string) => initialCursor?.(path));
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
        ...defaultKeymap,
        ...historyKeymap,
        ...foldKeymap,
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
        if (update.selectionSet) {
          cursorMoved(path, update.state.selection.main.head);
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
      languageSlot.of(isPython(path) ? pythonLanguage : []),
      completionSlot.of(completionLoaded ?? completionStub),
      darkSlot.of(EditorView.darkTheme.of(prefersDark())),
      searchSlot.of(searchLoaded ?? searchStub),
      marksSlot.of(marks?.lineMarks ?? []),
      labelSlot.of(EditorView.contentAttributes.of({ "aria-label": `Editor: ${path}` })),
      language.current?.extension(path) ?? lspSlot.of([]),
    ];

    const editor = new EditorView({ parent: host.current ?? undefined });
    view.current = editor;

    const stopWatching = onThemeChange(() => {
      editor.dispatch({ effects: darkSlot.reconfigure(EditorView.darkTheme.of(isDark())) });
    });

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
          languageSlot.reconfigure(isPython(to) ? pythonLanguage : []),
          labelSlot.reconfigure(EditorView.contentAttributes.of({ "aria-label": `Editor: ${to}` })),
        ];
        if (shown.current === from) {
          shown.current = to;
          // The language servers know a file by its path: the shown file's
          // LSP plugin is swapped, closing the old name and opening the new.
          // (A hidden file is not open in them; it gets its plugin when shown.)
          if (language.current !== null) {
            effects.push(lspSlot.reconfigure(language.current.current(to)));
          }
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
      format(path, deadlineMs) {
        return language.current?.format(path, deadlineMs) ?? Promise.resolve();
      },
      reveal(path, line, column) {
        void loadMarks().then((module) => {
          if (shown.current !== path) {
            return;
          }
          const { doc } = editor.state;
          const target = doc.line(Math.min(Math.max(1, line), doc.lines));
          const at = Math.min(target.to, target.from + Math.max(0, (column ?? 1) - 1));
          editor.dispatch({
            effects: marksSlot.get(editor.state) === module.lineMarks ? [] : [marksSlot.reconfigure(module.lineMarks)],
          });
          editor.dispatch({
            selection: { anchor: at },
            effects: [
              EditorView.scrollIntoView(at, { y: "center" }),
              module.setLineMark.of({ kind: "target", line: target.number }),
            ],
          });
          editor.focus();
        });
      },
      markFailure(path, line) {
        void loadMarks().then((module) => {
          failure.current = path === null || line === null ? null : { path, line };
          for (const [key, entry] of stored.current) {
            const effects = [module.setLineMark.of({ kind: "error", line: key === path ? line : null })];
            if (key === shown.current) {
              editor.dispatch({
                effects: marksSlot.get(editor.state) === module.lineMarks ? [] : [marksSlot.reconfigure(module.lineMarks)],
              });
              editor.dispatch({ effects });
            } else {
              entry.state = withMarks(module, entry.state, effects);
            }
          }
        });
      },
    };
    ready(handle);

    return () => {
      stopWatching();
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
        let state = EditorState.create({ doc: doc.text, extensions: extensionsFor.current(doc.path) });
        // Opened for the first time since the page loaded: the cursor goes back where it was.
        const cursor = entry === undefined ? Math.min(cursorOf(doc.path) ?? 0, state.doc.length) : 0;
        if (cursor > 0) {
          state = state.update({ selection: { anchor: cursor } }).state;
        }
        if (entry === undefined && marks !== null && failure.current?.path === doc.path) {
          state = state.update({ effects: marks.setLineMark.of({ kind: "error", line: failure.current.line }) }).state;
        }
        const scroll = cursor > 0 ? EditorView.scrollIntoView(cursor, { y: "center" }) : undefined;
        map.set(doc.path, { state, saved: state.doc, revision: doc.revision, scroll });
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
        if (completionLoaded !== null && completionSlot.get(entry.state) !== completionLoaded) {
          entry.state = entry.state.update({ effects: completionSlot.reconfigure(completionLoaded) }).state;
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
