import { describe, expect, it } from "vitest";
import { type CodeAction, quickFixes, type ServerDiagnostic } from "./fixes";

const URI = "file:///app/main.py";
const span = { start: { line: 2, character: 6 }, end: { line: 2, character: 20 } };
const problem: ServerDiagnostic = { range: span, message: "Could not find name `x`", source: "Pyrefly", code: "unknown-name" };
const insert = [{ range: { start: { line: 2, character: 0 }, end: { line: 2, character: 0 } }, newText: "x = None\n" }];

describe("quickFixes", () => {
  it("offers the reporting server's quick fixes that edit this document alone", () => {
    const actions: CodeAction[] = [
      { title: "Generate variable `x`", kind: "quickfix", edit: { changes: { [URI]: insert } } },
      { title: "Extract into variable", kind: "refactor.extract", edit: { changes: { [URI]: insert } } },
      { title: "Move to other.py", kind: "quickfix", edit: { changes: { [URI]: insert, "file:///app/other.py": insert } } },
      { title: "Create a file", kind: "quickfix", edit: { documentChanges: [{ kind: "create" }], changes: { [URI]: insert } } },
      { title: "Run something", kind: "quickfix", command: { command: "x" }, edit: { changes: { [URI]: insert } } },
      // ruff's fix for its own problem at the same place: shown on ruff's report.
      { title: "Ruff (F401): Remove", kind: "quickfix", diagnostics: [{ source: "Ruff" }], edit: { changes: { [URI]: insert } } },
    ];
    expect(quickFixes(actions, problem, URI)).toEqual([{ title: "Generate variable `x`", edits: insert }]);
  });

  it("offers nothing for no answer", () => {
    expect(quickFixes(null, problem, URI)).toEqual([]);
  });
});
