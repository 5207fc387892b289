import type { FileEntry } from "@/api/client";
import { formatBytes } from "@/lib/format";

/**
 * The workspace's files as a flat, sorted list of relative paths. File names
 * come from user code in the sandbox: React escapes them, and long ones wrap.
 * The IDE will replace this with a tree that opens files in the editor.
 */
export function FileList({ files }: { files: FileEntry[] }) {
  if (files.length === 0) {
    return <p className="px-3 py-4 text-sm text-fg-muted">No files yet.</p>;
  }
  const sorted = [...files].sort((a, b) => a.path.localeCompare(b.path));
  return (
    <ul className="py-1 font-mono text-[13px]">
      {sorted.map((file) => (
        <li key={file.path} className="flex items-baseline justify-between gap-3 px-3 py-1 hover:bg-surface-muted">
          <span className="min-w-0 break-all" title={file.path}>
            {file.path}
          </span>
          <span className="shrink-0 text-xs text-fg-muted tabular-nums">{formatBytes(file.size)}</span>
        </li>
      ))}
    </ul>
  );
}
