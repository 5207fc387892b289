"use client";

import { lazy, Suspense, useMemo, useRef, useState, type DragEvent, type KeyboardEvent } from "react";
import type { FileEntry } from "@/api/client";
import { useFileActions } from "@/hooks/useFileActions";
import { baseName, buildTree, parentOf, visibleRows, type TreeNode } from "@/lib/tree";
import { takeDrop, takePicked } from "@/lib/drop";
import { Icon, type IconName } from "./Icon";
import { NameInput } from "./NameInput";
import { TreeRow } from "./TreeRow";

// The delete dialog loads when a delete is first asked for, not with the page.
const ConfirmDialog = lazy(() => import("./ConfirmDialog").then((m) => ({ default: m.ConfirmDialog })));

type Props = {
  workspaceId: string;
  workspaceName: string;
  entries: FileEntry[];
  listingError: string | null;
  expanded: ReadonlySet<string>;
  activePath: string | null;
  dirtyPaths: ReadonlySet<string>;
  onToggle: (path: string, open: boolean) => void;
  onOpen: (path: string) => void;
  onCreated: (path: string, kind: "file" | "folder") => void;
  onRenamed: (from: string, to: string) => void;
  onDeleted: (path: string) => void;
  onRefresh: () => Promise<void>;
};

/**
 * The workspace's files as a tree (WAI-ARIA tree pattern: arrows move and
 * open, Enter opens a file, F2 renames, Delete deletes). New file and folder
 * go into the focused folder; files and folders dropped from the desktop are
 * uploaded into the folder under the pointer (lib/upload.ts), as are those
 * picked with "Upload files" or "Upload folder" into the focused folder;
 * "Download all" downloads the zip the server streams, "Import zip" adds a
 * zip's files. `.local/` (pip's installs) is hidden unless "Show hidden
 * files" is on (then "Download all" includes it too). What the actions do is
 * hooks/useFileActions.ts; this component is the tree, its keys and its
 * drops (taken at once, lib/drop.ts; the upload itself loads on first use).
 * What user code creates appears with the next listing poll.
 */
/** Hidden unless asked for: `.local/` (where pip installs), as noisy as a virtualenv. */
function isHidden(path: string): boolean {
  return path === ".local" || path.startsWith(".local/");
}

