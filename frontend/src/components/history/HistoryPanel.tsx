"use client";

import type { Restored } from "@/lib/history";
import { Icon } from "../Icon";
import { DeletedFiles } from "./DeletedFiles";
import { FileHistory } from "./FileHistory";
import { SnapshotsView } from "./SnapshotsView";

export type HistoryView = "file" | "snapshots" | "deleted";

const VIEWS: ReadonlyArray<[HistoryView, string]> = [
  ["file", "File history"],
  ["snapshots", "Snapshots"],
  ["deleted", "Deleted files"],
];

/**
 * The history drawer (loaded on demand, never with the IDE): the open file's
 * versions with a diff against its current text, the workspace's snapshots,
 * and deleted files that can be brought back. `onRestored` tells the IDE
 * which files a restore changed, so it reloads them.
 */
export function HistoryPanel({
  workspaceId,
  path,
  readText,
  view,
  onView,
  onClose,
  onRestored,
}: {
  workspaceId: string;
  path: string | null;
  /** The open file's text in the editor (null when the editor does not hold it). */
  readText: (path: string) => string | null;
  view: HistoryView;
  onView: (view: HistoryView) => void;
  onClose: () => void;
  onRestored: (restored: Restored) => void;
}) {
  return (
    <aside
      aria-label="History"
      className="fixed inset-y-0 right-0 z-40 flex w-[min(64rem,96vw)] flex-col border-l border-line bg-surface shadow-2xl"
      onKeyDown={(event) => event.key === "Escape" && onClose()}
    >
      <div className="flex items-center gap-1 border-b border-line px-3 py-1.5">
        <div role="tablist" aria-label="History views" className="flex gap-1">
          {VIEWS.map(([id, label]) => (
            <button
              key={id}
              type="button"
              role="tab"
              aria-selected={view === id}
              onClick={() => onView(id)}
              className={`rounded px-2 py-1 text-sm ${view === id ? "bg-surface-muted font-semibold" : "text-fg-muted hover:text-fg"}`}
            >
              {label}
            </button>
          ))}
        </div>
        <button type="button" onClick={onClose} className="ml-auto rounded p-1.5 text-fg-muted hover:bg-surface-muted" aria-label="Close history">
          <Icon name="close" />
        </button>
      </div>
      <div className="flex min-h-0 flex-1 flex-col">
        {view === "file" && <FileHistory workspaceId={workspaceId} path={path} readText={readText} onRestored={onRestored} />}
        {view === "snapshots" && <SnapshotsView workspaceId={workspaceId} onRestored={onRestored} />}
        {view === "deleted" && <DeletedFiles workspaceId={workspaceId} onRestored={onRestored} />}
      </div>
    </aside>
  );
}
