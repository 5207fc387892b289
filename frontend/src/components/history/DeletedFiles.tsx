"use client";

import { useState } from "react";
import { useReloadable } from "@/hooks/useReloadable";
import { formatBytes, formatDateTime, formatRelative } from "@/lib/format";
import { deletedFiles, restoreVersion, type Restored, type Version } from "@/lib/history";
import { ErrorMessage } from "../ErrorMessage";
import { LoadingState } from "../LoadingState";

/** Files that were deleted but have history: each can be brought back as it last was. */
export function DeletedFiles({ workspaceId, onRestored }: { workspaceId: string; onRestored: (restored: Restored) => void }) {
  const [files, setFiles] = useState<Version[] | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const { error, setError, reload: load } = useReloadable(workspaceId, () => deletedFiles(workspaceId), (result) =>
    setFiles(result.versions),
  );

  const restore = async (version: Version) => {
    setBusy(version.id);
    const result = await restoreVersion(workspaceId, version.id);
    setBusy(null);
    if (result.ok) {
      onRestored(result.restored);
      load();
    } else {
      setError(result.message);
    }
  };

  return (
    <div className="min-h-0 flex-1 overflow-auto p-3">
      {error !== null && <ErrorMessage message={error} onRetry={load} />}
      {files === null && error === null && <LoadingState label="Loading deleted files…" />}
      {files !== null && files.length === 0 && <p className="text-sm text-fg-muted">No deleted files with history.</p>}
      <ul aria-label="Deleted files" className="divide-y divide-line">
        {files?.map((version) => (
          <li key={version.path} className="flex items-center gap-3 py-2 text-sm">
            <span className="min-w-0 flex-1 truncate font-mono">{version.path}</span>
            <span className="text-xs text-fg-muted" title={formatDateTime(version.created_at)}>
              last saved {formatRelative(version.created_at)} · {formatBytes(version.size)}
            </span>
            <button
              type="button"
              className="btn-secondary px-2 py-1 text-xs"
              disabled={busy !== null}
              onClick={() => void restore(version)}
              aria-label={`Restore this file: ${version.path}`}
            >
              {busy === version.id ? "Restoring…" : "Restore this file"}
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
