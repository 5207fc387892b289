"use client";

import { ConfirmDialog } from "./ConfirmDialog";

/** What stopping the sandbox ends, in words. */
function ending(runs: number, terminals: number): string {
  const parts = [
    runs > 0 ? `${runs} running program${runs === 1 ? "" : "s"}` : "",
    terminals > 0 ? `${terminals} open terminal${terminals === 1 ? "" : "s"}` : "",
  ].filter(Boolean);
  return `This ends ${parts.join(" and ")}.`;
}

/**
 * "Stop sandbox" asked first when it would end `runs` running programs or
 * `terminals` open terminals. Loaded only then.
 */
export default function StopSandboxDialog({
  runs,
  terminals,
  onConfirm,
  onCancel,
}: {
  runs: number;
  terminals: number;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  return (
    <ConfirmDialog
      open
      title="Stop the sandbox?"
      confirmLabel="Stop sandbox"
      busyLabel="Stopping…"
      busy={false}
      error={null}
      onConfirm={onConfirm}
      onCancel={onCancel}
    >
      <p>
        {ending(runs, terminals)} Your files are kept; the next run or terminal starts a new sandbox.
      </p>
    </ConfirmDialog>
  );
}
