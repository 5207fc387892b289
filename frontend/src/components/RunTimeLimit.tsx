"use client";

import { useState } from "react";
import { MAX_TIME_LIMIT_S, parseTimeLimit } from "@/lib/uiState";

type Props = {
  /** Seconds; null: the server's default limit. */
  value: number | null;
  onChange: (seconds: number | null) => void;
};

/**
 * How long a run may take, in seconds, beside the Run button. Empty means the
 * server's default; the server also caps any value at its own maximum (and
 * the run's message says which limit ended it).
 */
export function RunTimeLimit({ value, onChange }: Props) {
  // What is typed, shown as typed until the field is left (then as understood).
  const [draft, setDraft] = useState(value === null ? "" : String(value));

  return (
    <label
      className="flex items-center gap-1 text-xs text-fg-muted"
      title="Seconds a run may take. Empty: the server's limit, which also caps what you ask for."
    >
      <span className="max-lg:sr-only">Time limit</span>
      <input
        type="number"
        min={1}
        max={MAX_TIME_LIMIT_S}
        step={1}
        inputMode="numeric"
        placeholder="auto"
        aria-label="Run time limit (seconds)"
        value={draft}
        onChange={(event) => {
          setDraft(event.target.value);
          onChange(parseTimeLimit(event.target.value));
        }}
        onBlur={() => setDraft(value === null ? "" : String(value))}
        className="w-16 rounded border border-line bg-surface px-1.5 py-0.5 text-right text-xs text-fg tabular-nums"
      />
      <span aria-hidden="true">s</span>
    </label>
  );
}
