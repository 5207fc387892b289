/**
 * Pure helpers of the submission and review pages (components/review/):
 * threads and gutter counts from a submission's comments, the queue's
 * filtering and order, the checks' figures as text, and the assignment
 * form's fields as the API wants them. No I/O, no React: unit-tested.
 */
import { parseTimestamp } from "./format";
import type { Checks, Comment, HiddenTests, LintDiagnostic, SubmissionSummary } from "./submissions";

/** A submission's status for people. */
export const STATE_TEXT: Record<string, string> = {
  submitted: "Submitted",
  commented: "Commented",
  changes_requested: "Changes requested",
  approved: "Approved",
};

/** A thread: the comment that starts it and its replies, oldest first. */
export type Thread = { root: Comment; replies: Comment[] };

/** The threads on `path`, by line, then by time (replies join their thread's root). */
export function threadsOf(comments: readonly Comment[], path: string): Thread[] {
  const byTime = (a: Comment, b: Comment) => parseTimestamp(a.created_at) - parseTimestamp(b.created_at);
  return comments
    .filter((comment) => comment.path === path && comment.reply_to === null)
    .sort((a, b) => a.line - b.line || byTime(a, b))
    .map((root) => ({ root, replies: comments.filter((comment) => comment.reply_to === root.id).sort(byTime) }));
}

/** Line → number of comments there (a thread counts its replies), for the editor's gutter. */
export function commentCounts(threads: readonly Thread[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const { root, replies } of threads) {
    counts.set(root.line, (counts.get(root.line) ?? 0) + 1 + replies.length);
  }
  return counts;
}

/** "Line 3" or "Lines 3–5". */
export function linesText(comment: Pick<Comment, "line" | "end_line">): string {
  return comment.end_line !== comment.line ? `Lines ${comment.line}–${comment.end_line}` : `Line ${comment.line}`;
}

/** This workspace's submissions, newest first. */
export function ofWorkspace(items: readonly SubmissionSummary[], workspaceId: string): SubmissionSummary[] {
  return items
    .filter((item) => item.workspace_id === workspaceId)
    .sort((a, b) => parseTimestamp(b.created_at) - parseTimestamp(a.created_at) || b.version - a.version);
}

/** "3 / 5", or "—" when there is no score yet. */
export function scoreText(score: number | null | undefined, max: number | null | undefined): string {
  if (score == null) {
    return "—";
  }
  return max == null ? String(score) : `${score} / ${max}`;
}

const str = (value: unknown): string => (typeof value === "string" || typeof value === "number" ? String(value) : "");

/** The withheld hidden tests, when there are any to mention. */
export function hiddenSummary(hidden: Checks["hidden_tests"]): HiddenTests | null {
  return hidden == null || hidden.count === 0 ? null : hidden;
}

/** One ruff diagnostic as "path:line:column CODE message". */
export function lintLine(item: LintDiagnostic): string {
  return `${str(item.path)}:${str(item.line)}:${str(item.column)} ${str(item.code)} ${str(item.message)}`.trim();
}

export type FileRow = { path: string; text: string };

/** The rows as the API's `{path: text}` map (rows without a path are left out; paths trimmed). */
export function filesOf(rows: readonly FileRow[]): Record<string, string> {
  return Object.fromEntries(rows.filter((row) => row.path.trim() !== "").map((row) => [row.path.trim(), row.text]));
}

/** A `datetime-local` value (the browser's zone) as an ISO time in UTC, or null when empty or unreadable. */
export function dueAtOf(local: string): string | null {
  if (local === "") {
    return null;
  }
  const time = new Date(local);
  return Number.isNaN(time.getTime()) ? null : time.toISOString();
}

/** Non-empty names from a comma-, space- or line-separated list. */
export function namesOf(text: string): string[] {
  return text.split(/[\s,]+/).filter((name) => name !== "");
}
