"use client";

import { useEffect, useId, useState } from "react";
import Link from "next/link";
import { gradesCsvUrl, listAssignments, type Assignment } from "@/lib/assignments";
import { formatDateTime, formatRelative } from "@/lib/format";
import { STATE_TEXT, scoreText } from "@/lib/review";
import { listSubmissions, submissionUrl, type QueueFilter, type SubmissionStatus, type SubmissionSummary } from "@/lib/submissions";
import { ErrorMessage } from "../ErrorMessage";
import { LoadingState } from "../LoadingState";
import { useSession } from "../SessionProvider";

type ListState = { kind: "loading" } | { kind: "ready"; items: SubmissionSummary[] } | { kind: "failed"; message: string };
type Filters = { assignment: string; status: SubmissionStatus | ""; lateOnly: boolean; ungradedOnly: boolean; oldestFirst: boolean };

const STATUSES = ["submitted", "commented", "changes_requested", "approved"] as const;

/**
 * The submissions list: for a reviewer, the queue of what they may review
 * (filter by assignment, status, late, ungraded; sort by submission time),
 * with the grades CSV of the chosen assignment; for a student, their own
 * submissions with status and unread comments.
 */
export function ReviewQueue({ initialAssignment }: { initialAssignment: string }) {
  const me = useSession();
  const reviewer = me.role !== "user";
  const id = useId();
  const [filters, setFilters] = useState<Filters>({
    assignment: initialAssignment,
    status: "",
    lateOnly: false,
    ungradedOnly: false,
    oldestFirst: reviewer,
  });
  const [assignments, setAssignments] = useState<Assignment[]>([]);
  const [list, setList] = useState<{ key: string; state: ListState }>({ key: "", state: { kind: "loading" } });
  const query: QueueFilter = {
    assignment_id: filters.assignment || null,
    status: filters.status || null,
    late: filters.lateOnly ? true : null,
    ungraded: filters.ungradedOnly,
    order: filters.oldestFirst ? "asc" : "desc",
  };
  const key = JSON.stringify(query);
  const state: ListState = list.key === key ? list.state : { kind: "loading" };

  useEffect(() => {
    void listAssignments().then((result) => result.ok && setAssignments(result.assignments));
  }, []);

  useEffect(() => {
    let cancelled = false;
    void listSubmissions(JSON.parse(key) as QueueFilter).then((result) => {
      if (!cancelled) {
        setList({ key, state: result.ok ? { kind: "ready", items: result.submissions } : { kind: "failed", message: result.message } });
      }
    });
    return () => {
      cancelled = true;
    };
  }, [key]);

  const change = (next: Partial<Filters>) => setFilters((current) => ({ ...current, ...next }));
  const title = (item: SubmissionSummary) =>
    item.assignment_title ?? assignments.find((a) => a.id === item.assignment_id)?.title ?? (item.reviewer ? `Review request to ${item.reviewer}` : "—");

  return (
    <main className="mx-auto w-full max-w-6xl space-y-6 px-4 py-10">
      <div className="flex flex-wrap items-baseline gap-4">
        <h1 className="text-2xl font-semibold tracking-tight">{reviewer ? "Submissions to review" : "Your submissions"}</h1>
        <Link href="/assignments/" className="text-sm underline underline-offset-2">
          Assignments
        </Link>
      </div>
      <form className="flex flex-wrap items-end gap-4 text-sm" aria-label="Filters" onSubmit={(event) => event.preventDefault()}>
        <div>
          <label htmlFor={`${id}-assignment`} className="block font-medium">
            Assignment
          </label>
          <select id={`${id}-assignment`} className="input py-1" value={filters.assignment} onChange={(event) => change({ assignment: event.target.value })}>
            <option value="">All</option>
            {assignments.map((assignment) => (
              <option key={assignment.id} value={assignment.id}>
                {assignment.title}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor={`${id}-status`} className="block font-medium">
            Status
          </label>
          <select id={`${id}-status`} className="input py-1" value={filters.status} onChange={(event) => change({ status: STATUSES.find((status) => status === event.target.value) ?? "" })}>
            <option value="">Any</option>
            {STATUSES.map((status) => (
              <option key={status} value={status}>
                {STATE_TEXT[status]}
              </option>
            ))}
          </select>
        </div>
        <label className="flex items-center gap-1.5">
          <input type="checkbox" checked={filters.lateOnly} onChange={(event) => change({ lateOnly: event.target.checked })} />
          Late only
        </label>
        <label className="flex items-center gap-1.5">
          <input type="checkbox" checked={filters.ungradedOnly} onChange={(event) => change({ ungradedOnly: event.target.checked })} />
          Not reviewed yet
        </label>
        <div>
          <label htmlFor={`${id}-sort`} className="block font-medium">
            Sort
          </label>
          <select
            id={`${id}-sort`}
            className="input py-1"
            value={filters.oldestFirst ? "oldest" : "newest"}
            onChange={(event) => change({ oldestFirst: event.target.value === "oldest" })}
          >
            <option value="oldest">Oldest submission first</option>
            <option value="newest">Newest submission first</option>
          </select>
        </div>
        {reviewer && filters.assignment !== "" && (
          <a href={gradesCsvUrl(filters.assignment)} className="btn-secondary px-3 py-1" download>
            Grades (CSV)
          </a>
        )}
      </form>
      {state.kind === "loading" && <LoadingState label="Loading submissions…" className="py-10" />}
      {state.kind === "failed" && <ErrorMessage message={state.message} />}
      {state.kind === "ready" &&
        (state.items.length === 0 ? (
          <p className="rounded-xl border border-dashed border-line px-4 py-10 text-center text-sm text-fg-muted">No submissions.</p>
        ) : (
          <table className="card w-full overflow-hidden text-sm">
            <caption className="sr-only">Submissions</caption>
            <thead className="bg-surface-muted text-left text-xs text-fg-muted">
              <tr>
                {reviewer && <th className="px-3 py-2 font-medium">Student</th>}
                <th className="px-3 py-2 font-medium">Assignment</th>
                <th className="px-3 py-2 font-medium">Version</th>
                <th className="px-3 py-2 font-medium">Submitted</th>
                <th className="px-3 py-2 font-medium">Status</th>
                <th className="px-3 py-2 font-medium">Automated</th>
                <th className="px-3 py-2 font-medium">Review</th>
                <th className="px-3 py-2 font-medium">Unread</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-line">
              {state.items.map((item) => (
                <tr key={item.id} data-testid="submission-row">
                  {reviewer && <td className="px-3 py-2">{item.user}</td>}
                  <td className="px-3 py-2">
                    <Link href={submissionUrl(item.id)} className="font-medium text-accent hover:underline">
                      {title(item)}
                    </Link>
                  </td>
                  <td className="px-3 py-2">{item.version}</td>
                  <td className="px-3 py-2">
                    <time dateTime={item.created_at} title={formatDateTime(item.created_at)}>
                      {formatRelative(item.created_at)}
                    </time>
                    {item.late && <span className="ml-2 rounded bg-danger-soft px-1 text-xs text-danger">Late</span>}
                  </td>
                  <td className="px-3 py-2">{STATE_TEXT[item.status] ?? item.status}</td>
                  <td className="px-3 py-2">{scoreText(item.score, item.max_score)}</td>
                  <td className="px-3 py-2">{item.review_score ?? "—"}</td>
                  <td className="px-3 py-2">{item.unread ? item.unread : ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ))}
    </main>
  );
}
