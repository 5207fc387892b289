"use client";

import { useCallback, useEffect, useMemo, useState } from "react";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useVisibleInterval } from "@/hooks/useVisibleInterval";
import { listAssignments } from "@/lib/assignments";
import { formatDateTime } from "@/lib/format";
import { STATE_TEXT, commentCounts, scoreText, threadsOf } from "@/lib/review";
import { workspaceUrl } from "@/lib/navigation";
import {
  copySubmission,
  getSubmission,
  markRead,
  submissionFileText,
  type Comment,
  type Review,
  type Submission,
} from "@/lib/submissions";
import type { Result } from "@/lib/result";
import { ErrorMessage } from "../ErrorMessage";
import { LoadingState } from "../LoadingState";
import { useSession } from "../SessionProvider";
import { ChecksResults } from "./ChecksResults";
import { CommentThreads } from "./CommentThreads";
import { DiffPanel, type DiffBase } from "./DiffPanel";
import { ReviewPanel } from "./ReviewPanel";
import { SubmissionEditor } from "./SubmissionEditor";

type State = { kind: "loading" } | { kind: "ready"; submission: Submission } | { kind: "failed"; message: string };
type FileState = { kind: "loading" } | { kind: "ready"; text: string } | { kind: "failed"; message: string };

const POLL_MS = 2000;

function stateOf(result: Result<{ submission: Submission }>): State {
  return result.ok ? { kind: "ready", submission: result.submission } : { kind: "failed", message: result.message };
}

/**
 * One submission, read-only (`/submission/?id=`): its files in a read-only
 * editor whose gutter counts each line's comments, the automated results,
 * the threads of the open file, the reviews, and for a reviewer the review
 * form, a diff against the starter files or the previous version, and "Open
 * a copy to run it". The student sees the same page: their comments, replies,
 * released results and grade. Polls while the checks are not finished.
 */
