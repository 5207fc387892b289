"use client";

import { useCallback, useEffect, useId, useState, type FormEvent } from "react";
import Link from "next/link";
import { useVisibleInterval } from "@/hooks/useVisibleInterval";
import { listAssignments, type Assignment } from "@/lib/assignments";
import { formatDateTime, formatRelative } from "@/lib/format";
import { STATE_TEXT, ofWorkspace, scoreText } from "@/lib/review";
import { listSubmissions, submissionFileText, submissionUrl, submit, type SubmissionSummary } from "@/lib/submissions";
import type { Result } from "@/lib/result";
import { ErrorMessage } from "../ErrorMessage";
import { DiffView } from "../history/DiffView";
import { Icon } from "../Icon";

type Mode = "assignment" | "review";
type Comparison = { kind: "ready"; path: string; version: number; before: string; after: string } | { kind: "failed"; message: string };
const POLL_MS = 3000;

/**
 * The IDE's submission drawer (loaded on demand, never with the IDE): submit
 * the workspace to an assignment (with a message) as its next version, or
 * request a review of it from a named reviewer; and this workspace's
 * submissions with their status, automated score and unread comments, each
 * opening its read-only view where the comments sit in the gutter, and the
 * open file compared side by side with its submitted version. Saves the
 * open files first (`saveAll`), so what is submitted is what the editor shows.
 */
