"use client";

import { useEffect, useEffectEvent, useState } from "react";
import { useReloadable } from "@/hooks/useReloadable";
import { readFile } from "@/lib/files";
import { formatBytes, formatDateTime, formatRelative } from "@/lib/format";
import { fileHistory, restoreVersion, versionText, type Restored, type Version } from "@/lib/history";
import { ErrorMessage } from "../ErrorMessage";
import { LoadingState } from "../LoadingState";
import { DiffView } from "./DiffView";

export const SOURCE_LABELS: Record<Version["source"], string> = {
  editor: "Editor",
  api: "API",
  sandbox: "Program or terminal",
  restore: "Restore",
  import: "Import",
};

/**
 * The open file's versions, newest first, each with when and what made it;
 * the selected one is compared with the file's current text, and can be
 * restored (the state before is kept as a snapshot, so that is undoable).
 */
export function FileHistory({
  workspaceId,
  path,
  readText,
  onRestored,
}: {
  workspaceId: string;
  path: string | null;
  readText: (path: string) => string | null;
  onRestored: (restored: Restored) => void;
}) {
  const [versions, setVersions] = useState<Version[] | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [texts, setTexts] = useState<{ before: string; after: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const editorText = useEffectEvent((file: string) => readText(file));
  const {
    error,
    setError,
    reload: load,
    generation,
  } = useReloadable(
    path === null ? null : `${workspaceId}/${path}`,
    () => fileHistory(workspaceId, path ?? ""),
    (result) => {
      setVersions(result.versions);
      setSelected((current) => current ?? result.versions[0]?.id ?? null);
    },
  );

  useEffect(() => {
    if (selected === null || path === null) {
      return;
    }
    let live = true;
    const inEditor = editorText(path);
    const now =
      inEditor !== null
        ? Promise.resolve(inEditor)
        : readFile(workspaceId, path).then((r) => (r.ok && r.content.kind === "text" ? r.content.text : ""));
    void Promise.all([versionText(workspaceId, selected), now]).then(([version, after]) => {
      if (!live) {
        return;
      }
      if (version.ok) {
        setTexts({ before: version.text, after });
      } else {
        setError(version.message);
      }
    });
    return () => {
      live = false;
    };
  }, [workspaceId, path, selected, generation, setError]);

  const restore = async () => {
    if (selected === null) {
      return;
    }
    setBusy(true);
    const result = await restoreVersion(workspaceId, selected);
    setBusy(false);
    if (result.ok) {
      onRestored(result.restored);
      load();
    } else {
      setError(result.message);
    }
  };

  if (path === null) {
    return <p className="p-4 text-sm text-fg-muted">Open a file to see its history.</p>;
  }
  const chosen = versions?.find((v) => v.id === selected) ?? null;
  return (
    <div className="flex min-h-0 flex-1">
      <div className="flex w-64 shrink-0 flex-col border-r border-line">
        <h2 className="truncate border-b border-line px-3 py-2 text-sm font-semibold" title={path}>
          {path}
        </h2>
        {versions === null && error === null && <LoadingState label="Loading history…" />}
        {versions !== null && versions.length === 0 && <p className="p-3 text-sm text-fg-muted">No versions of this file yet.</p>}
        <ol aria-label="Versions" className="min-h-0 flex-1 overflow-auto">
          {versions?.map((version) => (
            <li key={version.id}>
              <button
                type="button"
                aria-pressed={version.id === selected}
                onClick={() => setSelected(version.id)}
                className={`block w-full px-3 py-1.5 text-left text-sm ${version.id === selected ? "bg-surface-muted" : "hover:bg-surface-muted"}`}
              >
                <time dateTime={version.created_at} title={formatDateTime(version.created_at)} className="block">
                  {formatRelative(version.created_at)}
                </time>
                <span className="text-xs text-fg-muted">
                  {SOURCE_LABELS[version.source]} · {formatBytes(version.size)}
                </span>
              </button>
            </li>
          ))}
        </ol>
      </div>
      <div className="flex min-w-0 flex-1 flex-col">
        {error !== null && <ErrorMessage message={error} onRetry={load} />}
        {chosen !== null && (
          <div className="flex items-center gap-2 border-b border-line px-3 py-1.5">
            <p className="min-w-0 flex-1 truncate text-sm text-fg-muted">
              Version of {formatDateTime(chosen.created_at)} (left) against the current text (right)
            </p>
            <button type="button" className="btn-primary px-3 py-1 text-sm" disabled={busy} onClick={() => void restore()}>
              {busy ? "Restoring…" : "Restore this version"}
            </button>
          </div>
        )}
        {texts !== null && chosen !== null && (
          <DiffView before={texts.before} after={texts.after} beforeLabel="This version" afterLabel="Now" />
        )}
      </div>
    </div>
  );
}
