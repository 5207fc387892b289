"use client";

import { useEffect, useState } from "react";
import type { RunLimits } from "@/api/client";
import { getRunLimits } from "@/lib/runs";
import { MAX_TIME_LIMIT_S, parseTimeLimit } from "@/lib/uiState";

type Props = {
  /** Seconds; null: the server's default limit. */
  value: number | null;
  onChange: (seconds: number | null) => void;
};

/**
 * How long a run may take, in seconds, beside the Run button. Empty means the
 * server's default, shown as the placeholder; the server caps any value at
 * its own maximum, so the field shows what a run will get once it is left
 * (and the run's message says which limit ended it).
 */
export function RunTimeLimit({ value, onChange }: Props) {
  const [limits, setLimits] = useState<RunLimits | null>(null);
  useEffect(() => {
    let live = true;
    void getRunLimits().then((known) => {
      if (live) setLimits(known);
    });
    return () => {
      live = false;
    };
  }, []);
  const max = limits?.timeout_max_s ?? MAX_TIME_LIMIT_S;
  const shown = (seconds: number | null) => (seconds === null ? "" : String(Math.min(seconds, max)));
  // What is typed, shown as typed until the field is left (then as understood).
  const [draft, setDraft] = useState(shown(value));
  const title =
    limits === null
      ? "Seconds a run may take. Empty: the server's limit, which also caps what you ask for."
      : `Seconds a run may take: ${limits.timeout_s} when empty, at most ${limits.timeout_max_s}. ` +
        "Time spent waiting for input counts.";

  return (
    <label className="flex items-center gap-1 text-xs text-fg-muted" title={title}>
      <span className="max-lg:sr-only">Time limit</span>
      <input
        type="number"
        min={1}
        max={max}
        step={1}
        inputMode="numeric"
        placeholder={limits === null ? "auto" : String(limits.timeout_s)}
        aria-label="Run time limit (seconds)"
        value={draft}
        onChange={(event) => {
          setDraft(event.target.value);
          onChange(parseTimeLimit(event.target.value));
        }}
        onBlur={() => setDraft(shown(value))}
        className="w-16 rounded border border-line bg-surface px-1.5 py-0.5 text-right text-xs text-fg tabular-nums"
      />
      <span aria-hidden="true">s</span>
    </label>
  );
}
