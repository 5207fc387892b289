"use client";

import Link from "next/link";
import { Icon } from "./Icon";
import { RunTimeLimit } from "./RunTimeLimit";

type Props = {
  name: string;
  canRun: boolean;
  runHint: string;
  running: boolean;
  treeOpen: boolean;
  terminalOpen: boolean;
  timeLimit: number | null;
  onTimeLimit: (seconds: number | null) => void;
  onRun: () => void;
  onStop: () => void;
  onToggleTree: () => void;
  onToggleTerminal: () => void;
  onHistory: () => void;
  onShortcuts: () => void;
  onSubmit: () => void;
};

const isMac = () => typeof navigator !== "undefined" && /Mac|iPhone|iPad/.test(navigator.platform);

/** The workspace's top bar: where you are, the panel toggles, Run (with its time limit) and Stop. */
export function IdeToolbar(props: Props) {
  const runKeys = isMac() ? "⌘↵" : "Ctrl+Enter";
  return (
    <div className="flex items-center gap-2 border-b border-line bg-surface px-3 py-1.5">
      <button
        type="button"
        onClick={props.onToggleTree}
        aria-pressed={props.treeOpen}
        // Narrow screens have the region tabs instead (Ide.tsx).
        className="rounded p-1.5 text-fg-muted hover:bg-surface-muted hover:text-fg max-lg:hidden"
        title={props.treeOpen ? "Hide files" : "Show files"}
        aria-label="Show files"
      >
        <Icon name="sidebar" />
      </button>
      <nav aria-label="Breadcrumb" className="flex min-w-0 items-center gap-2 overflow-hidden text-sm">
        <Link href="/" prefetch={false} className="shrink-0 text-fg-muted hover:text-fg hover:underline max-sm:hidden">
          Workspaces
        </Link>
        <span aria-hidden="true" className="text-fg-muted max-sm:hidden">
          /
        </span>
        <h1 className="truncate font-semibold">{props.name}</h1>
      </nav>
      <div className="ml-auto flex shrink-0 items-center gap-2">
        <button
          type="button"
          onClick={props.onToggleTerminal}
          aria-pressed={props.terminalOpen}
          className="btn-ghost px-2 py-1 text-xs max-lg:hidden"
          title="Show or hide the terminal (Ctrl+`)"
        >
          <Icon name="terminal" />
          <span className="max-md:sr-only">Terminal</span>
        </button>
        <button type="button" onClick={props.onHistory} className="btn-ghost px-2 py-1 text-xs" title="File history, snapshots, deleted files">
          History
        </button>
        <button type="button" onClick={props.onSubmit} className="btn-ghost px-2 py-1 text-xs" title="Submit this workspace, request a review, see feedback">
          Submit
        </button>
        <button
          type="button"
          onClick={props.onShortcuts}
          className="btn-ghost px-2 py-1 text-xs"
          title="Keyboard shortcuts and theme (?)"
          aria-label="Keyboard shortcuts and theme"
          aria-keyshortcuts="?"
        >
          ?
        </button>
        {props.running && (
          <button type="button" onClick={props.onStop} className="btn-secondary px-3 py-1 hover:text-danger">
            <Icon name="stop" className="size-3.5" />
            Stop
          </button>
        )}
        <RunTimeLimit value={props.timeLimit} onChange={props.onTimeLimit} />
        <button
          type="button"
          onClick={props.onRun}
          disabled={!props.canRun}
          className="btn-primary px-3 py-1"
          title={props.canRun ? `Run ${props.runHint} (${runKeys})` : "Open a Python file to run it"}
          aria-keyshortcuts="Control+Enter Meta+Enter"
        >
          <Icon name="play" className="size-3.5" />
          Run
          <kbd aria-hidden="true" className="hidden font-sans text-[11px] opacity-75 lg:inline">
            {runKeys}
          </kbd>
        </button>
      </div>
    </div>
  );
}
