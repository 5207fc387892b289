"use client";

import { hiddenSummary, lintLine, scoreText } from "@/lib/review";
import type { Checks } from "@/lib/submissions";

const STATUS_TEXT: Record<Checks["status"], string> = {
  pending: "Waiting in the queue",
  running: "Running",
  done: "Done",
  error: "Could not run",
};

/**
 * The automated checks of one submission, as the server shows them to the
 * caller: the total, each test (name, status, score, output), the hidden
 * tests' count and score when their detail is not released, lint diagnostics,
 * notes for the reviewer, and the raw output (reviewers only).
 */
export function ChecksResults({ checks }: { checks: Checks }) {
  const finished = checks.status === "done" || checks.status === "error";
  const hidden = hiddenSummary(checks.hidden_tests);
  return (
    <section aria-labelledby="checks-title" className="space-y-3" data-testid="checks" data-status={checks.status}>
      <div className="flex items-baseline gap-3">
        <h2 id="checks-title" className="font-semibold">
          Automated results
        </h2>
        <p className="text-sm text-fg-muted" role="status">
          {STATUS_TEXT[checks.status]}
          {checks.status === "pending" && checks.position != null ? ` (position ${checks.position})` : ""}
        </p>
        {finished && (
          <p className="ml-auto text-sm font-semibold" data-testid="checks-score">
            Score {scoreText(checks.score, checks.max_score)}
          </p>
        )}
      </div>
      {checks.tests.length > 0 && (
        <ul aria-label="Tests" className="divide-y divide-line rounded-md border border-line">
          {checks.tests.map((test) => (
            <li key={test.name} className="px-3 py-2 text-sm">
              <details>
                <summary className="flex cursor-pointer items-center gap-2">
                  <span className={test.status === "passed" ? "text-accent" : "text-danger"}>{test.status}</span>
                  <span className="min-w-0 flex-1 truncate font-mono">{test.name}</span>
                  <span className="text-fg-muted">{scoreText(test.score, test.max_score)}</span>
                </summary>
                {test.reason && <p className="mt-1 text-fg-muted">{test.reason}</p>}
                {test.output !== "" && (
                  <pre className="mt-1 max-h-64 overflow-auto rounded bg-surface-muted p-2 font-mono text-xs whitespace-pre-wrap">{test.output}</pre>
                )}
              </details>
            </li>
          ))}
        </ul>
      )}
      {hidden !== null && (
        <p className="text-sm text-fg-muted" data-testid="hidden-tests">
          {hidden.count} hidden test{hidden.count === 1 ? "" : "s"}: {scoreText(hidden.score, hidden.max_score)}
        </p>
      )}
      {checks.lint.length > 0 && (
        <div className="space-y-1">
          <h3 className="text-sm font-semibold">Lint ({checks.lint.length})</h3>
          <ul aria-label="Lint diagnostics" className="space-y-0.5 font-mono text-xs">
            {checks.lint.map((item, index) => (
              <li key={index}>{lintLine(item)}</li>
            ))}
          </ul>
        </div>
      )}
      {checks.message != null && checks.message !== "" && <p className="text-sm">{checks.message}</p>}
      {checks.notes.length > 0 && (
        <ul aria-label="Notes for the reviewer" className="list-disc space-y-0.5 pl-5 text-sm">
          {checks.notes.map((note) => (
            <li key={note}>{note}</li>
          ))}
        </ul>
      )}
      {checks.raw_output != null && checks.raw_output !== "" && (
        <details className="text-sm">
          <summary className="cursor-pointer text-fg-muted">Raw output (reviewers only)</summary>
          <pre className="mt-1 max-h-80 overflow-auto rounded bg-surface-muted p-2 font-mono text-xs whitespace-pre-wrap">{checks.raw_output}</pre>
        </details>
      )}
    </section>
  );
}
