/**
 * Submissions and their review (`/api/workspaces/{id}/submissions`,
 * `/api/submissions...`): submit or request a review, list (a reviewer's queue
 * or the caller's own), read one with its checks, reviews and comments, read a
 * submitted file, comment, review, mark comments read, open a copy.
 *
 * Every function answers as lib/result.ts says, never throws. The server applies
 * visibility for the caller: what comes back is what this user may see.
 */
import { api } from "@/api/client";
import type { components, operations } from "@/api/schema";
import { attempt, failure, type Result } from "./result";
import { textAt } from "./storedText";

type Schemas = components["schemas"];
export type Submission = Schemas["SubmissionOut"];
export type SubmissionSummary = Schemas["SubmissionSummary"];
export type SubmissionCreated = Schemas["SubmissionCreated"];
export type SubmissionStatus = Submission["status"];
export type Checks = Schemas["ChecksOut"];
export type ChecksStatus = Checks["status"];
export type CheckTest = Schemas["TestResultOut"];
export type HiddenTests = Schemas["HiddenTestsOut"];
/** A ruff diagnostic: `path`, `line`, `column`, `code`, `message`. */
export type LintDiagnostic = Checks["lint"][number];
export type Review = Schemas["ReviewOut"];
export type ReviewState = Review["state"];
export type Comment = Schemas["CommentOut"];

/** The list's filters and order (the server applies them all); every field optional. */
export type QueueFilter = NonNullable<operations["list_submissions_api_submissions_get"]["parameters"]["query"]>;

const one = (submissionId: string) => ({ path: { submission_id: submissionId } });
// Not lib/files' encodePath: the review pages then share no module with the workspace page's first load.
const encodePath = (path: string) => path.split("/").map(encodeURIComponent).join("/");

/** Freeze the workspace as the next version (of `assignmentId`, by default the one it was
 * started from) or ask `reviewer` to review it. */
export function submit(
  workspaceId: string,
  body: { message: string; assignmentId?: string | null; reviewer?: string | null },
): Promise<Result<{ submission: SubmissionCreated }>> {
  return attempt(async () => {
    const { data, error, response } = await api.POST("/api/workspaces/{workspace_id}/submissions", {
      params: { path: { workspace_id: workspaceId } },
      body: { message: body.message, assignment_id: body.assignmentId || null, reviewer: body.reviewer || null },
    });
    return data !== undefined ? { ok: true, submission: data } : failure(error, response);
  });
}

/** A reviewer's queue (submissions they may review), and the caller's own submissions. */
export function listSubmissions(filter: QueueFilter = {}): Promise<Result<{ submissions: SubmissionSummary[] }>> {
  return attempt(async () => {
    const { data, error, response } = await api.GET("/api/submissions", { params: { query: filter } });
    return data !== undefined ? { ok: true, submissions: data } : failure(error, response);
  });
}

export function getSubmission(submissionId: string): Promise<Result<{ submission: Submission }>> {
  return attempt(async () => {
    const { data, error, response } = await api.GET("/api/submissions/{submission_id}", { params: one(submissionId) });
    return data !== undefined
      ? { ok: true, submission: data }
      : failure(error, response, { 404: "This submission does not exist, or it is not yours to see." });
  });
}

/** A submitted file's content as UTF-8 text (a binary file answers a sentence instead). */
export function submissionFileText(submissionId: string, path: string): Promise<Result<{ text: string }>> {
  return textAt(
    `/api/submissions/${encodeURIComponent(submissionId)}/files/${encodePath(path)}`,
    "This file is not text, so it cannot be shown here.",
  );
}

/** A comment on `line` (to `endLine`) of `path`, or a reply in the thread `replyTo` starts. */
export function addComment(
  submissionId: string,
  comment: { path: string; line: number; endLine?: number | null; body: string; replyTo?: string | null },
): Promise<Result<{ comment: Comment }>> {
  return attempt(async () => {
    const { data, error, response } = await api.POST("/api/submissions/{submission_id}/comments", {
      params: one(submissionId),
      body: {
        path: comment.path,
        line: comment.line,
        end_line: comment.endLine != null && comment.endLine !== comment.line ? comment.endLine : null,
        body: comment.body,
        reply_to: comment.replyTo ?? null,
      },
    });
    return data !== undefined ? { ok: true, comment: data } : failure(error, response);
  });
}

/** A review of this version: its state, a summary, optionally a score. */
export function addReview(
  submissionId: string,
  review: { state: ReviewState; body: string; score?: number | null },
): Promise<Result<{ review: Review }>> {
  return attempt(async () => {
    const { data, error, response } = await api.POST("/api/submissions/{submission_id}/reviews", {
      params: one(submissionId),
      body: { state: review.state, body: review.body, score: review.score ?? null },
    });
    return data !== undefined ? { ok: true, review: data } : failure(error, response);
  });
}

/** Everything on the submission up to now counts as read by the caller. */
export function markRead(submissionId: string): Promise<Result> {
  return attempt(async () => {
    const { data, error, response } = await api.POST("/api/submissions/{submission_id}/read", { params: one(submissionId) });
    return data !== undefined ? { ok: true } : failure(error, response);
  });
}

/** A new workspace owned by the caller holding the submission's files ("Open a copy to run it"). */
export function copySubmission(submissionId: string): Promise<Result<{ workspaceId: string }>> {
  return attempt(async () => {
    const { data, error, response } = await api.POST("/api/submissions/{submission_id}/copy", { params: one(submissionId) });
    return data !== undefined ? { ok: true, workspaceId: data.id } : failure(error, response);
  });
}

/** The page of one submission (static export: the id goes in the query string). */
export function submissionUrl(id: string): string {
  return `/submission/?id=${encodeURIComponent(id)}`;
}
