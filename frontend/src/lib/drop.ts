/**
 * What a drop or a file input brought, taken while its event is being
 * handled: a drop's data is readable only then, and a file input is emptied
 * right after (so the same files can be picked again). Reading the folders
 * and uploading (lib/upload.ts) come after, loaded on first use, so the
 * workspace page's first download carries only this.
 */

/** A drop's entries (files and folders), or plain files (a file input, or a drop without the entries API). */
export type Taken = { entries: FileSystemEntry[] } | { files: File[] };

/** What `data` (a drop's) holds, taken at once. */
export function takeDrop(data: DataTransfer): Taken {
  const entries = Array.from(data.items)
    .filter((item) => item.kind === "file")
    .map((item) => item.webkitGetAsEntry());
  if (entries.length === 0 || entries.some((entry) => entry === null)) {
    // No entries API (or not for every item): the plain files, without folders.
    return { files: Array.from(data.files) };
  }
  return { entries: entries.filter((entry) => entry !== null) };
}

/** The files a file input picked, taken before the input is emptied. */
export function takePicked(list: FileList | null): Taken {
  return { files: Array.from(list ?? []) };
}
