/**
 * "Download all": the workspace as a zip built in the browser from the file
 * API (no server endpoint needed). fflate is loaded only when asked for.
 */
import type { FileEntry } from "@/api/client";
import { readBytes } from "./files";

const CONCURRENCY = 4;

export type ZipResult = { blob: Blob; skipped: string[] };

/** Every regular file, with the ones the server would not hand out (over its size limit) in `skipped`. */
export async function zipWorkspace(workspaceId: string, entries: readonly FileEntry[]): Promise<ZipResult> {
  const { zipSync } = await import("fflate");
  const files = entries.filter((entry) => entry.kind === "file");
  const contents: Record<string, Uint8Array> = {};
  const skipped: string[] = [];
  let next = 0;

  async function worker() {
    while (next < files.length) {
      const entry = files[next++];
      if (entry === undefined) {
        return;
      }
      const result = await readBytes(workspaceId, entry.path);
      if (result.ok) {
        contents[entry.path] = new Uint8Array(result.bytes);
      } else {
        skipped.push(entry.path);
      }
    }
  }

  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const zipped = zipSync(contents, { level: 6 });
  return { blob: new Blob([zipped as Uint8Array<ArrayBuffer>], { type: "application/zip" }), skipped };
}

/** Save `blob` as a download named `name`. */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
