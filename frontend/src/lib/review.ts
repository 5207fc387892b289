/**
 * Pure helpers of the submission and review pages (components/review/):
 * threads and gutter counts from a submission's comments, the queue's
 * filtering and order, the checks' figures as text, and the assignment
 * form's fields as the API wants them. No I/O, no React: unit-tested.
 */
import { parseTimestamp } from "./format";
import type { Checks, Comment, LintDiagnostic, SubmissionSummary } from "./submissions";

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

export type QueueView = { lateOnly: boolean; ungradedOnly: boolean; oldestFirst: boolean };

/**
 * The queue's rows: late and ungraded filtered here (the server filters by
 * assignment and status), sorted by submission time. Ungraded: no review
 * yet, or a review without a score.
 */
export function visibleRows(items: readonly SubmissionSummary[], view: QueueView): SubmissionSummary[] {
  const time = (item: SubmissionSummary) => parseTimestamp(item.created_at) || 0;
  return items
    .filter((item) => !view.lateOnly || item.late)
    .filter((item) => !view.ungradedOnly || item.status === "submitted" || item.review_score === null)
    .sort((a, b) => (view.oldestFirst ? time(a) - time(b) : time(b) - time(a)));
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

const num = (value: unknown): number | null => (typeof value === "number" ? value : null);
const str = (value: unknown): string => (typeof value === "string" || typeof value === "number" ? String(value) : "");

/** The hidden tests' count and score from the checks' `hidden` object (null when there is nothing to show). */
export function hiddenSummary(hidden: Checks["hidden"]): { count: number; score: number | null; max: number | null } | null {
  const count = num(hidden?.count);
  return count === null || count === 0 ? null : { count, score: num(hidden?.score), max: num(hidden?.max_score) };
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
