/** The file tree, built from the flat listing the server returns. */
import type { FileEntry } from "@/api/client";

export type TreeNode = {
  name: string;
  path: string;
  kind: FileEntry["kind"];
  size: number;
  mtime: number;
  children: TreeNode[];
};

export type TreeRow = { node: TreeNode; depth: number };

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

/** Folders first, then files, each in natural order ("file2" before "file10"). */
function compare(a: TreeNode, b: TreeNode): number {
  const folderFirst = Number(b.kind === "dir") - Number(a.kind === "dir");
  return folderFirst !== 0 ? folderFirst : collator.compare(a.name, b.name);
}

/**
 * The top level of the tree. Folders that only appear as a file's parent
 * (a listing without folders) are made up, so every file has its place.
 */
export function buildTree(entries: readonly FileEntry[]): TreeNode[] {
  const root: TreeNode = { name: "", path: "", kind: "dir", size: 0, mtime: 0, children: [] };
  const folders = new Map<string, TreeNode>([["", root]]);

  function folder(path: string): TreeNode {
    const found = folders.get(path);
    if (found !== undefined) {
      return found;
    }
    const node: TreeNode = { name: baseName(path), path, kind: "dir", size: 0, mtime: 0, children: [] };
    folders.set(path, node);
    folder(parentOf(path)).children.push(node);
    return node;
  }

  for (const entry of entries) {
    if (entry.kind === "dir") {
      const node = folder(entry.path);
      node.mtime = entry.mtime;
    } else {
      folder(parentOf(entry.path)).children.push({
        name: baseName(entry.path),
        path: entry.path,
        kind: entry.kind,
        size: entry.size,
        mtime: entry.mtime,
        children: [],
      });
    }
  }
  for (const node of folders.values()) {
    node.children.sort(compare);
  }
  return root.children;
}

/** The rows a person sees: children of expanded folders only, depth-first. */
export function visibleRows(nodes: readonly TreeNode[], expanded: ReadonlySet<string>, depth = 0): TreeRow[] {
  const rows: TreeRow[] = [];
  for (const node of nodes) {
    rows.push({ node, depth });
    if (node.kind === "dir" && expanded.has(node.path)) {
      rows.push(...visibleRows(node.children, expanded, depth + 1));
    }
  }
  return rows;
}

/** `path` inside `folder` ("" for the top). */
export const joinPath = (folder: string, path: string) => (folder === "" ? path : `${folder}/${path}`);

/** "a/b/c.py" → "a/b"; "c.py" → "". */
export function parentOf(path: string): string {
  const slash = path.lastIndexOf("/");
  return slash === -1 ? "" : path.slice(0, slash);
}

/** "a/b/c.py" → "c.py". */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** `path` itself or anything inside it, when it is a folder. */
export function isWithin(path: string, folderOrFile: string): boolean {
  return path === folderOrFile || path.startsWith(`${folderOrFile}/`);
}

/** `path` after `from` was renamed to `to` (unchanged when it is not within `from`). */
export function renamedPath(path: string, from: string, to: string): string {
  return isWithin(path, from) ? to + path.slice(from.length) : path;
}

/** Every folder on the way to `path`, outermost first: "a/b/c.py" → ["a", "a/b"]. */
export function ancestors(path: string): string[] {
  const parts = path.split("/").slice(0, -1);
  return parts.map((_, index) => parts.slice(0, index + 1).join("/"));
}
