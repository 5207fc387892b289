"use client";

import { useEffect, useRef } from "react";
import type { ConsoleRun } from "@/hooks/useRuns";
import { RunBlock } from "./RunBlock";

type Props = {
  runs: ConsoleRun[];
  stdin: string;
  onStdin: (value: string) => void;
  onStop: (id: string) => void;
  onClear: () => void;
};

/**
 * The run console: the input given to the next run (runs read `input()`
 * from it; it has to be there before the run starts), then one block per
 * run, oldest first, following the newest output as it comes.
 */
export function RunConsole({ runs, stdin, onStdin, onStop, onClear }: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const last = runs.at(-1);
  const tail = last === undefined ? "" : `${last.id}:${last.status}:${last.stdout.length}:${last.stderr.length}:${runs.length}`;

  useEffect(() => {
    const element = scroller.current;
    if (element !== null && stick.current) {
      element.scrollTop = element.scrollHeight;
    }
  }, [tail]);

  return (
    <section aria-label="Run console" className="flex h-full min-h-0 flex-col bg-surface">
      <div className="flex items-center gap-2 border-b border-line px-3 py-1.5">
        <h2 className="mr-auto text-xs font-semibold tracking-wide text-fg-muted uppercase">Console</h2>
        <button type="button" className="btn-ghost px-2 py-0.5 text-xs" onClick={onClear} disabled={runs.length === 0}>
          Clear
        </button>
      </div>
      <div className="border-b border-line px-3 py-2">
        <label htmlFor="run-stdin" className="block text-xs font-medium">
          Input for <code className="font-mono">input()</code> (stdin)
        </label>
        <p id="run-stdin-hint" className="text-[11px] text-fg-muted">
          Given to the next run when it starts, one line per <code className="font-mono">input()</code> call: type it
          before you press Run.
        </p>
        <textarea
          id="run-stdin"
          aria-describedby="run-stdin-hint"
          value={stdin}
          onChange={(event) => onStdin(event.target.value)}
          rows={2}
          spellCheck={false}
          className="input mt-1 resize-y font-mono text-[12.5px]"
          placeholder="e.g. Ada"
        />
      </div>
      <div
        ref={scroller}
        role="log"
        aria-label="Runs"
        className="min-h-0 flex-1 overflow-auto"
        onScroll={(event) => {
          const element = event.currentTarget;
          stick.current = element.scrollHeight - element.scrollTop - element.clientHeight < 40;
        }}
      >
        {runs.length === 0 ? (
          <p className="px-3 py-6 text-center text-sm text-fg-muted">
            Press <strong className="font-semibold">Run</strong> (Ctrl+Enter) to run the open Python file. Its output and
            plots appear here.
          </p>
        ) : (
          runs.map((run) => <RunBlock key={run.id} run={run} onStop={onStop} />)
        )}
      </div>
    </section>
  );
}
