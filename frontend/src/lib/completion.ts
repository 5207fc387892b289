/**
 * Completion and bracket closing for the code editor (@codemirror/autocomplete,
 * with Python's own completions: names in scope, builtins, keywords and
 * snippets). components/CodeEditor.tsx imports this module on the user's
 * first keystroke or click in the editor, not with the page: the page's
 * first download stays within its budget. lang-python's completion sources
 * work on the editor's own Python language (./pythonLanguage.ts: the same
 * parser). The language servers' completion (lib/lsp) comes on top.
 */
import { autocompletion, closeBrackets, closeBracketsKeymap, insertBracket, startCompletion } from "@codemirror/autocomplete";
import { globalCompletion, localCompletionSource } from "@codemirror/lang-python";
import { Prec, type Extension } from "@codemirror/state";
import { keymap } from "@codemirror/view";
import { pythonLanguage } from "./pythonLanguage";

/** What the editor had from the start before this module was split off (autocompletion adds its own keys). */
export const completion: Extension = [
  autocompletion(),
  closeBrackets(),
  // Before the editor's Backspace: deletes an empty pair as one.
  Prec.high(keymap.of(closeBracketsKeymap)),
  pythonLanguage.data.of({ autocomplete: localCompletionSource }),
  pythonLanguage.data.of({ autocomplete: globalCompletion }),
];

export { insertBracket, startCompletion };
