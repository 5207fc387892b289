"use client";

import { useMemo, useState } from "react";
import type { FileEntry } from "@/api/client";
import type { Taken } from "@/lib/drop";
import { createFolder, deleteEntry, exportUrl, moveEntry, writeFile } from "@/lib/files";
import { joinPath, parentOf, type TreeNode } from "@/lib/tree";
import type { UploadProgress, UploadSummary } from "@/lib/upload";

/** A name being typed: a new file or folder in `parent`, or a new name for `path`. */
export type Editing = { mode: "file" | "folder"; parent: string } | { mode: "rename"; path: string } | null;
/** A line above the tree: how an upload or a zip went. */
export type Notice = UploadSummary | null;

type Options = {
  workspaceId: string;
  workspaceName: string;
  entries: FileEntry[];
  /** Opens or closes a folder in the tree. */
  onToggle: (path: string, open: boolean) => void;
  onCreated: (path: string, kind: "file" | "folder") => void;
  onRenamed: (from: string, to: string) => void;
  onDeleted: (path: string) => void;
  /** Lists the files again; awaited after every change. */
  onRefresh: () => Promise<void>;
  /** Makes `path` the tree's current row; with `focus`, moves the keyboard focus there too. */
  onSelect: (path: string, focus: boolean) => void;
};

/**
 * What the file tree does to files, and the state each action shows while
 * it runs: creating and renaming (through a name being typed), deleting
 * (after a confirmation), uploading (asking before replacing files),
 * downloading the workspace as a zip and importing a zip into it. Each action answers a sentence for the person when
 * it fails, or null, and lists the files again when it changed them.
 */
export function useFileActions(options: Options) {
  const { workspaceId, entries, onToggle, onRefresh, onSelect } = options;
  const known = useMemo(() => new Map(entries.map((entry) => [entry.path, entry])), [entries]);
  const [editing, setEditing] = useState<Editing>(null);
  const [doomed, setDoomed] = useState<TreeNode | null>(null);
  // Once asked, the dialog stays mounted (closed), so closing it returns the focus to its opener.
  const [deleteAsked, setDeleteAsked] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const [notice, setNotice] = useState<Notice>(null);
  const [importing, setImporting] = useState(false);
  const [uploading, setUploading] = useState<UploadProgress | null>(null);

  /** Creates `name` in `parent`. Answers why not, or null once it is there. */
  async function create(mode: "file" | "folder", parent: string, name: string): Promise<string | null> {
    const path = joinPath(parent, name);
    if (known.has(path)) {
      return `'${path}' already exists.`;
    }
    const result = mode === "file" ? await writeFile(workspaceId, path, "") : await createFolder(workspaceId, path);
    if (!result.ok) {
      return result.message;
    }
    setEditing(null);
    onSelect(path, false);
    options.onCreated(path, mode);
    await onRefresh();
    return null;
  }

  /** Renames `from` to `name` in the same folder. Answers why not, or null once done. */
  async function rename(from: string, name: string): Promise<string | null> {
    const to = joinPath(parentOf(from), name);
    if (to === from) {
      setEditing(null);
      return null;
    }
    const result = await moveEntry(workspaceId, from, to);
    if (!result.ok) {
      return result.message;
    }
    setEditing(null);
    options.onRenamed(from, to);
    await onRefresh();
    onSelect(to, true);
    return null;
  }

  /** Asks to delete `node` (the dialog shows while `doomed` is set). */
  function askDelete(node: TreeNode) {
    setDeleteError(null);
    setDoomed(node);
    setDeleteAsked(true);
  }

  async function confirmDelete() {
    if (doomed === null) {
      return;
    }
    setDeleting(true);
    setDeleteError(null);
    const result = await deleteEntry(workspaceId, doomed.path);
    setDeleting(false);
    if (!result.ok) {
      setDeleteError(result.message);
      return;
    }
    options.onDeleted(doomed.path);
    setDoomed(null);
    await onRefresh();
  }

  /**
   * Uploads what was dropped or picked (`taken`) into `folder`, asking first
   * before replacing files; the notice says how it went. lib/upload.ts loads
   * only now.
   */
  async function upload(taken: Taken, folder: string) {
    const { foldersToOpen, readTaken, replacedFiles, replaceQuestion, uploadBatch, uploadSummary, withoutFiles } =
      await import("@/lib/upload");
    let batch;
    try {
      batch = await readTaken(taken);
    } catch {
      setNotice({ kind: "error", text: "The dropped files could not be read." });
      return;
    }
    const replacing = replacedFiles(batch, folder, known);
    if (replacing.length > 0 && !window.confirm(replaceQuestion(replacing, folder))) {
      batch = withoutFiles(batch, replacing);
    }
    if (batch.files.length + batch.folders.length === 0) {
      return;
    }
    setNotice(null);
    const failures = await uploadBatch(workspaceId, folder, batch, setUploading);
    setUploading(null);
    await onRefresh();
    // Show what came: the folder it went to, and the folders dropped into it.
    for (const path of foldersToOpen(batch, folder)) {
      onToggle(path, true);
    }
    setNotice(uploadSummary(batch, folder, failures));
  }

  /** The server streams the zip; the browser saves it as a download. */
  function downloadAll(includeHidden: boolean) {
    const link = document.createElement("a");
    link.href = exportUrl(workspaceId, includeHidden);
    link.download = `${options.workspaceName || "workspace"}.zip`;
    link.click();
  }

  /** Add a zip's files to the workspace (lib/archives.ts loads only now). */
  async function importZip(file: File) {
    setImporting(true);
    setNotice(null);
    const { importIntoWorkspace } = await import("@/lib/archives");
    const result = await importIntoWorkspace(workspaceId, file);
    setImporting(false);
    if (result.ok) {
      setNotice({ kind: "info", text: `Imported ${result.files} files from ${file.name}.` });
      await onRefresh();
    } else {
      setNotice({ kind: "error", text: result.message });
    }
  }

  return {
    editing,
    setEditing,
    doomed,
    deleteAsked,
    deleting,
    deleteError,
    notice,
    setNotice,
    importing,
    uploading,
    create,
    rename,
    askDelete,
    cancelDelete: () => setDoomed(null),
    confirmDelete,
    upload,
    downloadAll,
    importZip,
  };
}
