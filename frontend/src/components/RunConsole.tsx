"use client";

import { lazy, Suspense, useEffect, useRef, useState } from "react";
import type { ConsoleRun } from "@/hooks/useRuns";
import type { PlaceLinks } from "@/lib/traceback";

// A run's block (output, links, plots) loads with the first run to show: an
// empty console, as most workspaces open, needs none of it.
const RunBlock = lazy(() => import("./RunBlock").then((m) => ({ default: m.RunBlock })));

type Props = {
  runs: ConsoleRun[];
  stdin: string;
  onStdin: (value: string) => void;
  onStop: (id: string) => void;
  onInput: (id: string, text: string, eof: boolean) => Promise<boolean>;
  onClear: () => void;
  links: PlaceLinks;
};

/**
 * The run console: one block per run, oldest first, following the newest
 * output as it comes. A running program reads what is typed on the input
 * line under its output. Optionally, input can be written beforehand
 * ("Pre-filled input"): each run reads it first, then what is typed.
 *
 * F6 lands on the newest running program's input line, else on the
 * pre-filled input (the element marked `data-console-focus`).
 */
export function RunConsole({ runs, stdin, onStdin, onStop, onInput, onClear, links }: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const [prefilled, setPrefilled] = useState(stdin !== "");
  const last = runs.at(-1);
  const outputSize = last === undefined ? 0 : last.output.reduce((total, piece) => total + (piece.stream === "image" ? 1 : piece.text.length), 0);
  const tail =
    last === undefined ? "" : `${last.id}:${last.status}:${outputSize}:${last.images.length}:${last.inputOpen}:${runs.length}`;
  const inputRun = runs.findLast((run) => run.status === "running" && run.inputOpen);

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
      <details
        className="border-b border-line px-3 py-1.5"
        open={prefilled}
        onToggle={(event) => setPrefilled(event.currentTarget.open)}
      >
        <summary
          className="cursor-pointer text-xs font-medium text-fg-muted select-none"
          data-console-focus={inputRun === undefined && !prefilled ? "" : undefined}
        >
          Pre-filled input{stdin !== "" && !prefilled ? " (set)" : ""}
        </summary>
        <label htmlFor="run-stdin" className="mt-1 block text-xs font-medium">
          Input for <code className="font-mono">input()</code> given at the start (optional)
        </label>
        <p id="run-stdin-hint" className="text-[11px] text-fg-muted">
          Each run reads this first, one line per <code className="font-mono">input()</code> call, then what you type
          under its output.
        </p>
        <textarea
          id="run-stdin"
          aria-describedby="run-stdin-hint"
          data-console-focus={inputRun === undefined && prefilled ? "" : undefined}
          value={stdin}
          onChange={(event) => onStdin(event.target.value)}
          rows={2}
          spellCheck={false}
          className="input mt-1 resize-y font-mono text-[12.5px]"
          placeholder="e.g. Ada"
        />
      </details>
      <div
        ref={scroller}
        role="log"
        aria-label="Runs"
        className="min-h-0 flex-1 overflow-auto"
        onScroll={(event) => {
          const element = event.currentTarget;
          stick.current = element.scrollHeight - element.scrollTop - element.clientHeight < 40;
        }}
        // A plot that has loaded made the output taller: still follow the newest (after a reload too).
        onLoadCapture={(event) => {
          if (stick.current && event.target instanceof HTMLImageElement) {
            event.currentTarget.scrollTop = event.currentTarget.scrollHeight;
          }
        }}
      >
        {runs.length === 0 ? (
          <p className="px-3 py-6 text-center text-sm text-fg-muted">
            Press <strong className="font-semibold">Run</strong> (Ctrl+Enter) to run the open Python file. Its output and
            plots appear here as it runs, and you can type what it asks for with{" "}
            <code className="font-mono">input()</code>.
          </p>
        ) : (
          <Suspense fallback={null}>
            {runs.map((run) => (
              <RunBlock
                key={run.id}
                run={run}
                onStop={onStop}
                onInput={onInput}
                focusTarget={run.id === inputRun?.id}
                links={links}
              />
            ))}
          </Suspense>
        )}
      </div>
    </section>
  );
}
