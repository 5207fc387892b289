"use client";

import { useEffect, useState } from "react";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { gradesCsvUrl, listAssignments, startAssignment, type Assignment } from "@/lib/assignments";
import { formatDateTime, parseTimestamp } from "@/lib/format";
import { workspaceUrl } from "@/lib/navigation";
import type { Result } from "@/lib/result";
import { ErrorMessage } from "../ErrorMessage";
import { LoadingState } from "../LoadingState";
import { useSession } from "../SessionProvider";
import { AssignmentForm } from "./AssignmentForm";
import { Markdown } from "./Markdown";

type ListState = { kind: "loading" } | { kind: "ready"; items: Assignment[] } | { kind: "failed"; message: string };

function listState(result: Result<{ assignments: Assignment[] }>): ListState {
  return result.ok ? { kind: "ready", items: result.assignments } : { kind: "failed", message: result.message };
}

/**
 * `/assignments/`: the assignments the caller may see, each with its
 * description (Markdown, rendered safely), its due date and "Start" (a new
 * workspace from its starter files); reviewers and administrators also create
 * assignments here and reach each one's submissions and grades CSV.
 */
export function AssignmentsView() {
  const me = useSession();
  const router = useRouter();
  const canCreate = me.role !== "user";
  const [list, setList] = useState<ListState>({ kind: "loading" });
  // When the page opened: what "past due" is measured against.
  const [now] = useState(() => Date.now());
  const [creating, setCreating] = useState(false);
  const [announcement, setAnnouncement] = useState("");
  const [starting, setStarting] = useState<string | null>(null);
  const [startError, setStartError] = useState<{ id: string; message: string } | null>(null);

  const load = () => void listAssignments().then((result) => setList(listState(result)));
  useEffect(() => {
    void listAssignments().then((result) => setList(listState(result)));
  }, []);

  async function start(assignment: Assignment) {
    setStarting(assignment.id);
    setStartError(null);
    const result = await startAssignment(assignment.id);
    setStarting(null);
    if (result.ok) {
      router.push(workspaceUrl(result.workspaceId));
    } else {
      setStartError({ id: assignment.id, message: result.message });
    }
  }

  return (
    <main className="mx-auto w-full max-w-3xl space-y-8 px-4 py-10">
      <div className="flex flex-wrap items-baseline gap-4">
        <h1 className="text-2xl font-semibold tracking-tight">Assignments</h1>
        <Link href="/review/" className="text-sm underline underline-offset-2">
          {canCreate ? "Submissions to review" : "Your submissions"}
        </Link>
        {canCreate && !creating && (
          <button type="button" className="btn-primary ml-auto" onClick={() => setCreating(true)}>
            New assignment
          </button>
        )}
      </div>
      <p role="status" className="sr-only">
        {announcement}
      </p>
      {creating && (
        <AssignmentForm
          onCancel={() => setCreating(false)}
          onCreated={(assignment) => {
            setCreating(false);
            setAnnouncement(`Created assignment ${assignment.title}.`);
            setList((current) => ({ kind: "ready", items: [assignment, ...(current.kind === "ready" ? current.items : [])] }));
          }}
        />
      )}
      {list.kind === "loading" && <LoadingState label="Loading assignments…" className="py-10" />}
      {list.kind === "failed" && <ErrorMessage message={list.message} onRetry={load} />}
      {list.kind === "ready" &&
        (list.items.length === 0 ? (
          <p className="rounded-xl border border-dashed border-line px-4 py-10 text-center text-sm text-fg-muted">No assignments yet.</p>
        ) : (
          <ul className="space-y-4" aria-label="Assignments">
            {list.items.map((assignment) => {
              const due = assignment.due_at ?? null;
              const pastDue = due !== null && parseTimestamp(due) < now;
              return (
                <li key={assignment.id} className="card space-y-3 p-5" aria-labelledby={`assignment-${assignment.id}`}>
                  <div className="flex flex-wrap items-baseline gap-3">
                    <h2 id={`assignment-${assignment.id}`} className="text-lg font-semibold">
                      {assignment.title}
                    </h2>
                    {due !== null && (
                      <p className={`text-sm ${pastDue ? "text-danger" : "text-fg-muted"}`}>
                        Due <time dateTime={due}>{formatDateTime(due)}</time>
                      </p>
                    )}
                  </div>
                  <Markdown source={assignment.description} />
                  <div className="flex flex-wrap items-center gap-2">
                    <button
                      type="button"
                      className="btn-primary"
                      onClick={() => void start(assignment)}
                      disabled={starting !== null}
                      aria-label={`Start ${assignment.title}`}
                    >
                      {starting === assignment.id ? "Starting…" : "Start"}
                    </button>
                    {canCreate && (
                      <>
                        <Link href={`/review/?assignment=${encodeURIComponent(assignment.id)}`} className="btn-secondary">
                          Submissions
                        </Link>
                        <a href={gradesCsvUrl(assignment.id)} className="btn-secondary" download>
                          Grades (CSV)
                        </a>
                      </>
                    )}
                  </div>
                  {startError?.id === assignment.id && <ErrorMessage message={startError.message} />}
                </li>
              );
            })}
          </ul>
        ))}
    </main>
  );
}
