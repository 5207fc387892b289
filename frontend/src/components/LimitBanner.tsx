"use client";

import { useEffect, useRef, useState } from "react";
import type { Sandbox } from "@/api/client";
import type { LifetimeWarning } from "@/hooks/useLifetimeWarning";
import type { ConsoleRun } from "@/hooks/useRuns";
import { formatBytes } from "@/lib/format";
import { Icon } from "./Icon";

type Banner = { key: string; text: string };

const SANDBOX_ENDS: Record<string, string> = {
  lifetime: "The sandbox reached its maximum lifetime and was stopped.",
  idle: "The sandbox was stopped after a while without use.",
  crashed: "The sandbox stopped unexpectedly.",
  oom: "The sandbox ran out of memory and was stopped.",
};

function runBanner(run: ConsoleRun | undefined, sandbox: Sandbox | null): Banner | null {
  if (run === undefined || !run.live || (run.status !== "timeout" && run.status !== "oom")) {
    return null;
  }
  const name = run.path ?? "your code";
  const limit = sandbox?.memory_limit_bytes != null ? ` (${formatBytes(sandbox.memory_limit_bytes)})` : "";
  const what =
    run.status === "timeout"
      ? `The run of ${name} was stopped: it passed the time limit.`
      : `The run of ${name} was stopped: it used more memory than the sandbox allows${limit}.`;
  return { key: `run:${run.id}`, text: [what, run.message].filter(Boolean).join(" ") };
}

const NEXT_SANDBOX = "The next run or terminal starts a new sandbox, with your files kept.";

/**
 * A banner, under the toolbar, when a limit ended a run (time, memory) or the
 * sandbox itself (lifetime, idle, crash), saying which once (the server's
 * sentence only for an end this page has no words for), and the sandbox's
 * lifetime warnings (`warning`). Each banner can be dismissed; a new event
 * shows a new one; a sandbox's end is no news once a new sandbox runs.
 */
export function LimitBanner({
  sandbox,
  lastRun,
  warning,
}: {
  sandbox: Sandbox | null;
  lastRun: ConsoleRun | undefined;
  warning: LifetimeWarning | null;
}) {
  const [dismissed, setDismissed] = useState<ReadonlySet<string>>(new Set());
  const [sandboxEnd, setSandboxEnd] = useState<Banner | null>(null);
  const wasRunning = useRef<boolean | null>(null);
  const oomKills = useRef<number | null>(null);

  useEffect(() => {
    if (sandbox === null) {
      return;
    }
    const first = wasRunning.current === null;
    const ended = !sandbox.running && (first || wasRunning.current === true);
    const restarted = sandbox.running && wasRunning.current === false;
    wasRunning.current = sandbox.running;
    const reason = sandbox.last_end ?? null;
    if (ended && reason !== null && SANDBOX_ENDS[reason] !== undefined && !(first && reason === "idle")) {
      setSandboxEnd({ key: `sandbox:${reason}:${Date.now()}`, text: `${SANDBOX_ENDS[reason]} ${NEXT_SANDBOX}` });
    } else if (restarted) {
      // A new sandbox runs: the old one's end is no longer news.
      setSandboxEnd(null);
    }
    if (sandbox.running && sandbox.oom_kills != null) {
      if (oomKills.current !== null && sandbox.oom_kills > oomKills.current) {
        setSandboxEnd({
          key: `oom:${sandbox.oom_kills}:${Date.now()}`,
          text: "A process in the sandbox used more memory than allowed and was killed.",
        });
      }
      oomKills.current = sandbox.oom_kills;
    } else if (!sandbox.running) {
      oomKills.current = null;
    }
  }, [sandbox]);

  const banners = [runBanner(lastRun, sandbox), sandboxEnd, warning].filter(
    (banner): banner is Banner => banner !== null && !dismissed.has(banner.key),
  );
  if (banners.length === 0) {
    return null;
  }
  return (
    <div className="flex flex-col">
      {banners.map((banner) => (
        <div
          key={banner.key}
          role="alert"
          data-testid="limit-banner"
          className="flex items-start gap-2 border-b border-amber-500/40 bg-amber-500/12 px-4 py-2 text-sm"
        >
          <p className="min-w-0 flex-1">{banner.text}</p>
          <button
            type="button"
            onClick={() => setDismissed((current) => new Set([...current, banner.key]))}
            className="shrink-0 rounded p-0.5 text-fg-muted hover:text-fg"
            aria-label="Dismiss"
          >
            <Icon name="close" />
          </button>
        </div>
      ))}
    </div>
  );
}