export function SubmissionView({ submissionId }: { submissionId: string }) {
  const me = useSession();
  const router = useRouter();
  const [state, setState] = useState<State>({ kind: "loading" });
  const [path, setPath] = useState<string | null>(null);
  const [file, setFile] = useState<{ key: string; state: FileState }>({ key: "", state: { kind: "loading" } });
  const [selection, setSelection] = useState<{ line: number; endLine: number } | null>(null);
  const [diffBase, setDiffBase] = useState<DiffBase | null>(null);
  const [bases, setBases] = useState<DiffBase[]>([]);
  const [copyError, setCopyError] = useState<string | null>(null);
  const [copying, setCopying] = useState(false);

  const load = useCallback(() => void getSubmission(submissionId).then((result) => setState(stateOf(result))), [submissionId]);
  useEffect(() => {
    let cancelled = false;
    void getSubmission(submissionId).then((result) => !cancelled && setState(stateOf(result)));
    return () => {
      cancelled = true;
    };
  }, [submissionId]);

  const submission = state.kind === "ready" ? state.submission : null;
  const checksRunning = submission !== null && (submission.checks.status === "pending" || submission.checks.status === "running");
  useVisibleInterval(() => load(), checksRunning ? POLL_MS : null);

  const shownPath = path ?? submission?.files[0]?.path ?? null;
  const canReview = submission !== null && me.role !== "user" && submission.user !== me.username;

  // What the diff can compare with: the starter files (reviewers get them) and the previous version.
  const assignmentId = submission?.assignment_id ?? null;
  const previousId = submission?.previous_id ?? null;
  const previousVersion = (submission?.version ?? 1) - 1;
  useEffect(() => {
    let cancelled = false;
    const previous: DiffBase[] = previousId === null ? [] : [{ kind: "previous", submissionId: previousId, version: previousVersion }];
    void (assignmentId === null ? Promise.resolve(null) : listAssignments()).then((assignments) => {
      if (cancelled) {
        return;
      }
      const starter = assignments?.ok ? assignments.assignments.find((item) => item.id === assignmentId)?.starter : undefined;
      setBases(starter === undefined ? previous : [{ kind: "starter", files: starter }, ...previous]);
    });
    return () => {
      cancelled = true;
    };
  }, [assignmentId, previousId, previousVersion]);

  // Reading the page reads its comments and reviews: the unread count goes down.
  const unread = (submission?.unread ?? 0) > 0;
  useEffect(() => {
    if (unread) {
      void markRead(submissionId);
    }
  }, [unread, submissionId]);

  const fileKey = shownPath === null ? "" : `${submissionId}:${shownPath}`;
  useEffect(() => {
    if (shownPath === null) {
      return;
    }
    let cancelled = false;
    void submissionFileText(submissionId, shownPath).then((result) => {
      if (!cancelled) {
        setFile({ key: fileKey, state: result.ok ? { kind: "ready", text: result.text } : { kind: "failed", message: result.message } });
      }
    });
    return () => {
      cancelled = true;
    };
  }, [submissionId, shownPath, fileKey]);
  const fileState: FileState = file.key === fileKey ? file.state : { kind: "loading" };

  const threads = useMemo(() => (submission === null || shownPath === null ? [] : threadsOf(submission.comments, shownPath)), [submission, shownPath]);
  const counts = useMemo(() => commentCounts(threads), [threads]);
  const select = useCallback((line: number, endLine: number) => setSelection({ line, endLine }), []);

  function commented(comment: Comment) {
    setState((current) =>
      current.kind === "ready" ? { kind: "ready", submission: { ...current.submission, comments: [...current.submission.comments, comment] } } : current,
    );
  }

  function reviewed(review: Review) {
    setState((current) =>
      current.kind === "ready"
        ? { kind: "ready", submission: { ...current.submission, reviews: [...current.submission.reviews, review], status: review.state } }
        : current,
    );
  }

  async function openCopy() {
    setCopying(true);
    setCopyError(null);
    const result = await copySubmission(submissionId);
    setCopying(false);
    if (result.ok) {
      router.push(workspaceUrl(result.workspaceId));
    } else {
      setCopyError(result.message);
    }
  }

  if (state.kind === "loading") {
    return <LoadingState label="Loading the submission…" className="py-24" />;
  }
  if (state.kind === "failed" || submission === null) {
    return (
      <main className="mx-auto max-w-md space-y-4 px-4 py-16">
        <ErrorMessage message={state.kind === "failed" ? state.message : "Not found."} onRetry={() => load()} />
        <Link href="/review/" className="btn-secondary">
          Back to submissions
        </Link>
      </main>
    );
  }

  const title = submission.assignment_title ?? (submission.reviewer ? `Review request to ${submission.reviewer}` : "Submission");
  return (
    <main className="flex h-[calc(100dvh-3.5rem-1px)] min-h-96 flex-col">
      <header className="flex flex-wrap items-center gap-x-3 gap-y-1 border-b border-line bg-surface px-4 py-2">
        <nav aria-label="Breadcrumb" className="flex min-w-0 items-center gap-2 text-sm">
          <Link href="/review/" className="text-fg-muted hover:text-fg hover:underline">
            Submissions
          </Link>
          <span aria-hidden="true" className="text-fg-muted">
            /
          </span>
          <h1 className="truncate font-semibold">
            {title}: version {submission.version}
            {submission.user !== undefined && submission.user !== me.username && ` by ${submission.user}`}
          </h1>
        </nav>
        <span className="rounded-full border border-line px-2 py-0.5 text-xs" data-testid="submission-status">
          {STATE_TEXT[submission.status] ?? submission.status}
        </span>
        {submission.late && <span className="rounded-full bg-danger-soft px-2 py-0.5 text-xs text-danger">Late</span>}
        <time className="text-xs text-fg-muted" dateTime={submission.created_at}>
          {formatDateTime(submission.created_at)}
        </time>
        {submission.checks_status === "done" && (
          <p className="text-sm" data-testid="automated-score">
            Automated: {scoreText(submission.score, submission.max_score)}
          </p>
        )}
        {submission.review_score != null && (
          <p className="text-sm font-semibold" data-testid="grade">
            Grade: {submission.review_score}
          </p>
        )}
        <div className="ml-auto flex items-center gap-2">
          {bases.length > 0 && (
            <label className="flex items-center gap-1.5 text-sm">
              Compare with
              <select
                className="input w-auto py-1"
                value={diffBase === null ? "" : diffBase.kind}
                onChange={(event) => setDiffBase(bases.find((base) => base.kind === event.target.value) ?? null)}
              >
                <option value="">Nothing</option>
                {bases.map((base) => (
                  <option key={base.kind} value={base.kind}>
                    {base.kind === "starter" ? "Starter files" : `Version ${base.version}`}
                  </option>
                ))}
              </select>
            </label>
          )}
          <button type="button" className="btn-secondary px-3 py-1" onClick={() => void openCopy()} disabled={copying}>
            {copying ? "Copying…" : "Open a copy to run it"}
          </button>
        </div>
      </header>
      {submission.message !== undefined && submission.message !== "" && (
        <p className="border-b border-line px-4 py-1.5 text-sm text-fg-muted">“{submission.message}”</p>
      )}
      {copyError !== null && <ErrorMessage message={copyError} />}
      <div className="flex min-h-0 flex-1">
        <nav aria-label="Submitted files" className="w-56 shrink-0 overflow-auto border-r border-line bg-surface py-2">
          <ul>
            {submission.files.map((entry) => (
              <li key={entry.path}>
                <button
                  type="button"
                  aria-current={entry.path === shownPath ? "true" : undefined}
                  className={`w-full truncate px-3 py-1 text-left font-mono text-sm hover:bg-surface-muted ${entry.path === shownPath ? "bg-surface-muted font-semibold" : ""}`}
                  onClick={() => {
                    setPath(entry.path);
                    setSelection(null);
                  }}
                >
                  {entry.path}
                  {submission.comments.some((comment) => comment.path === entry.path) && <span className="sr-only"> (has comments)</span>}
                </button>
              </li>
            ))}
          </ul>
        </nav>
        <section aria-label={shownPath ?? "No file"} className="flex min-w-0 flex-1 flex-col bg-surface">
          {fileState.kind === "loading" && <LoadingState label="Opening the file…" className="py-10" />}
          {fileState.kind === "failed" && <ErrorMessage message={fileState.message} />}
          {fileState.kind === "ready" && shownPath !== null &&
            (diffBase !== null ? (
              <DiffPanel path={shownPath} text={fileState.text} base={diffBase} />
            ) : (
              <SubmissionEditor path={shownPath} text={fileState.text} counts={counts} onSelectLines={select} />
            ))}
        </section>
        <aside aria-label="Results and review" className="w-[28rem] shrink-0 space-y-6 overflow-auto border-l border-line bg-surface p-4">
          <ChecksResults checks={submission.checks} />
          {shownPath !== null && (
            <CommentThreads
              submissionId={submissionId}
              path={shownPath}
              version={submission.version}
              threads={threads}
              selection={selection}
              onSelection={select}
              onAdded={commented}
            />
          )}
          <ReviewPanel submissionId={submissionId} reviews={submission.reviews} canReview={canReview} onAdded={reviewed} />
        </aside>
      </div>
    </main>
  );
}
