"use client";

import type { DragEvent, ReactNode } from "react";
import { downloadUrl, isEscaped } from "@/lib/files";
import type { TreeNode } from "@/lib/tree";
import { formatBytes } from "@/lib/format";
import { Icon } from "./Icon";

type Props = {
  workspaceId: string;
  node: TreeNode;
  depth: number;
  expanded: boolean;
  focused: boolean;
  open: boolean;
  dirty: boolean;
  dropTarget: boolean;
  /** Replaces the name while it is being renamed. */
  editor: ReactNode;
  onActivate: () => void;
  onFocus: () => void;
  onRename: () => void;
  onDelete: () => void;
  onDragOver: (event: DragEvent) => void;
};

/**
 * One row of the file tree (a `treeitem`). Only the focused row is in the
 * tab order (roving tabindex); the row's buttons are for the mouse, and the
 * keyboard has F2 and Delete for the same actions.
 */
export function TreeRow({
  workspaceId,
  node,
  depth,
  expanded,
  focused,
  open,
  dirty,
  dropTarget,
  editor,
  onActivate,
  onFocus,
  onRename,
  onDelete,
  onDragOver,
}: Props) {
  const folder = node.kind === "dir";
  // The name read out holds what is shown: the name, and a file's size.
  const escaped = isEscaped(node.path);
  const shown = node.kind === "link" ? `${node.name} (link)` : escaped ? `${node.name} (escaped name)` : node.name;
  const label = folder ? shown : `${shown} ${formatBytes(node.size)}`;
  return (
    <li
      role="treeitem"
      aria-level={depth + 1}
      aria-expanded={folder ? expanded : undefined}
      aria-selected={open}
      aria-label={label}
      tabIndex={focused ? 0 : -1}
      data-path={node.path}
      onFocus={(event) => {
        if (event.target === event.currentTarget) {
          onFocus();
        }
      }}
      onClick={onActivate}
      onDragOver={onDragOver}
      className={`group flex cursor-pointer items-center gap-1 pr-1 text-[13px] outline-offset-[-2px] select-none ${
        open ? "bg-accent/12 text-fg" : "text-fg hover:bg-surface-muted"
      } ${dropTarget ? "ring-2 ring-accent ring-inset" : ""}`}
      style={{ paddingLeft: `${0.5 + depth * 0.85}rem` }}
    >
      <span className={`text-fg-muted transition-transform ${folder ? "" : "invisible"} ${expanded ? "rotate-90" : ""}`}>
        <Icon name="chevron" className="size-3.5" />
      </span>
      <span className={folder ? "text-accent" : "text-fg-muted"}>
        <Icon name={folder ? "folder" : "file"} className="size-4" />
      </span>
      {editor ?? (
        <>
          <span
            className={`min-w-0 flex-1 truncate py-1 ${node.kind === "link" || node.kind === "other" || escaped ? "italic text-fg-muted" : ""}`}
            title={escaped ? `${node.path}: a name with characters a path may not hold, shown escaped; delete it here or rename it in the terminal` : node.path}
          >
            {node.name}
          </span>
          {/* A space, so the text shown reads "main.py 55 B", as the label says. */}{" "}
          {dirty && (
            <span className="text-accent" title="Unsaved changes" aria-label="unsaved">
              ●
            </span>
          )}
          <span className="hidden shrink-0 items-center gap-0.5 group-hover:flex group-focus:flex">
            {node.kind === "file" && (
              <a
                href={downloadUrl(workspaceId, node.path)}
                download={node.name}
                tabIndex={-1}
                onClick={(event) => event.stopPropagation()}
                className="rounded p-1 text-fg-muted hover:bg-line hover:text-fg"
                title={`Download ${node.name}`}
                aria-label={`Download ${node.name}`}
              >
                <Icon name="download" className="size-3.5" />
              </a>
            )}
            <button
              type="button"
              tabIndex={-1}
              onClick={(event) => {
                event.stopPropagation();
                onRename();
              }}
              className="rounded p-1 text-fg-muted hover:bg-line hover:text-fg"
              title="Rename (F2)"
              aria-label={`Rename ${node.name}`}
            >
              <Icon name="pencil" className="size-3.5" />
            </button>
            <button
              type="button"
              tabIndex={-1}
              onClick={(event) => {
                event.stopPropagation();
                onDelete();
              }}
              className="rounded p-1 text-fg-muted hover:bg-line hover:text-danger"
              title="Delete (Delete key)"
              aria-label={`Delete ${node.name}`}
            >
              <Icon name="trash" className="size-3.5" />
            </button>
          </span>
          {!folder && (
            <span className="shrink-0 text-[11px] text-fg-muted tabular-nums group-hover:hidden group-focus:hidden">
              {formatBytes(node.size)}
            </span>
          )}
        </>
      )}
    </li>
  );
}