export function FileTree(props: Props) {
  const { workspaceId, entries, expanded, activePath, dirtyPaths, onToggle, onOpen } = props;
  const [showHidden, setShowHidden] = useState(false);
  const shown = useMemo(() => (showHidden ? entries : entries.filter((entry) => !isHidden(entry.path))), [entries, showHidden]);
  const tree = useMemo(() => buildTree(shown), [shown]);
  const rows = useMemo(() => visibleRows(tree, expanded), [tree, expanded]);
  const [focused, setFocused] = useState<string | null>(null);
  const [dropTarget, setDropTarget] = useState<string | null>(null);
  const list = useRef<HTMLUListElement>(null);
  const picker = useRef<HTMLInputElement>(null);
  const folderPicker = useRef<HTMLInputElement>(null);
  const zipPicker = useRef<HTMLInputElement>(null);

  const actions = useFileActions({
    ...props,
    onSelect: (path, focus) => (focus ? focusRow(path) : setFocused(path)),
  });
  const { editing, setEditing, doomed, notice, setNotice, uploading, upload } = actions;

  const focusedRow = rows.find((row) => row.node.path === focused) ?? null;
  const tabStop = focusedRow?.node.path ?? rows[0]?.node.path ?? null;

  /** The folder that "New file", "New folder" and "Upload" use. */
  function targetFolder(): string {
    if (focusedRow === null) {
      return "";
    }
    return focusedRow.node.kind === "dir" ? focusedRow.node.path : parentOf(focusedRow.node.path);
  }

  function focusRow(path: string) {
    setFocused(path);
    list.current?.querySelector<HTMLElement>(`[data-path="${CSS.escape(path)}"]`)?.focus();
  }

  function activate(node: TreeNode) {
    setFocused(node.path);
    if (node.kind === "dir") {
      onToggle(node.path, !expanded.has(node.path));
    } else {
      onOpen(node.path);
    }
  }

  function startCreate(mode: "file" | "folder") {
    const parent = targetFolder();
    if (parent !== "" && !expanded.has(parent)) {
      onToggle(parent, true);
    }
    setNotice(null);
    setEditing({ mode, parent });
  }

  function onKeyDown(event: KeyboardEvent<HTMLUListElement>) {
    if (editing !== null || rows.length === 0 || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    const index = Math.max(0, rows.findIndex((row) => row.node.path === tabStop));
    const row = rows[index];
    if (row === undefined) {
      return;
    }
    const { node } = row;
    const move = (to: number) => {
      const target = rows[Math.min(rows.length - 1, Math.max(0, to))];
      if (target !== undefined) {
        focusRow(target.node.path);
      }
    };
    const keys: Record<string, () => void> = {
      ArrowDown: () => move(index + 1),
      ArrowUp: () => move(index - 1),
      Home: () => move(0),
      End: () => move(rows.length - 1),
      ArrowRight: () => {
        if (node.kind === "dir" && !expanded.has(node.path)) {
          onToggle(node.path, true);
        } else if (node.kind === "dir") {
          move(index + 1);
        }
      },
      ArrowLeft: () => {
        if (node.kind === "dir" && expanded.has(node.path)) {
          onToggle(node.path, false);
        } else if (parentOf(node.path) !== "") {
          focusRow(parentOf(node.path));
        }
      },
      Enter: () => activate(node),
      " ": () => activate(node),
      F2: () => setEditing({ mode: "rename", path: node.path }),
      Delete: () => actions.askDelete(node),
    };
    const action = keys[event.key];
    if (action !== undefined) {
      event.preventDefault();
      action();
    }
  }

  function dragOver(event: DragEvent, folder: string) {
    if (!event.dataTransfer.types.includes("Files")) {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
    event.dataTransfer.dropEffect = "copy";
    setDropTarget(folder);
  }

  const creating = editing !== null && editing.mode !== "rename" ? editing : null;
  // The toolbar is data; what each button does is `runTool` (the pickers are refs, read only on a click).
  const toolbar: Array<{ icon: IconName; label: string; disabled?: boolean }> = [
    { icon: "filePlus", label: "New file" },
    { icon: "folderPlus", label: "New folder" },
    { icon: "upload", label: "Upload files", disabled: uploading !== null },
    { icon: "folderUp", label: "Upload folder", disabled: uploading !== null },
    { icon: "archive", label: showHidden ? "Download all as zip (with hidden files)" : "Download all as zip" },
    { icon: "refresh", label: "Refresh" },
  ];
  function runTool(icon: IconName) {
    const tools: Partial<Record<IconName, () => void>> = {
      filePlus: () => startCreate("file"),
      folderPlus: () => startCreate("folder"),
      upload: () => picker.current?.click(),
      folderUp: () => folderPicker.current?.click(),
      archive: () => actions.downloadAll(showHidden),
      refresh: () => void props.onRefresh(),
    };
    tools[icon]?.();
  }

  return (
    <div
      className={`flex h-full min-h-0 flex-col ${dropTarget === "" ? "bg-accent/5 ring-2 ring-accent ring-inset" : ""}`}
      onDragOver={(event) => dragOver(event, "")}
      onDragLeave={(event) => {
        if (!event.currentTarget.contains(event.relatedTarget as Node | null)) {
          setDropTarget(null);
        }
      }}
      onDrop={(event) => {
        event.preventDefault();
        const folder = dropTarget ?? "";
        setDropTarget(null);
        if (uploading !== null || !event.dataTransfer.types.includes("Files")) {
          return;
        }
        void upload(takeDrop(event.dataTransfer), folder);
      }}
    >
      <div className="flex items-center gap-0.5 border-b border-line px-2 py-1">
        <h2 className="mr-auto text-xs font-semibold tracking-wide text-fg-muted uppercase">Files</h2>
        {toolbar.map((tool) => (
          <button
            key={tool.icon}
            type="button"
            onClick={() => runTool(tool.icon)}
            disabled={tool.disabled}
            className="rounded p-1.5 text-fg-muted hover:bg-surface-muted hover:text-fg disabled:opacity-50"
            title={tool.label}
            aria-label={tool.label}
          >
            <Icon name={tool.icon} />
          </button>
        ))}
        <input
          ref={picker}
          type="file"
          multiple
          hidden
          onChange={(event) => {
            const taken = takePicked(event.target.files);
            event.target.value = "";
            void upload(taken, targetFolder());
          }}
        />
        <input
          ref={zipPicker}
          type="file"
          accept=".zip,application/zip"
          hidden
          data-testid="zip-picker"
          onChange={(event) => {
            const file = event.target.files?.[0];
            event.target.value = "";
            if (file !== undefined) {
              void actions.importZip(file);
            }
          }}
        />
        <input
          ref={(input) => {
            folderPicker.current = input;
            if (input !== null) {
              // Not a React prop: picks a folder, each file with its path inside it.
              input.webkitdirectory = true;
            }
          }}
          type="file"
          hidden
          data-testid="folder-picker"
          onChange={(event) => {
            const taken = takePicked(event.target.files);
            event.target.value = "";
            void upload(taken, targetFolder());
          }}
        />
      </div>
      {uploading !== null && (
        <div role="status" className="space-y-1 border-b border-line px-3 py-2 text-xs text-fg-muted">
          <p>
            Uploading… {uploading.done} of {uploading.total} done
          </p>
          <progress className="h-1 w-full accent-accent" value={uploading.done} max={uploading.total} aria-label="Upload progress" />
        </div>
      )}
      {notice !== null && (
        <div
          role={notice.kind === "error" ? "alert" : "status"}
          className={`flex items-start gap-2 border-b border-line px-3 py-2 text-xs ${notice.kind === "error" ? "bg-danger-soft text-danger" : "text-fg-muted"}`}
        >
          <div className="min-w-0 flex-1 break-words">
            <p>{notice.text}</p>
            {notice.items !== undefined && (
              <ul className="mt-1 max-h-32 list-disc space-y-0.5 overflow-auto pl-4" data-testid="upload-failures">
                {notice.items.map((item) => (
                  <li key={item}>{item}</li>
                ))}
              </ul>
            )}
          </div>
          <button type="button" onClick={() => setNotice(null)} aria-label="Dismiss" className="shrink-0">
            <Icon name="close" className="size-3.5" />
          </button>
        </div>
      )}
      {props.listingError !== null && (
        <p role="alert" className="border-b border-line bg-danger-soft px-3 py-2 text-xs text-danger">
          {props.listingError}
        </p>
      )}
      {creating !== null && (
        <div className="flex items-center gap-1 border-b border-line px-2 py-1">
          <Icon name={creating.mode === "file" ? "filePlus" : "folderPlus"} className="size-4 text-fg-muted" />
          <NameInput
            label={`New ${creating.mode} name${creating.parent === "" ? "" : ` in ${creating.parent}`}`}
            initial=""
            onSubmit={(name) => actions.create(creating.mode, creating.parent, name)}
            onCancel={() => setEditing(null)}
          />
        </div>
      )}
      <div className="min-h-0 flex-1 overflow-auto py-1">
        {rows.length === 0 && creating === null ? (
          <div className="space-y-3 px-3 py-4 text-sm text-fg-muted">
            <p>No files yet. Create one, or drop files here to upload them.</p>
            <button type="button" className="btn-secondary py-1.5" onClick={() => startCreate("file")}>
              New file
            </button>
          </div>
        ) : (
          <ul ref={list} role="tree" aria-label="Workspace files" onKeyDown={onKeyDown}>
            {rows.map(({ node, depth }) => (
              <TreeRow
                key={node.path}
                workspaceId={workspaceId}
                node={node}
                depth={depth}
                expanded={expanded.has(node.path)}
                focused={node.path === tabStop}
                open={node.path === activePath}
                dirty={dirtyPaths.has(node.path)}
                dropTarget={dropTarget === node.path && node.kind === "dir"}
                editor={
                  editing?.mode === "rename" && editing.path === node.path ? (
                    <NameInput
                      label={`Rename ${node.name}`}
                      initial={baseName(node.path)}
                      onSubmit={(name) => actions.rename(node.path, name)}
                      onCancel={() => {
                        setEditing(null);
                        focusRow(node.path);
                      }}
                    />
                  ) : null
                }
                onActivate={() => activate(node)}
                onFocus={() => setFocused(node.path)}
                onRename={() => setEditing({ mode: "rename", path: node.path })}
                onDelete={() => actions.askDelete(node)}
                onDragOver={(event) => dragOver(event, node.kind === "dir" ? node.path : parentOf(node.path))}
              />
            ))}
          </ul>
        )}
      </div>
      <div className="flex items-center gap-2 border-t border-line px-3 py-1.5 text-xs text-fg-muted">
        <label className="mr-auto flex items-center gap-2">
          <input type="checkbox" checked={showHidden} onChange={(event) => setShowHidden(event.target.checked)} />
          Show hidden files
        </label>
        <button
          type="button"
          className="underline hover:text-fg disabled:opacity-50"
          disabled={actions.importing}
          onClick={() => zipPicker.current?.click()}
          title="Add a zip's files to this workspace (files of the same names are replaced)"
        >
          {actions.importing ? "Importing…" : "Import zip"}
        </button>
      </div>
      {actions.deleteAsked && (
        <Suspense fallback={null}>
          <ConfirmDialog
            open={doomed !== null}
            title={doomed?.kind === "dir" ? "Delete folder?" : "Delete file?"}
            confirmLabel="Delete"
            busyLabel="Deleting…"
            busy={actions.deleting}
            error={actions.deleteError}
            onConfirm={() => void actions.confirmDelete()}
            onCancel={actions.cancelDelete}
          >
            <p>
              <strong className="font-mono font-semibold break-all text-fg">{doomed?.path}</strong>
              {doomed?.kind === "dir" ? " and everything in it" : ""} will be deleted. You can bring it back from History → Deleted files.
            </p>
          </ConfirmDialog>
        </Suspense>
      )}
    </div>
  );
}
