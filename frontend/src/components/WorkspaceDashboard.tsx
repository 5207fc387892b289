"use client";

import { useCallback, useEffect, useState } from "react";
import { api, errorMessage, NETWORK_ERROR, type Workspace } from "@/api/client";
import { ConfirmDialog } from "./ConfirmDialog";
import { CreateWorkspaceForm } from "./CreateWorkspaceForm";
import { ErrorMessage } from "./ErrorMessage";
import { LoadingState } from "./LoadingState";
import { WorkspaceRow } from "./WorkspaceRow";

type ListState = { kind: "loading" } | { kind: "ready"; items: Workspace[] } | { kind: "failed"; message: string };

/** Most recently used first. */
function byRecentUse(a: Workspace, b: Workspace): number {
  const key = (w: Workspace) => Date.parse(w.last_opened_at ?? w.updated_at) || 0;
  return key(b) - key(a);
}

/** The home page: list, create, rename and delete the user's workspaces. */
export function WorkspaceDashboard() {
  const [list, setList] = useState<ListState>({ kind: "loading" });
  const [announcement, setAnnouncement] = useState("");
  const [doomed, setDoomed] = useState<Workspace | null>(null);
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState<string | null>(null);

  const load = useCallback(async () => {
    setList({ kind: "loading" });
    try {
      const { data, error, response } = await api.GET("/api/workspaces");
      setList(
        data !== undefined
          ? { kind: "ready", items: [...data].sort(byRecentUse) }
          : { kind: "failed", message: errorMessage(error, response) },
      );
    } catch {
      setList({ kind: "failed", message: NETWORK_ERROR });
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

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
    try {
      const { error, response } = await api.DELETE("/api/workspaces/{workspace_id}", {
        params: { path: { workspace_id: doomed.id } },
      });
      // 404: already gone (another tab), which is what was asked for.
      if (response.ok || response.status === 404) {
        const gone = doomed;
        setList((current) =>
          current.kind === "ready" ? { kind: "ready", items: current.items.filter((w) => w.id !== gone.id) } : current,
        );
        setAnnouncement(`Deleted workspace ${gone.name}.`);
        setDoomed(null);
      } else {
        setDeleteError(errorMessage(error, response));
      }
    } catch {
      setDeleteError(NETWORK_ERROR);
    }
    setDeleting(false);
  }

  return (
    <main className="mx-auto w-full max-w-3xl space-y-8 px-4 py-10">
      <div className="space-y-1">
        <h1 className="text-2xl font-semibold tracking-tight">Your workspaces</h1>
        <p className="text-sm text-fg-muted">Each workspace has its own files, terminal and Python sandbox.</p>
      </div>

      <section className="card p-4 sm:p-5">
        <CreateWorkspaceForm onCreated={created} />
      </section>

      <section aria-labelledby="workspace-list-title" className="space-y-3">
        <h2 id="workspace-list-title" className="sr-only">
          Workspaces
        </h2>
        <p role="status" className="sr-only">
          {announcement}
        </p>
        {list.kind === "loading" && <LoadingState label="Loading workspaces…" className="py-10" />}
        {list.kind === "failed" && <ErrorMessage message={list.message} onRetry={() => void load()} />}
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
          <strong className="font-semibold text-fg">{doomed?.name}</strong> and all its files will be deleted. This
          cannot be undone.
        </p>
      </ConfirmDialog>
    </main>
  );
}
