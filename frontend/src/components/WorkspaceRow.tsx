import Link from "next/link";
import type { Workspace } from "@/api/client";
import { formatDateTime, formatRelative } from "@/lib/format";
import { workspaceUrl } from "@/lib/navigation";

/** One workspace in the list: open link, when it was last used, delete. */
export function WorkspaceRow({ workspace, onDelete }: { workspace: Workspace; onDelete: (workspace: Workspace) => void }) {
  const when = workspace.last_opened_at ?? workspace.updated_at;
  const verb = workspace.last_opened_at ? "Opened" : "Updated";
  return (
    <li className="group flex items-center gap-4 px-4 py-3 hover:bg-surface-muted">
      <div className="min-w-0 flex-1">
        <Link
          href={workspaceUrl(workspace.id)}
          className="block truncate rounded font-medium text-fg hover:text-accent hover:underline"
        >
          {workspace.name}
        </Link>
        <p className="text-xs text-fg-muted">
          {verb}{" "}
          <time dateTime={when} title={formatDateTime(when)}>
            {formatRelative(when)}
          </time>
        </p>
      </div>
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
