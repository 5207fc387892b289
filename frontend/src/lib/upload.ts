/**
 * Uploading files and folders into the workspace, from a drop (files and
 * whole folders, through the File and Directory Entries API) or a file
 * input (`webkitdirectory` gives each file its relative path). Loaded on
 * first use (dynamic import): what must happen while the drop's or the
 * input's event is being handled is lib/drop.ts, in the page's scripts.
 *
 * Each file is one `PUT .../files/{path}` (the server creates the folders on
 * the way); an empty folder is one `POST .../folders`. A file the server
 * refuses (too large, not text, over quota) is reported by itself and the
 * others still go.
 */
import type { FileEntry } from "@/api/client";
import type { Taken } from "./drop";
import { createFolder, writeFile } from "./files";
import { joinPath } from "./tree";

export { joinPath };

/** A file to upload and its path relative to the drop (`"data/a.csv"`). */
export type UploadFile = { path: string; file: File };
export type UploadBatch = { files: UploadFile[]; folders: string[] };
export type UploadFailure = { path: string; message: string };
export type UploadProgress = { done: number; total: number };
/** What to tell the person after an upload; `items`: one line per failure. */
export type UploadSummary = { kind: "error" | "info"; text: string; items?: string[] };

/** Requests in flight at once: a folder of small files goes faster, the server stays unhurried. */
const PARALLEL = 4;

/**
 * What was dropped or picked (taken by lib/drop.ts): files, and folders with
 * everything in them (empty ones too), read now from the entries taken then.
 */
export function readTaken(taken: Taken): Promise<UploadBatch> {
  return "entries" in taken ? readEntries(taken.entries) : Promise.resolve(pickedItems(taken.files));
}

/**
 * The files a file input picked (or dropped without the entries API); with
 * `webkitdirectory`, under the picked folder's name.
 */
export function pickedItems(list: ArrayLike<File> | null): UploadBatch {
  const files = Array.from(list ?? []).map((file) => ({ path: file.webkitRelativePath || file.name, file }));
  return { files, folders: [] };
}

async function readEntries(entries: FileSystemEntry[]): Promise<UploadBatch> {
  const batch: UploadBatch = { files: [], folders: [] };
  const visit = async (entry: FileSystemEntry): Promise<void> => {
    const path = entry.fullPath.replace(/^\/+/, "");
    if (isFile(entry)) {
      batch.files.push({ path, file: await new Promise<File>((resolve, reject) => entry.file(resolve, reject)) });
    } else if (isDirectory(entry)) {
      const children = await readFolder(entry);
      if (children.length === 0) {
        batch.folders.push(path);
      }
      for (const child of children) {
        await visit(child);
      }
    }
  };
  for (const entry of entries) {
    await visit(entry);
  }
  return batch;
}

/** Every entry of a folder: `readEntries` answers in batches until it answers none. */
async function readFolder(folder: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = folder.createReader();
  const all: FileSystemEntry[] = [];
  for (;;) {
    const some = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (some.length === 0) {
      return all;
    }
    all.push(...some);
  }
}

const isFile = (entry: FileSystemEntry): entry is FileSystemFileEntry => entry.isFile;
const isDirectory = (entry: FileSystemEntry): entry is FileSystemDirectoryEntry => entry.isDirectory;

/**
 * Upload `batch` into `folder` ("" for the top). `onProgress` hears after
 * each file or folder; answers what failed, each with the server's reason.
 */
export async function uploadBatch(
  workspaceId: string,
  folder: string,
  batch: UploadBatch,
  onProgress: (progress: UploadProgress) => void,
): Promise<UploadFailure[]> {
  const failures: UploadFailure[] = [];
  const total = batch.files.length + batch.folders.length;
  let done = 0;
  const step = () => onProgress({ done: ++done, total });
  onProgress({ done, total });
  for (const path of batch.folders) {
    const result = await createFolder(workspaceId, joinPath(folder, path));
    if (!result.ok) {
      failures.push({ path, message: result.message });
    }
    step();
  }
  const queue = [...batch.files];
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
      const result = await writeFile(workspaceId, joinPath(folder, item.path), item.file);
      if (!result.ok) {
        failures.push({ path: item.path, message: result.message });
      }
      step();
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, queue.length) }, worker));
  // In the order the files were listed, whatever order they finished in.
  const order = new Map(batch.files.map((item, index) => [item.path, index]));
  return failures.sort((a, b) => (order.get(a.path) ?? -1) - (order.get(b.path) ?? -1));
}

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? "" : "s"}`;

/** The files of `batch` that would replace a file already in the workspace (`known`, by path), in batch order. */
export function replacedFiles(batch: UploadBatch, folder: string, known: ReadonlyMap<string, FileEntry>): UploadFile[] {
  return batch.files.filter((item) => known.get(joinPath(folder, item.path))?.kind === "file");
}

/** The question before replacing `files` in `folder`: their paths, the first five named. */
export function replaceQuestion(files: readonly UploadFile[], folder: string): string {
  const names = files.map((item) => joinPath(folder, item.path));
  const shown = names.length > 5 ? `${names.slice(0, 5).join(", ")} and ${names.length - 5} more` : names.join(", ");
  return `Replace ${plural(names.length, "existing file")} (${shown}) with the uploaded ${names.length === 1 ? "one" : "ones"}?`;
}

/** `batch` less `files` (the ones the person chose to keep as they are). */
export function withoutFiles(batch: UploadBatch, files: readonly UploadFile[]): UploadBatch {
  const kept = new Set(files);
  return { ...batch, files: batch.files.filter((item) => !kept.has(item)) };
}

/** The folders to open in the tree after uploading `batch` into `folder`: that folder and the top folders it brought. */
export function foldersToOpen(batch: UploadBatch, folder: string): string[] {
  const paths = [...batch.files.map((item) => item.path), ...batch.folders];
  const tops = new Set(paths.filter((path) => path.includes("/")).map((path) => joinPath(folder, path.split("/")[0] ?? "")));
  return [folder, ...tops].filter((path) => path !== "");
}

/** What to say after uploading `batch` into `folder`, given what failed. */
export function uploadSummary(batch: UploadBatch, folder: string, failures: readonly UploadFailure[]): UploadSummary {
  const uploaded = batch.files.length - failures.filter((failure) => batch.files.some((item) => item.path === failure.path)).length;
  const where = folder === "" ? "" : ` to ${folder}`;
  if (failures.length > 0) {
    return {
      kind: "error",
      text: `${plural(failures.length, "item")} not uploaded${uploaded > 0 ? ` (${plural(uploaded, "file")} uploaded${where})` : ""}:`,
      items: failures.map((failure) => `${failure.path}: ${failure.message}`),
    };
  }
  if (uploaded > 0) {
    return { kind: "info", text: `Uploaded ${plural(uploaded, "file")}${where}.` };
  }
  return { kind: "info", text: `Created ${plural(batch.folders.length, "folder")}${where}.` };
}
