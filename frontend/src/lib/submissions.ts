/**
 * Submissions and their review (`/api/workspaces/{id}/submissions`,
 * `/api/submissions...`): submit or request a review, list (a reviewer's queue
 * or the caller's own), read one with its checks, reviews and comments, read a
 * submitted file, comment, review, mark comments read, open a copy.
 *
 * Every function answers as lib/result.ts says, never throws. The server applies
 * visibility for the caller: what comes back is what this user may see.
 */
import { requestJson, queryString } from "./apiJson";
import { attempt, failure, type Result } from "./result";

export type ChecksStatus = "pending" | "running" | "done" | "error";
export type CheckTest = {
  name: string;
  status: string;
  score: number;
  max_score: number;
  output: string;
  visibility?: string | null;
  reason?: string | null;
};
export type LintDiagnostic = { [key: string]: unknown };
export type Checks = {
  status: ChecksStatus;
  score?: number | null;
  max_score?: number | null;
  tests: CheckTest[];
  lint: LintDiagnostic[];
  notes: string[];
  /** Hidden tests' count and score, when their names are withheld from the caller. */
  hidden?: { [key: string]: unknown } | null;
  raw_output?: string | null;
  /** While pending: how many checks are ahead in the queue. */
  position?: number | null;
  message?: string | null;
};
export type ReviewState = "commented" | "changes_requested" | "approved";
export type SubmissionStatus = "submitted" | ReviewState;
export type Review = {
  id: string;
  submission_id: string;
  reviewer: string | null;
  state: ReviewState;
  body: string;
  /** Null for a student until grades are released. */
  score: number | null;
  created_at: string;
  outdated: boolean;
};
export type Comment = {
  id: string;
  submission_id: string;
  version: number;
  author: string | null;
  path: string;
  line: number;
  end_line: number;
  body: string;
  reply_to: string | null;
  created_at: string;
};
export type SubmissionSummary = {
  id: string;
  version: number;
  status: SubmissionStatus;
  user: string;
  assignment_id: string | null;
  assignment_title: string | null;
  reviewer: string | null;
  workspace_id: string | null;
  message: string;
  late: boolean;
  created_at: string;
  file_count: number;
  bytes: number;
  latest: boolean;
  checks_status: ChecksStatus;
  score: number | null;
  max_score: number | null;
  review_score: number | null;
  /** Comments and reviews by others the caller has not read. */
  unread: number;
};
export type Submission = SubmissionSummary & {
  previous_id: string | null;
  files: { path: string; size: number }[];
  checks: Checks;
  reviews: Review[];
  comments: Comment[];
};
export type SubmissionCreated = { id: string; version: number; status: SubmissionStatus; late: boolean; created_at: string };

/** What the queue asks for; every field optional (all the caller may see). */
export type QueueFilter = { assignmentId?: string; status?: string };

// Not lib/files' encodePath: the review pages then share no module with the workspace page's first load.
const encodePath = (path: string) => path.split("/").map(encodeURIComponent).join("/");
const sub = (submissionId: string) => `/api/submissions/${encodeURIComponent(submissionId)}`;

/** Freeze the workspace as the next version (`assignmentId`) or ask `reviewer` to review it. */
export async function submit(
  workspaceId: string,
  body: { message: string; assignmentId?: string | null; reviewer?: string | null },
): Promise<Result<{ submission: SubmissionCreated }>> {
  const result = await requestJson<SubmissionCreated>("POST", `/api/workspaces/${encodeURIComponent(workspaceId)}/submissions`, {
    message: body.message,
    ...(body.assignmentId ? { assignment_id: body.assignmentId } : {}),
    ...(body.reviewer ? { reviewer: body.reviewer } : {}),
  });
  return result.ok ? { ok: true, submission: result.data } : result;
}

/** A reviewer's queue (submissions they may review), or the caller's own submissions. */
export async function listSubmissions(filter: QueueFilter = {}): Promise<Result<{ submissions: SubmissionSummary[] }>> {
  const query = queryString({ assignment_id: filter.assignmentId, status: filter.status });
  const result = await requestJson<SubmissionSummary[]>("GET", `/api/submissions${query}`);
  return result.ok ? { ok: true, submissions: result.data } : result;
}

export async function getSubmission(submissionId: string): Promise<Result<{ submission: Submission }>> {
  const result = await requestJson<Submission>("GET", sub(submissionId));
  return result.ok ? { ok: true, submission: result.data } : result;
}

/** A submitted file's content as UTF-8 text (a binary file answers a sentence instead). */
export function submissionFileText(submissionId: string, path: string): Promise<Result<{ text: string }>> {
  return attempt(async () => {
    const response = await fetch(`${sub(submissionId)}/files/${encodePath(path)}`, { credentials: "same-origin" });
    if (!response.ok) {
      const body: unknown = await response.json().catch(() => null);
      return failure(body, response);
    }
    const bytes = await response.arrayBuffer();
    try {
      return { ok: true, text: new TextDecoder("utf-8", { fatal: true }).decode(bytes) };
    } catch {
      return { ok: false, message: "This file is not text, so it cannot be shown here.", status: 415 };
    }
  });
}

/** A comment on `line` (to `endLine`) of `path`, or a reply in the thread `replyTo` starts. */
export async function addComment(
  submissionId: string,
  comment: { path: string; line: number; endLine?: number | null; body: string; replyTo?: string | null },
): Promise<Result<{ comment: Comment }>> {
  const result = await requestJson<Comment>("POST", `${sub(submissionId)}/comments`, {
    path: comment.path,
    line: comment.line,
    body: comment.body,
    ...(comment.endLine != null && comment.endLine !== comment.line ? { end_line: comment.endLine } : {}),
    ...(comment.replyTo ? { reply_to: comment.replyTo } : {}),
  });
  return result.ok ? { ok: true, comment: result.data } : result;
}

/** A review of this version: its state, a summary, optionally a score. */
export async function addReview(
  submissionId: string,
  review: { state: ReviewState; body: string; score?: number | null },
): Promise<Result<{ review: Review }>> {
  const result = await requestJson<Review>("POST", `${sub(submissionId)}/reviews`, {
    state: review.state,
    body: review.body,
    ...(review.score != null ? { score: review.score } : {}),
  });
  return result.ok ? { ok: true, review: result.data } : result;
}

/** Everything on the submission up to now counts as read by the caller. */
export async function markCommentsRead(submissionId: string): Promise<Result> {
  const result = await requestJson<unknown>("POST", `${sub(submissionId)}/read`);
  return result.ok ? { ok: true } : result;
}

/** A new workspace owned by the caller holding the submission's files ("Open a copy to run it"). */
export async function copySubmission(submissionId: string): Promise<Result<{ workspaceId: string }>> {
  const result = await requestJson<{ id: string }>("POST", `${sub(submissionId)}/copy`);
  return result.ok ? { ok: true, workspaceId: result.data.id } : result;
}

/** The page of one submission (static export: the id goes in the query string). */
export function submissionUrl(id: string): string {
  return `/submission/?id=${encodeURIComponent(id)}`;
}
