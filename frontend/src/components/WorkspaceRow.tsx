"use client";

import { useState, type FormEvent, type ReactNode } from "react";
import Link from "next/link";
import type { Workspace } from "@/api/client";
import { renameWorkspace } from "@/lib/workspaces";
import { formatDateTime, formatRelative } from "@/lib/format";
import { workspaceUrl } from "@/lib/navigation";

/** One workspace in the list: open link, when it was last used, rename in place, delete. */
export function WorkspaceRow({
  workspace,
  badge,
  onDelete,
  onRenamed,
}: {
  workspace: Workspace;
  /** A line under the name (the latest submission's status). */
  badge?: ReactNode;
  onDelete: (workspace: Workspace) => void;
  onRenamed: (workspace: Workspace) => void;
}) {
  const [renaming, setRenaming] = useState(false);
  const [name, setName] = useState(workspace.name);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const when = workspace.last_opened_at ?? workspace.updated_at;
  const verb = workspace.last_opened_at ? "Opened" : "Updated";

  async function rename(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const trimmed = name.trim();
    if (trimmed === "" || trimmed === workspace.name) {
      setRenaming(false);
      return;
    }
    setBusy(true);
    setError(null);
    const result = await renameWorkspace(workspace.id, trimmed);
    if (result.ok) {
      onRenamed(result.workspace);
      setRenaming(false);
    } else {
      setError(result.message);
    }
    setBusy(false);
  }

  return (
    <li className="group flex items-center gap-4 px-4 py-3 hover:bg-surface-muted">
      <div className="min-w-0 flex-1">
        {renaming ? (
          <form onSubmit={(event) => void rename(event)} className="space-y-1" noValidate>
            <input
              className="input py-1"
              value={name}
              onChange={(event) => setName(event.target.value)}
              onKeyDown={(event) => {
                if (event.key === "Escape") {
                  setRenaming(false);
                  setName(workspace.name);
                }
              }}
              aria-label={`New name for ${workspace.name}`}
              maxLength={100}
              disabled={busy}
              autoFocus
            />
            {error !== null && (
              <p role="alert" className="text-xs text-danger">
                {error}
              </p>
            )}
          </form>
        ) : (
          <Link
            href={workspaceUrl(workspace.id)}
            className="block truncate rounded font-medium text-fg hover:text-accent hover:underline"
          >
            {workspace.name}
          </Link>
        )}
        <p className="text-xs text-fg-muted">
          {verb}{" "}
          <time dateTime={when} title={formatDateTime(when)}>
            {formatRelative(when)}
          </time>
        </p>
        {badge}
      </div>
      <button
        type="button"
        className="btn-ghost px-2.5 py-1.5"
        onClick={() => {
          setName(workspace.name);
          setError(null);
          setRenaming((current) => !current);
        }}
        aria-label={`Rename ${workspace.name}`}
      >
        {renaming ? "Cancel" : "Rename"}
      </button>
      <button
        type="button"
        className="btn-ghost px-2.5 py-1.5 hover:text-danger"
        onClick={() => onDelete(workspace)}
        aria-label={`Delete ${workspace.name}`}
      >
        Delete
      </button>
    </li>
  );
}
