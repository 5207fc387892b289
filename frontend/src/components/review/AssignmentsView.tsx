"use client";

import { useEffect, useState, type FormEvent } from "react";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { gradesCsvUrl, joinAssignment, listAssignments, releaseResults, startAssignment, type Assignment } from "@/lib/assignments";
import { formatDateTime } from "@/lib/format";
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
  const [creating, setCreating] = useState(false);
  const [announcement, setAnnouncement] = useState("");
  const [starting, setStarting] = useState<string | null>(null);
  const [startError, setStartError] = useState<{ id: string; message: string } | null>(null);
  const [code, setCode] = useState("");
  const [joinError, setJoinError] = useState<string | null>(null);

  const load = () => void listAssignments().then((result) => setList(listState(result)));
  useEffect(() => {
    void listAssignments().then((result) => setList(listState(result)));
  }, []);

  function replaced(assignment: Assignment) {
    setList((current) =>
      current.kind === "ready"
        ? { kind: "ready", items: [assignment, ...current.items.filter((item) => item.id !== assignment.id)] }
        : current,
    );
  }

  async function release(assignment: Assignment) {
    const result = await releaseResults(assignment.id);
    if (result.ok) {
      replaced(result.assignment);
      setAnnouncement(`Released the results of ${assignment.title}.`);
    } else {
      setStartError({ id: assignment.id, message: result.message });
    }
  }

  async function join(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const result = await joinAssignment(code.trim());
    if (result.ok) {
      setCode("");
      setJoinError(null);
      replaced(result.assignment);
      setAnnouncement(`Joined ${result.assignment.title}.`);
    } else {
      setJoinError(result.message);
    }
  }

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
      <form onSubmit={(event) => void join(event)} className="flex flex-wrap items-end gap-2" aria-label="Join an assignment" noValidate>
        <div>
          <label htmlFor="join-code" className="block text-sm font-medium">
            Join code
          </label>
          <input id="join-code" className="input py-1" value={code} onChange={(event) => setCode(event.target.value)} maxLength={32} />
        </div>
        <button type="submit" className="btn-secondary px-3 py-1.5" disabled={code.trim() === ""}>
          Join
        </button>
        {joinError !== null && <ErrorMessage message={joinError} />}
      </form>
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
              const pastDue = assignment.past_due;
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
                    {assignment.reviewer && (
                      <>
                        <Link href={`/review/?assignment=${encodeURIComponent(assignment.id)}`} className="btn-secondary">
                          Submissions
                        </Link>
                        <a href={gradesCsvUrl(assignment.id)} className="btn-secondary" download>
                          Grades (CSV)
                        </a>
                        {assignment.release === "manual" && !assignment.released && (
                          <button type="button" className="btn-secondary" onClick={() => void release(assignment)}>
                            Release results
                          </button>
                        )}
                      </>
                    )}
                  </div>
                  {assignment.reviewer && (
                    <p className="text-xs text-fg-muted">
                      {assignment.published ? "Published" : "Not published"} · results {assignment.released ? "released" : "not released yet"}
                      {assignment.join_code != null && (
                        <>
                          {" "}
                          · join code <code className="font-mono text-fg">{assignment.join_code}</code>
                        </>
                      )}
                      {assignment.tests != null && ` · ${Object.keys(assignment.tests).length} hidden test file(s)`}
                    </p>
                  )}
                  {startError?.id === assignment.id && <ErrorMessage message={startError.message} />}
                </li>
              );
            })}
          </ul>
        ))}
    </main>
  );
}
