import { describe, expect, it } from "vitest";
import { failingPlace, linkPlaces, workspacePath } from "./traceback";

const files = new Set(["main.py", "pkg/util.py"]);
const exists = (path: string) => files.has(path);

describe("workspacePath", () => {
  it("maps /app and relative paths into the workspace, nothing else", () => {
    expect(workspacePath("/app/main.py")).toBe("main.py");
    expect(workspacePath("./pkg/util.py")).toBe("pkg/util.py");
    expect(workspacePath("/usr/lib/python3.12/json/__init__.py")).toBeNull();
    expect(workspacePath("../main.py")).toBeNull();
  });
});

describe("linkPlaces", () => {
  it("links traceback frames and path:line:column, and keeps the text whole", () => {
    const text = 'Traceback:\n  File "/app/main.py", line 7, in <module>\nmain.py:3:5: F401 unused\n';
    const runs = linkPlaces(text, exists);
    expect(runs.map((run) => run.text).join("")).toBe(text);
    expect(runs.filter((run) => run.location !== null)).toEqual([
      { text: 'File "/app/main.py", line 7', location: { path: "main.py", line: 7, column: null } },
      { text: "main.py:3:5", location: { path: "main.py", line: 3, column: 5 } },
    ]);
  });

  it("leaves places outside the workspace, or of missing files, as text", () => {
    const text = '  File "/usr/lib/python3.12/x.py", line 1\nother.py:2\n';
    expect(linkPlaces(text, exists)).toEqual([{ text, location: null }]);
  });
});

describe("failingPlace", () => {
  it("is the innermost workspace frame of the last traceback", () => {
    const stderr =
      'Traceback (most recent call last):\n  File "/app/main.py", line 9, in <module>\n    f()\n' +
      '  File "/app/pkg/util.py", line 2, in f\n    1 / 0\n' +
      '  File "/usr/lib/python3.12/x.py", line 5, in g\nZeroDivisionError: division by zero\n';
    expect(failingPlace(stderr, exists)).toEqual({ path: "pkg/util.py", line: 2, column: null });
  });

  it("is null without a workspace frame", () => {
    expect(failingPlace("Killed\n", exists)).toBeNull();
  });
});
