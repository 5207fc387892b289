import { describe, expect, it } from "vitest";
import {
  commentCounts,
  dueAtOf,
  filesOf,
  hiddenSummary,
  linesText,
  lintLine,
  namesOf,
  ofWorkspace,
  scoreText,
  threadsOf,
} from "./review";
import type { Comment, SubmissionSummary } from "./submissions";

function comment(id: string, change: Partial<Comment>): Comment {
  return {
    id,
    submission_id: "s1",
    version: 1,
    author: "rev",
    path: "main.py",
    line: 1,
    end_line: 1,
    body: id,
    reply_to: null,
    created_at: "2026-12-06T10:00:00Z",
    ...change,
  };
}

function summary(id: string, change: Partial<SubmissionSummary>): SubmissionSummary {
  return {
    id,
    version: 1,
    status: "submitted",
    user: "ann",
    assignment_id: "a1",
    assignment_title: "Add",
    reviewer: null,
    workspace_id: "w1",
    message: "",
    late: false,
    created_at: "2026-12-06T10:00:00Z",
    file_count: 1,
    bytes: 10,
    latest: true,
    checks_status: "done",
    score: 1,
    max_score: 2,
    review_score: null,
    unread: 0,
    ...change,
  };
}

describe("threadsOf", () => {
  const comments = [
    comment("late-root", { line: 2, created_at: "2026-12-06T10:05:00Z" }),
    comment("reply-2", { reply_to: "root", created_at: "2026-12-06T10:09:00Z" }),
    comment("root", { line: 2, created_at: "2026-12-06T10:01:00Z" }),
    comment("reply-1", { reply_to: "root", created_at: "2026-12-06T10:02:00Z" }),
    comment("first-line", { line: 1 }),
    comment("other-file", { path: "util.py" }),
  ];

  it("orders threads by line then time, with their replies oldest first, for one file", () => {
    const threads = threadsOf(comments, "main.py");
    expect(threads.map((thread) => thread.root.id)).toEqual(["first-line", "root", "late-root"]);
    expect(threads[1]?.replies.map((reply) => reply.id)).toEqual(["reply-1", "reply-2"]);
    expect(threadsOf(comments, "util.py").map((thread) => thread.root.id)).toEqual(["other-file"]);
  });

  it("counts every comment of a line's threads, replies included, for the gutter", () => {
    expect([...commentCounts(threadsOf(comments, "main.py"))]).toEqual([
      [1, 1],
      [2, 4],
    ]);
  });
});

describe("linesText", () => {
  it("names one line or a range", () => {
    expect(linesText({ line: 3, end_line: 3 })).toBe("Line 3");
    expect(linesText({ line: 3, end_line: 5 })).toBe("Lines 3–5");
  });
});

describe("ofWorkspace", () => {
  it("keeps the workspace's submissions, newest first", () => {
    const items = [
      summary("v1", { version: 1, created_at: "2026-12-06T10:00:00Z" }),
      summary("elsewhere", { workspace_id: "w2" }),
      summary("v2", { version: 2, created_at: "2026-12-06T10:30:00Z" }),
    ];
    expect(ofWorkspace(items, "w1").map((item) => item.id)).toEqual(["v2", "v1"]);
  });
});

describe("checks as text", () => {
  it("shows a score against its maximum, or a dash before there is one", () => {
    expect(scoreText(1.5, 2)).toBe("1.5 / 2");
    expect(scoreText(3, null)).toBe("3");
    expect(scoreText(null, 2)).toBe("—");
  });

  it("reads the hidden tests' count and score, nothing when there are none", () => {
    expect(hiddenSummary({ count: 3, score: 1, max_score: 3 })).toEqual({ count: 3, score: 1, max_score: 3 });
    expect(hiddenSummary({ count: 0, score: 0, max_score: 0 })).toBeNull();
    expect(hiddenSummary(null)).toBeNull();
    expect(hiddenSummary(undefined)).toBeNull();
  });

  it("writes a lint diagnostic as path:line:column code message, ignoring what is not text", () => {
    expect(lintLine({ path: "main.py", line: 2, column: 5, code: "F401", message: "unused import" })).toBe(
      "main.py:2:5 F401 unused import",
    );
    expect(lintLine({ path: "a.py", line: { x: 1 }, column: 1, code: "E1", message: "m" })).toBe("a.py::1 E1 m");
  });
});

describe("assignment form fields", () => {
  it("maps file rows to {path: text}, leaving out rows without a path", () => {
    expect(
      filesOf([
        { path: " main.py ", text: "x = 1\n" },
        { path: "", text: "lost" },
        { path: "tests/test_a.py", text: "" },
      ]),
    ).toEqual({ "main.py": "x = 1\n", "tests/test_a.py": "" });
  });

  it("turns a local due time into an ISO time, and empty into none", () => {
    expect(dueAtOf("")).toBeNull();
    expect(dueAtOf("not a date")).toBeNull();
    expect(dueAtOf("2026-12-24T18:00")).toBe(new Date(2026, 11, 24, 18, 0).toISOString());
  });

  it("splits a list of names on commas, spaces and lines", () => {
    expect(namesOf("ann, bob\ncy  dee,")).toEqual(["ann", "bob", "cy", "dee"]);
    expect(namesOf("  ")).toEqual([]);
  });
});
