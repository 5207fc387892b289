"use client";

import { useEffect, useState } from "react";
import { useReloadable } from "@/hooks/useReloadable";
import { readFile } from "@/lib/files";
import { formatDateTime, formatRelative } from "@/lib/format";
import {
  compareSnapshot,
  createSnapshot,
  listSnapshots,
  restoreSnapshot,
  snapshotExportUrl,
  snapshotFiles,
  snapshotFileText,
  type Restored,
  type Snapshot,
  type SnapshotChange,
  type SnapshotFile,
} from "@/lib/history";
import { ErrorMessage } from "../ErrorMessage";
import { LoadingState } from "../LoadingState";
import { DiffView } from "./DiffView";

/** What the right side shows for the selected snapshot. */
type Shown =
  | { kind: "files" }
  | { kind: "file"; path: string; text: string }
  | { kind: "compare"; changes: SnapshotChange[] }
  | { kind: "diff"; path: string; inSnapshot: boolean; before: string; after: string };

const STATUS: Record<SnapshotChange["status"], string> = {
  added: "added since",
  removed: "deleted since",
  changed: "changed",
};

async function currentText(workspaceId: string, path: string): Promise<string> {
  const result = await readFile(workspaceId, path);
  return result.ok && result.content.kind === "text" ? result.content.text : "";
}

/**
 * The workspace's snapshots: save one with a name; for each, its files
 * (read-only), a comparison with now (the files that changed and a
 * side-by-side diff), downloading it as a zip, and restoring one file or
 * the whole workspace. A restore first saves the current state as a
 * snapshot, so it can be undone.
 */