export function SubmitPanel({
  workspaceId,
  path,
  readText,
  saveAll,
  onClose,
}: {
  workspaceId: string;
  /** The file open in the editor, which can be compared with its submitted version. */
  path: string | null;
  /** The open file's text in the editor (null when the editor does not hold it). */
  readText: (path: string) => string | null;
  saveAll: () => Promise<boolean>;
  onClose: () => void;
}) {
  const id = useId();
  const [items, setItems] = useState<SubmissionSummary[] | null>(null);
  const [listError, setListError] = useState<string | null>(null);
  // null until the list has come: the form cannot tell "none" from "not yet".
  const [assignments, setAssignments] = useState<Assignment[] | null>(null);
  const [mode, setMode] = useState<Mode>("assignment");
  const [assignmentId, setAssignmentId] = useState("");
  const [reviewer, setReviewer] = useState("");
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [announcement, setAnnouncement] = useState("");
  const [comparing, setComparing] = useState<Comparison | null>(null);

  const showList = useCallback(
    (result: Result<{ submissions: SubmissionSummary[] }>) => {
      if (result.ok) {
        setItems(ofWorkspace(result.submissions, workspaceId));
        setListError(null);
      } else {
        setListError(result.message);
      }
    },
    [workspaceId],
  );
  const refresh = useCallback(() => void listSubmissions({ workspace_id: workspaceId }).then(showList), [showList, workspaceId]);

  useEffect(() => {
    void listSubmissions({ workspace_id: workspaceId }).then(showList);
    void listAssignments().then((result) => {
      setAssignments(result.ok ? result.assignments : []);
      if (!result.ok) setError(result.message);
    });
  }, [showList, workspaceId]);

  // The assignment this workspace was started from, or last submitted to.
  const known =
    assignments?.find((assignment) => assignment.workspaces.includes(workspaceId))?.id ??
    items?.find((item) => item.assignment_id)?.assignment_id ??
    "";
  // Never a guess: a workspace not started from an assignment names one first.
  const chosen = assignmentId !== "" ? assignmentId : known;
  // Submitting before both lists are in would ask for an assignment the
  // workspace already has (the one it was started from or last submitted to).
  const loading = mode === "assignment" && (assignments === null || (items === null && listError === null));
  const checking = items?.some((item) => item.checks_status === "pending" || item.checks_status === "running") ?? false;
  useVisibleInterval(() => refresh(), checking ? POLL_MS : null);

  async function compare(item: SubmissionSummary, file: string) {
    const result = await submissionFileText(item.id, file);
    const now = readText(file) ?? "";
    setComparing(
      result.ok
        ? { kind: "ready", path: file, version: item.version, before: result.text, after: now }
        : result.status === 404
          ? { kind: "ready", path: file, version: item.version, before: "", after: now }
          : { kind: "failed", message: result.message },
    );
  }

  async function send(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (mode === "assignment" && chosen === "") {
      setError("Choose the assignment to submit to.");
      return;
    }
    if (mode === "review" && reviewer.trim() === "") {
      setError("Name the reviewer to ask.");
      return;
    }
    setBusy(true);
    setError(null);
    if (!(await saveAll())) {
      setBusy(false);
      setError("Some files could not be saved, so nothing was submitted.");
      return;
    }
    const result = await submit(
      workspaceId,
      mode === "assignment" ? { message, assignmentId: chosen } : { message, reviewer: reviewer.trim() },
    );
    setBusy(false);
    if (result.ok) {
      setMessage("");
      setAnnouncement(mode === "assignment" ? `Submitted version ${result.submission.version}.` : `Review requested from ${reviewer.trim()}.`);
      refresh();
    } else {
      setError(result.message);
    }
  }

  return (
    <aside
      aria-label="Submissions"
      className={`fixed inset-y-0 right-0 z-40 flex ${comparing === null ? "w-[min(32rem,96vw)]" : "w-[min(64rem,96vw)]"} flex-col border-l border-line bg-surface shadow-2xl`}
      onKeyDown={(event) => event.key === "Escape" && onClose()}
    >
      <div className="flex items-center border-b border-line px-3 py-1.5">
        <h2 className="text-sm font-semibold">Submit and review</h2>
        <button type="button" onClick={onClose} className="ml-auto rounded p-1.5 text-fg-muted hover:bg-surface-muted" aria-label="Close submissions">
          <Icon name="close" />
        </button>
      </div>
      {comparing !== null && (
        <div className="flex h-1/2 min-h-48 flex-col border-b border-line">
          <div className="flex items-center px-3 py-1 text-sm">
            <span className="font-medium">{comparing.kind === "ready" ? `${comparing.path}: submitted and now` : "Comparison"}</span>
            <button type="button" className="btn-ghost ml-auto px-2 py-0.5 text-xs" onClick={() => setComparing(null)}>
              Close comparison
            </button>
          </div>
          {comparing.kind === "failed" ? (
            <ErrorMessage message={comparing.message} />
          ) : (
            <DiffView before={comparing.before} after={comparing.after} beforeLabel={`Version ${comparing.version}`} afterLabel="Now" />
          )}
        </div>
      )}
      <div className="min-h-0 flex-1 space-y-6 overflow-auto p-4">
        <form onSubmit={(event) => void send(event)} className="space-y-3" aria-label="Submit this workspace" noValidate>
          <fieldset className="flex gap-4 text-sm">
            <legend className="sr-only">What to do</legend>
            <label className="flex items-center gap-1.5">
              <input type="radio" name={`${id}-mode`} checked={mode === "assignment"} onChange={() => setMode("assignment")} />
              Submit to an assignment
            </label>
            <label className="flex items-center gap-1.5">
              <input type="radio" name={`${id}-mode`} checked={mode === "review"} onChange={() => setMode("review")} />
              Request a review
            </label>
          </fieldset>
          {mode === "assignment" ? (
            <div className="space-y-1">
              <label htmlFor={`${id}-assignment`} className="block text-sm font-medium">
                Assignment
              </label>
              <select id={`${id}-assignment`} className="input" value={chosen} onChange={(event) => setAssignmentId(event.target.value)} disabled={busy}>
                {chosen === "" && (
                  <option value="">{assignments === null ? "Loading assignments…" : assignments.length === 0 ? "No assignment" : "Choose an assignment"}</option>
                )}
                {(assignments ?? []).map((assignment) => (
                  <option key={assignment.id} value={assignment.id}>
                    {assignment.title}
                  </option>
                ))}
              </select>
            </div>
          ) : (
            <div className="space-y-1">
              <label htmlFor={`${id}-reviewer`} className="block text-sm font-medium">
                Reviewer (username)
              </label>
              <input id={`${id}-reviewer`} className="input" value={reviewer} onChange={(event) => setReviewer(event.target.value)} disabled={busy} />
            </div>
          )}
          <div className="space-y-1">
            <label htmlFor={`${id}-message`} className="block text-sm font-medium">
              Message
            </label>
            <textarea id={`${id}-message`} className="input min-h-16 font-sans" value={message} onChange={(event) => setMessage(event.target.value)} disabled={busy} />
          </div>
          {error !== null && <ErrorMessage message={error} />}
          <button type="submit" className="btn-primary" disabled={busy || loading}>
            {busy ? "Submitting…" : mode === "assignment" ? "Submit this version" : "Request review"}
          </button>
          <p role="status" className="text-sm text-fg-muted">
            {announcement}
          </p>
        </form>
        <section aria-labelledby={`${id}-list`} className="space-y-2">
          <h3 id={`${id}-list`} className="text-sm font-semibold">
            Submissions of this workspace
          </h3>
          {listError !== null && <ErrorMessage message={listError} onRetry={() => refresh()} />}
          {items !== null && items.length === 0 && <p className="text-sm text-fg-muted">Nothing submitted yet.</p>}
          {items !== null && items.length > 0 && (
            <ul className="divide-y divide-line rounded-md border border-line">
              {items.map((item) => (
                <li key={item.id} className="space-y-0.5 px-3 py-2 text-sm" data-testid="workspace-submission">
                  <Link href={submissionUrl(item.id)} className="font-medium text-accent hover:underline">
                    {item.reviewer && !item.assignment_id ? `Review request to ${item.reviewer}` : `Version ${item.version}`}
                  </Link>{" "}
                  <span>{STATE_TEXT[item.status] ?? item.status}</span>
                  {item.late && <span className="ml-2 rounded bg-danger-soft px-1 text-xs text-danger">Late</span>}
                  <p className="text-xs text-fg-muted">
                    <time dateTime={item.created_at} title={formatDateTime(item.created_at)}>
                      {formatRelative(item.created_at)}
                    </time>
                    {" · checks "}
                    {item.checks_status === "done" ? scoreText(item.score, item.max_score) : (item.checks_status ?? "pending")}
                    {item.unread ? ` · ${item.unread} unread comment${item.unread === 1 ? "" : "s"}` : ""}
                  </p>
                  {path !== null && (
                    <button type="button" className="text-xs text-accent underline underline-offset-2" onClick={() => void compare(item, path)}>
                      Compare {path} with this version
                    </button>
                  )}
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
    </aside>
  );
}
