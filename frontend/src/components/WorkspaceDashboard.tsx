"use client";

import dynamic from "next/dynamic";
import { useRouter } from "next/navigation";
import { lazy, Suspense, useEffect, useState } from "react";
import Link from "next/link";
import type { Workspace } from "@/api/client";
import type { Result } from "@/lib/result";
import { AccountSection } from "./AccountSection";
import { workspaceUrl } from "@/lib/navigation";
import { deleteWorkspace, listWorkspaces } from "@/lib/workspaces";
import { ConfirmDialog } from "./ConfirmDialog";
import { CreateWorkspaceForm } from "./CreateWorkspaceForm";
import { ErrorMessage } from "./ErrorMessage";
import { LoadingState } from "./LoadingState";
import { useSession } from "./SessionProvider";
import { WorkspaceRow } from "./WorkspaceRow";

// The import UI (and lib/archives.ts) load only where the dashboard shows.
const ImportZip = dynamic(() => import("./ImportZip"), { ssr: false });

// Each workspace's latest submission (status, unread comments), loaded after the list.
const SubmissionBadge = lazy(() => import("./review/SubmissionBadge"));

type ListState = { kind: "loading" } | { kind: "ready"; items: Workspace[] } | { kind: "failed"; message: string };

/** Most recently used first. */
function byRecentUse(a: Workspace, b: Workspace): number {
  const key = (w: Workspace) => Date.parse(w.last_opened_at ?? w.updated_at) || 0;
  return key(b) - key(a);
}

/** The home page: list, create, rename and delete the user's workspaces. */
/** What the list shows for `listWorkspaces`' answer: the most recently used first. */
function listState(result: Result<{ workspaces: Workspace[] }>): ListState {
  return result.ok ? { kind: "ready", items: [...result.workspaces].sort(byRecentUse) } : { kind: "failed", message: result.message };
}

export function WorkspaceDashboard() {
  const router = useRouter();
  const role = useSession().role;
  const isAdmin = role === "admin";
  const isReviewer = role !== "user";
  const [list, setList] = useState<ListState>({ kind: "loading" });
  const [announcement, setAnnouncement] = useState("");
  const [doomed, setDoomed] = useState<Workspace | null>(null);
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState<string | null>(null);

  useEffect(() => {
    void listWorkspaces().then((result) => setList(listState(result)));
  }, []);

  function retry() {
    setList({ kind: "loading" });
    void listWorkspaces().then((result) => setList(listState(result)));
  }

  function created(workspace: Workspace) {
    setList((current) => ({
      kind: "ready",
      items: [workspace, ...(current.kind === "ready" ? current.items : [])],
    }));
    setAnnouncement(`Created workspace ${workspace.name}.`);
  }

  function askDelete(workspace: Workspace) {
    setDeleteError(null);
    setDoomed(workspace);
  }

  async function confirmDelete() {
    if (doomed === null) {
      return;
    }
    setDeleting(true);
    setDeleteError(null);
    const result = await deleteWorkspace(doomed.id);
    if (result.ok) {
      const gone = doomed;
      setList((current) =>
        current.kind === "ready" ? { kind: "ready", items: current.items.filter((w) => w.id !== gone.id) } : current,
      );
      setAnnouncement(`Deleted workspace ${gone.name}.`);
      setDoomed(null);
    } else {
      setDeleteError(result.message);
    }
    setDeleting(false);
  }

  return (
    <main className="mx-auto w-full max-w-3xl space-y-8 px-4 py-10">
      <div className="space-y-1">
        <h1 className="text-2xl font-semibold tracking-tight">Your workspaces</h1>
        <p className="text-sm text-fg-muted">Each workspace has its own files, terminal and Python sandbox.</p>
        {/* Here, not in the header: the workspace page's scripts stay as they are. */}
        <p className="flex gap-4 text-sm">
          <Link href="/assignments/" className="underline underline-offset-2">
            Assignments
          </Link>
          <Link href="/review/" className="underline underline-offset-2">
            {isReviewer ? "Submissions to review" : "Your submissions"}
          </Link>
          {isAdmin && (
            <a href="/admin/" className="underline underline-offset-2">
              Administration
            </a>
          )}
        </p>
      </div>

      <section className="card p-4 sm:p-5">
        <CreateWorkspaceForm
          onCreated={(workspace) => {
            created(workspace);
            // Made to be used: straight into it, as with a new file.
            router.push(workspaceUrl(workspace.id));
          }}
        />
        <ImportZip
          onImported={(workspace) => {
            created(workspace);
            setAnnouncement(`Imported workspace ${workspace.name}.`);
          }}
        />
      </section>

      <section aria-labelledby="workspace-list-title" className="space-y-3">
        <h2 id="workspace-list-title" className="sr-only">
          Workspaces
        </h2>
        <p role="status" className="sr-only">
          {announcement}
        </p>
        {list.kind === "loading" && <LoadingState label="Loading workspaces…" className="py-10" />}
        {list.kind === "failed" && <ErrorMessage message={list.message} onRetry={retry} />}
        {list.kind === "ready" &&
          (list.items.length === 0 ? (
            <p className="rounded-xl border border-dashed border-line px-4 py-10 text-center text-sm text-fg-muted">
              No workspaces yet. Create one above to start coding.
            </p>
          ) : (
            <ul className="card divide-y divide-line overflow-hidden">
              {list.items.map((workspace) => (
                <WorkspaceRow
                  key={workspace.id}
                  workspace={workspace}
                  badge={
                    <Suspense fallback={null}>
                      <SubmissionBadge workspaceId={workspace.id} />
                    </Suspense>
                  }
                  onDelete={askDelete}
                  onRenamed={(renamed) => {
                    setList((current) =>
                      current.kind === "ready"
                        ? { kind: "ready", items: current.items.map((w) => (w.id === renamed.id ? renamed : w)) }
                        : current,
                    );
                    setAnnouncement(`Renamed to ${renamed.name}.`);
                  }}
                />
              ))}
            </ul>
          ))}
      </section>

      <ConfirmDialog
        open={doomed !== null}
        title="Delete workspace?"
        confirmLabel="Delete"
        busyLabel="Deleting…"
        busy={deleting}
        error={deleteError}
        onConfirm={() => void confirmDelete()}
        onCancel={() => setDoomed(null)}
      >
        <p>
          <strong className="font-semibold text-fg">{doomed?.name}</strong> and all its files, history and snapshots will be
          deleted. This cannot be undone.
        </p>
      </ConfirmDialog>

      <AccountSection />
    </main>
  );
}
