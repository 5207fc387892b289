/**
 * Which of a server's code actions the editor offers as quick fixes for one
 * problem (pure, so unit-tested apart from the editor; ./diagnostics.ts asks).
 */

export type Position = { line: number; character: number };
export type Range = { start: Position; end: Position };
export type TextEdit = { range: Range; newText: string };
export type ServerDiagnostic = {
  range: Range;
  severity?: number;
  message: string;
  source?: string;
  code?: string | number;
  data?: { title?: string; edits?: TextEdit[] };
};

export type CodeAction = {
  title: string;
  kind?: string;
  diagnostics?: { source?: string }[];
  edit?: { changes?: Record<string, TextEdit[]>; documentChanges?: unknown[] };
  command?: unknown;
};

/** A fix the editor applies itself: edits to the one document. */
export type Fix = { title: string; edits: TextEdit[] };

/**
 * The quick fixes among `actions` for `item`: of kind quickfix, editing only
 * `uri` with plain edits (no command to run, no file operations), and not
 * another server's fix for its own problem at the same place (the backend
 * asks both servers; an action names the problems it fixes).
 */
export function quickFixes(actions: CodeAction[] | null, item: ServerDiagnostic, uri: string): Fix[] {
  const fixes: Fix[] = [];
  for (const action of actions ?? []) {
    const edits = action.edit?.changes?.[uri];
    const onlyHere = Object.keys(action.edit?.changes ?? {}).length === 1 && action.edit?.documentChanges === undefined;
    const fromReporter = (action.diagnostics ?? []).every((d) => d.source === undefined || d.source === item.source);
    if (action.kind?.startsWith("quickfix") && edits !== undefined && onlyHere && action.command === undefined && fromReporter) {
      fixes.push({ title: action.title, edits });
    }
  }
  return fixes;
}
