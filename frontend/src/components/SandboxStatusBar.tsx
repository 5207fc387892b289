"use client";

import { useEffect, useState } from "react";
import type { Sandbox, Usage } from "@/api/client";
import { formatBytes } from "@/lib/format";

function remaining(expiresAt: number, now: number): string {
  const left = Math.max(0, Math.round(expiresAt - now / 1000));
  const minutes = Math.floor(left / 60);
  const seconds = String(left % 60).padStart(2, "0");
  return minutes >= 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${minutes}:${seconds}`;
}

/** A use against a limit, with a thin meter that turns amber past 80 %. */
function Meter({ label, used, limit, text }: { label: string; used: number; limit: number | null; text: string }) {
  const share = limit !== null && limit > 0 ? Math.min(1, used / limit) : null;
  return (
    <span className="flex items-center gap-1.5" title={label}>
      <span className="text-fg-muted">{label}</span>
      {share !== null && (
        <span
          role="meter"
          aria-label={label}
          aria-valuenow={Math.round(share * 100)}
          aria-valuemin={0}
          aria-valuemax={100}
          className="hidden h-1.5 w-12 overflow-hidden rounded-full bg-line sm:inline-block"
        >
          <span
            className={`block h-full ${share > 0.8 ? "bg-amber-500" : "bg-accent"}`}
            style={{ width: `${Math.max(2, share * 100)}%` }}
          />
        </span>
      )}
      <span className="tabular-nums">{text}</span>
    </span>
  );
}

/**
 * The bottom bar: the sandbox's memory, CPU and processes against its
 * limits, how long it has left, the workspace's storage against its quota and
 * the owner's history (versions, snapshots) against theirs. Counts down the lifetime every second between polls.
 */
export function SandboxStatusBar({
  sandbox,
  usage,
  saveState,
  onRestart,
}: {
  sandbox: Sandbox | null;
  usage: Usage | null;
  saveState: string;
  onRestart: () => void;
}) {
  const [now, setNow] = useState(() => Date.now());
  const expires = sandbox?.running ? (sandbox.expires_at ?? null) : null;
  useEffect(() => {
    if (expires === null) {
      return;
    }
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, [expires]);

  return (
    <footer
      aria-label="Sandbox status"
      className="flex min-h-7 flex-wrap items-center gap-x-4 gap-y-0.5 border-t border-line bg-surface-muted px-3 py-1 text-[11.5px]"
      data-testid="status-bar"
    >
      <span className="flex items-center gap-1.5">
        <span
          aria-hidden="true"
          className={`size-2 rounded-full ${sandbox?.running ? "bg-emerald-500" : "bg-fg-muted/50"}`}
        />
        {sandbox === null ? "Sandbox…" : sandbox.running ? "Sandbox running" : "Sandbox not running (the next run or terminal starts it)"}
      </span>
      {sandbox?.running && (
        <>
          {sandbox.memory_bytes != null && (
            <Meter
              label="Memory"
              used={sandbox.memory_bytes}
              limit={sandbox.memory_limit_bytes ?? null}
              text={`${formatBytes(sandbox.memory_bytes)}${sandbox.memory_limit_bytes != null ? ` / ${formatBytes(sandbox.memory_limit_bytes)}` : ""}`}
            />
          )}
          {sandbox.cpu_seconds != null && (
            <span title="CPU time used by the sandbox">
              <span className="text-fg-muted">CPU</span>{" "}
              <span className="tabular-nums">
                {sandbox.cpu_seconds.toFixed(1)} s{sandbox.cpus != null ? ` · ${sandbox.cpus} CPU${sandbox.cpus === 1 ? "" : "s"}` : ""}
              </span>
            </span>
          )}
          {sandbox.pids != null && (
            <Meter
              label="Processes"
              used={sandbox.pids}
              limit={sandbox.pids_limit ?? null}
              text={`${sandbox.pids}${sandbox.pids_limit != null ? ` / ${sandbox.pids_limit}` : ""}`}
            />
          )}
          {expires !== null && (
            <span title="The sandbox stops when its lifetime is over; the next run starts a fresh one.">
              <span className="text-fg-muted">Ends in</span> <span className="tabular-nums">{remaining(expires, now)}</span>
            </span>
          )}
          <button type="button" onClick={onRestart} className="rounded px-1.5 text-fg-muted underline-offset-2 hover:text-fg hover:underline">
            Stop sandbox
          </button>
        </>
      )}
      <span className="ml-auto flex items-center gap-4">
        {saveState !== "" && <span className="text-fg-muted">{saveState}</span>}
        {usage !== null && (
          <Meter
            label="Storage"
            used={usage.bytes}
            limit={usage.quota_bytes}
            text={`${formatBytes(usage.bytes)} / ${formatBytes(usage.quota_bytes)} · ${usage.files} / ${usage.quota_files} files`}
          />
        )}
        {usage !== null && (
          <Meter
            label="History"
            used={usage.history_bytes}
            limit={usage.history_quota_bytes}
            text={`${formatBytes(usage.history_bytes)} / ${formatBytes(usage.history_quota_bytes)}`}
          />
        )}
      </span>
    </footer>
  );
}