export function SnapshotsView({ workspaceId, onRestored }: { workspaceId: string; onRestored: (restored: Restored) => void }) {
  const [snapshots, setSnapshots] = useState<Snapshot[] | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [files, setFiles] = useState<SnapshotFile[]>([]);
  const [shown, setShown] = useState<Shown>({ kind: "files" });
  const [label, setLabel] = useState("");
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const { error, setError, reload: load } = useReloadable(workspaceId, () => listSnapshots(workspaceId), (result) =>
    setSnapshots(result.snapshots),
  );

  const choose = (id: string) => {
    setSelected(id);
    setShown({ kind: "files" });
    setConfirming(false);
  };

  useEffect(() => {
    if (selected === null) {
      return;
    }
    let current = true;
    void snapshotFiles(workspaceId, selected).then((result) => {
      if (current) {
        if (result.ok) {
          setFiles(result.files);
        } else {
          setError(result.message);
        }
      }
    });
    return () => {
      current = false;
    };
  }, [workspaceId, selected, setError]);

  const save = async () => {
    setBusy(true);
    const result = await createSnapshot(workspaceId, label.trim() || "Snapshot");
    setBusy(false);
    if (result.ok) {
      setLabel("");
      setNotice(`Saved snapshot “${result.snapshot.label}” (${result.snapshot.files} files).`);
      load();
      choose(result.snapshot.id);
    } else {
      setError(result.message);
    }
  };

  const act = async (call: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await call();
    } finally {
      setBusy(false);
    }
  };

  const restore = (path?: string) =>
    act(async () => {
      if (selected === null) {
        return;
      }
      const result = await restoreSnapshot(workspaceId, selected, path);
      if (!result.ok) {
        setError(result.message);
        return;
      }
      setConfirming(false);
      onRestored(result.restored);
      load();
      setNotice(
        path === undefined
          ? "The workspace was restored. Its state just before was saved as a snapshot, so you can undo this."
          : `${path} was restored.`,
      );
    });

  const compare = () =>
    act(async () => {
      if (selected === null) {
        return;
      }
      const result = await compareSnapshot(workspaceId, selected);
      if (result.ok) {
        setShown({ kind: "compare", changes: result.changes });
      } else {
        setError(result.message);
      }
    });

  const viewFile = (path: string) =>
    act(async () => {
      if (selected === null) {
        return;
      }
      const result = await snapshotFileText(workspaceId, selected, path);
      if (result.ok) {
        setShown({ kind: "file", path, text: result.text });
      } else {
        setError(result.message);
      }
    });

  const diff = (change: SnapshotChange) =>
    act(async () => {
      if (selected === null) {
        return;
      }
      const before = change.status === "added" ? "" : await snapshotFileText(workspaceId, selected, change.path);
      if (typeof before !== "string" && !before.ok) {
        setError(before.message);
        return;
      }
      const after = change.status === "removed" ? "" : await currentText(workspaceId, change.path);
      const text = typeof before === "string" ? before : before.text;
      setShown({ kind: "diff", path: change.path, inSnapshot: change.status !== "added", before: text, after });
    });

  const chosen = snapshots?.find((s) => s.id === selected) ?? null;
  return (
    <div className="flex min-h-0 flex-1">
      <div className="flex w-72 shrink-0 flex-col border-r border-line">
        <form
          className="flex gap-2 border-b border-line p-2"
          onSubmit={(event) => {
            event.preventDefault();
            void save();
          }}
        >
          <input
            value={label}
            onChange={(event) => setLabel(event.target.value)}
            maxLength={200}
            placeholder="Snapshot name"
            aria-label="Snapshot name"
            className="min-w-0 flex-1 rounded border border-line bg-surface px-2 py-1 text-sm"
          />
          <button type="submit" className="btn-primary px-2 py-1 text-sm" disabled={busy}>
            Save snapshot
          </button>
        </form>
        {snapshots === null && error === null && <LoadingState label="Loading snapshots…" />}
        {snapshots !== null && snapshots.length === 0 && <p className="p-3 text-sm text-fg-muted">No snapshots yet.</p>}
        <ol aria-label="Snapshots" className="min-h-0 flex-1 overflow-auto">
          {snapshots?.map((snapshot) => (
            <li key={snapshot.id}>
              <button
                type="button"
                aria-pressed={snapshot.id === selected}
                onClick={() => choose(snapshot.id)}
                className={`block w-full px-3 py-1.5 text-left text-sm ${snapshot.id === selected ? "bg-surface-muted" : "hover:bg-surface-muted"}`}
              >
                <span className="block truncate font-medium">{snapshot.label}</span>
                <span className="text-xs text-fg-muted">
                  <time dateTime={snapshot.created_at} title={formatDateTime(snapshot.created_at)}>
                    {formatRelative(snapshot.created_at)}
                  </time>{" "}
                  · {snapshot.files} files{snapshot.automatic ? " · automatic" : ""}
                </span>
              </button>
            </li>
          ))}
        </ol>
      </div>
      <div className="flex min-w-0 flex-1 flex-col">
        {error !== null && <ErrorMessage message={error} />}
        {notice !== null && (
          <p role="status" className="border-b border-line px-3 py-1.5 text-sm text-fg-muted">
            {notice}
          </p>
        )}
        {chosen === null && <p className="p-4 text-sm text-fg-muted">Choose a snapshot to see its files, compare it with now, or restore it.</p>}
        {chosen !== null && (
          <>
            <div className="flex flex-wrap items-center gap-2 border-b border-line px-3 py-1.5">
              <h2 className="min-w-0 flex-1 truncate text-sm font-semibold">{chosen.label}</h2>
              {shown.kind !== "files" && (
                <button type="button" className="btn-ghost px-2 py-1 text-sm" onClick={() => setShown({ kind: "files" })}>
                  All files
                </button>
              )}
              <button type="button" className="btn-secondary px-2 py-1 text-sm" disabled={busy} onClick={() => void compare()}>
                Compare with now
              </button>
              <a href={snapshotExportUrl(workspaceId, chosen.id)} download className="btn-secondary px-2 py-1 text-sm" title="Download this snapshot's files as a zip">
                Download
              </a>
              <button type="button" className="btn-secondary px-2 py-1 text-sm" disabled={busy} onClick={() => setConfirming(true)}>
                Restore workspace…
              </button>
            </div>
            {confirming && (
              <div role="alertdialog" aria-label="Restore the workspace" className="flex items-center gap-2 border-b border-line bg-surface-muted px-3 py-2 text-sm">
                <p className="min-w-0 flex-1">
                  Replace the workspace&apos;s files with the {chosen.files} files of this snapshot? The current state is saved as a snapshot
                  first, so you can undo this.
                </p>
                <button type="button" className="btn-primary px-2 py-1" disabled={busy} onClick={() => void restore()}>
                  {busy ? "Restoring…" : "Restore"}
                </button>
                <button type="button" className="btn-ghost px-2 py-1" onClick={() => setConfirming(false)}>
                  Cancel
                </button>
              </div>
            )}
            {shown.kind === "files" && (
              <ul aria-label="Files in the snapshot" className="min-h-0 flex-1 overflow-auto">
                {files.map((file) => (
                  <li key={file.path}>
                    <button type="button" className="block w-full px-3 py-1 text-left font-mono text-sm hover:bg-surface-muted" onClick={() => void viewFile(file.path)}>
                      {file.path}
                    </button>
                  </li>
                ))}
              </ul>
            )}
            {shown.kind === "file" && (
              <>
                <div className="flex items-center gap-2 border-b border-line px-3 py-1.5 text-sm">
                  <span className="min-w-0 flex-1 truncate font-mono">{shown.path} (read-only)</span>
                  <button type="button" className="btn-secondary px-2 py-1" onClick={() => void diff({ path: shown.path, status: "changed" })}>
                    Compare with now
                  </button>
                  <button type="button" className="btn-primary px-2 py-1" disabled={busy} onClick={() => void restore(shown.path)}>
                    Restore this file
                  </button>
                </div>
                <pre aria-label={`${shown.path} in the snapshot`} className="min-h-0 flex-1 overflow-auto p-3 font-mono text-sm">
                  {shown.text}
                </pre>
              </>
            )}
            {shown.kind === "compare" && (
              <div className="min-h-0 flex-1 overflow-auto">
                {shown.changes.length === 0 && <p className="p-3 text-sm text-fg-muted">Nothing has changed since this snapshot.</p>}
                <ul aria-label="Changes since the snapshot">
                  {shown.changes.map((change) => (
                    <li key={change.path}>
                      <button type="button" className="flex w-full gap-3 px-3 py-1 text-left text-sm hover:bg-surface-muted" onClick={() => void diff(change)}>
                        <span className="min-w-0 flex-1 truncate font-mono">{change.path}</span>
                        <span className="text-xs text-fg-muted">{STATUS[change.status]}</span>
                      </button>
                    </li>
                  ))}
                </ul>
              </div>
            )}
            {shown.kind === "diff" && (
              <>
                <div className="flex items-center gap-2 border-b border-line px-3 py-1.5 text-sm">
                  <span className="min-w-0 flex-1 truncate font-mono">{shown.path}</span>
                  {shown.inSnapshot && (
                    <button type="button" className="btn-primary px-2 py-1" disabled={busy} onClick={() => void restore(shown.path)}>
                      Restore this file
                    </button>
                  )}
                </div>
                <DiffView before={shown.before} after={shown.after} beforeLabel="In the snapshot" afterLabel="Now" />
              </>
            )}
          </>
        )}
      </div>
    </div>
  );
}
