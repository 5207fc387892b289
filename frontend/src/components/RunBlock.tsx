"use client";

import { lazy, Suspense, useEffect, useRef, useState } from "react";
import type { ConsoleRun } from "@/hooks/useRuns";
import { formatDateTime, formatRelative } from "@/lib/format";
import { interleave, type ConsolePiece } from "@/lib/runOutput";
import type { PlaceLinks } from "@/lib/traceback";
import { Icon } from "./Icon";

// Only a program waiting for input shows it: loaded then, not with the page.
const RunInputLine = lazy(() => import("./RunInputLine").then((m) => ({ default: m.RunInputLine })));
// Links in the output (lib/traceback.ts), when some text may name a place.
const LinkedText = lazy(() => import("./LinkedText"));
// A plot at full size, when one is enlarged.
const PlotViewer = lazy(() => import("./PlotViewer"));

const STATUS: Record<ConsoleRun["status"], { label: string; tone: string }> = {
  running: { label: "Running", tone: "text-accent" },
  ok: { label: "Finished", tone: "text-emerald-700 dark:text-emerald-400" },
  error: { label: "Failed", tone: "text-danger" },
  timeout: { label: "Timed out", tone: "text-amber-800 dark:text-amber-400" },
  oom: { label: "Out of memory", tone: "text-amber-800 dark:text-amber-400" },
  killed: { label: "Stopped", tone: "text-fg-muted" },
  refused: { label: "Not started", tone: "text-danger" },
};

/** Why a limit ended the run, in words, when one did. */
function limitText(run: ConsoleRun): string | null {
  if (run.status === "timeout") {
    return "The run passed its time limit and was stopped.";
  }
  if (run.status === "oom") {
    return "The run used more memory than the sandbox allows and was stopped.";
  }
  return null;
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${(ms / 1000).toFixed(1)} s`;
}

function Elapsed({ since }: { since: number }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 100);
    return () => window.clearInterval(timer);
  }, []);
  return <>{seconds(Math.max(0, now - since))}</>;
}

const PIECE_CLASS: Record<Exclude<ConsolePiece["stream"], "image">, string> = {
  stdout: "",
  // Never wrapped: a traceback's ^^^ markers stay under what they mark (the output scrolls sideways).
  stderr: "text-danger whitespace-pre",
  // Input typed while the run ran, as the program read it.
  stdin: "font-semibold text-accent",
};

/**
 * The output as it came (stdout, stderr in red, typed input in bold) and,
 * while the program takes input, the input line right after it. Follows
 * the newest output unless scrolled up.
 */
function Transcript({
  run,
  onInput,
  focusTarget,
  links,
}: {
  run: ConsoleRun;
  onInput: (text: string, eof: boolean) => Promise<boolean>;
  focusTarget: boolean;
  links: PlaceLinks;
}) {
  const box = useRef<HTMLPreElement>(null);
  const stick = useRef(true);
  const [enlarged, setEnlarged] = useState<number | null>(null);
  // From a record: its plots put back where they were shown.
  const pieces = run.record === null ? run.output : interleave(run.record);
  const size = pieces.reduce((total, piece) => total + (piece.stream === "image" ? 1 : piece.text.length), 0);
  // Each plot's number (1, 2, ...), in the order shown.
  const urls = pieces.flatMap((piece) => (piece.stream === "image" ? [piece.url] : []));
  const showInput = run.status === "running" && run.inputOpen;

  useEffect(() => {
    const element = box.current;
    if (element !== null && stick.current) {
      element.scrollTop = element.scrollHeight;
    }
  }, [size, showInput]);

  if (pieces.length === 0 && !showInput) {
    return null;
  }
  return (
    <pre
      ref={box}
      className="mt-2 max-h-[60vh] overflow-auto font-mono text-[12.5px] whitespace-pre-wrap break-words"
      data-testid="output"
      onScroll={(event) => {
        const element = event.currentTarget;
        stick.current = element.scrollHeight - element.scrollTop - element.clientHeight < 24;
      }}
      onClick={(event) => {
        // A click in the output (not a selection) goes to the input line, as in a console.
        const onControl = event.target instanceof Element && event.target.closest("a, button") !== null;
        if (showInput && !onControl && window.getSelection()?.isCollapsed !== false) {
          event.currentTarget.querySelector<HTMLInputElement>('[data-testid="run-input"]')?.focus();
        }
      }}
    >
      {pieces.map((piece, index) => {
        if (piece.stream === "image") {
          const figure = urls.indexOf(piece.url) + 1;
          return (
            <Figure key={piece.url} src={piece.url} number={figure} runPath={run.path} onEnlarge={() => setEnlarged(figure)} />
          );
        }
        return (
          <span key={index} className={PIECE_CLASS[piece.stream]} data-stream={piece.stream}>
            {piece.stream === "stdin" ? piece.text : <Linked text={piece.text} links={links} />}
          </span>
        );
      })}
      {showInput && (
        <Suspense fallback={null}>
          <RunInputLine runId={run.id} onSend={onInput} focusTarget={focusTarget} takeFocus={takesFocus(run)} />
        </Suspense>
      )}
      {enlarged !== null && (
        <Suspense fallback={null}>
          <PlotViewer
            src={urls[enlarged - 1] ?? ""}
            title={figureName(enlarged, run.path)}
            fileName={`figure-${enlarged}.png`}
            onClose={() => setEnlarged(null)}
          />
        </Suspense>
      )}
    </pre>
  );
}

/** Whether the input line should take the focus: a run started here has printed a prompt (text with no newline after it). */
function takesFocus(run: ConsoleRun): boolean {
  const last = run.output.at(-1);
  return run.live && last !== undefined && last.stream === "stdout" && !last.text.endsWith("\n");
}

function figureName(number: number, path: string | null): string {
  return `Figure ${number} from ${path ?? "the run"}`;
}

/** `text`, with the places it names as links once their code has loaded (plain text until then). */
function Linked({ text, links }: { text: string; links: PlaceLinks }) {
  // Cheap test first: most output names no place, and needs no extra code.
  if (!text.includes(".py")) {
    return <>{text}</>;
  }
  return (
    <Suspense fallback={text}>
      <LinkedText text={text} links={links} />
    </Suspense>
  );
}

/** A plot where `plt.show()` showed it, with buttons to enlarge it and to download it. */
function Figure({ src, number, runPath, onEnlarge }: { src: string; number: number; runPath: string | null; onEnlarge: () => void }) {
  const name = figureName(number, runPath);
  return (
    <span className="my-2 flex flex-col items-start gap-1 font-sans whitespace-normal" data-testid="figure">
      <img src={src} alt={name} className="max-w-full rounded border border-line bg-white" loading="lazy" />
      <span className="flex gap-3 text-xs">
        <button type="button" onClick={onEnlarge} className="text-fg-muted underline hover:text-fg" aria-label={`Enlarge figure ${number}`}>
          Enlarge
        </button>
        <a href={src} download={`figure-${number}.png`} className="text-fg-muted underline hover:text-fg" aria-label={`Download figure ${number}`}>
          Download
        </a>
      </span>
    </span>
  );
}

type Props = {
  run: ConsoleRun;
  onStop: (id: string) => void;
  onInput: (id: string, text: string, eof: boolean) => Promise<boolean>;
  /** This block's input line is where F6 lands in the console. */
  focusTarget?: boolean;
  links: PlaceLinks;
};

/**
 * One run in the console: status, duration, exit code, output as it comes,
 * an input line while the program takes input, plots, and Stop while it runs.
 */
export function RunBlock({ run, onStop, onInput, focusTarget = false, links }: Props) {
  const status = STATUS[run.status];
  const limit = limitText(run);
  const askedForInput = run.status === "error" && /EOFError: EOF when reading a line/.test(run.stderr);
  const showInput = run.status === "running" && run.inputOpen;
  return (
    <article
      className="border-b border-line px-3 py-2 text-[13px]"
      aria-label={`Run of ${run.path ?? "code"}: ${status.label}`}
      data-testid="run"
      data-status={run.status}
    >
      <header className="flex flex-wrap items-center gap-x-3 gap-y-1">
        <span className={`flex items-center gap-1.5 font-semibold ${status.tone}`}>
          {run.status === "running" && (
            <span
              aria-hidden="true"
              className="size-3 animate-spin rounded-full border-2 border-line border-t-accent motion-reduce:animate-none"
            />
          )}
          {status.label}
        </span>
        <span className="min-w-0 truncate font-mono text-fg-muted">{run.path ?? "code"}</span>
        <time className="text-xs text-fg-muted" dateTime={new Date(run.startedAt).toISOString()} title={formatDateTime(run.startedAt)} data-testid="run-started">
          {formatRelative(run.startedAt)}
        </time>
        <span className="text-xs text-fg-muted tabular-nums">
          {run.status === "running" ? <Elapsed since={run.startedAt} /> : run.durationMs !== null ? seconds(run.durationMs) : ""}
        </span>
        {run.interpreter !== null && (
          <span className="text-xs text-fg-muted" title={run.interpreterNote ?? "forked from the warm interpreter"} data-testid="run-interpreter">
            {run.interpreter}
          </span>
        )}
        {run.exitCode !== null && (
          <span className="text-xs text-fg-muted" data-testid="exit-code">
            exit code {run.exitCode}
          </span>
        )}
        {run.status === "running" && (
          <button
            type="button"
            onClick={() => onStop(run.id)}
            disabled={run.stopping}
            className="btn-secondary ml-auto px-2 py-0.5 text-xs hover:text-danger"
          >
            <Icon name="stop" className="size-3" />
            {run.stopping ? "Stopping…" : "Stop"}
          </button>
        )}
      </header>
      {(limit !== null || (run.message !== null && run.status !== "ok")) && (
        <p role="alert" className="mt-2 rounded-md border border-amber-500/40 bg-amber-500/10 px-2 py-1.5 text-xs" data-testid="run-limit">
          {/* The server's sentence when it has one (it says why); never both, which said the same twice. */}
          {run.message ?? limit}
        </p>
      )}
      <Transcript run={run} onInput={(text, eof) => onInput(run.id, text, eof)} focusTarget={focusTarget} links={links} />
      {showInput && (
        <p id={`run-input-hint-${run.id}`} className="mt-1 text-[11px] text-fg-muted">
          The program reads what you type on the line above: Enter sends a line, Ctrl+D ends the input.
        </p>
      )}
      {run.inputError !== null && (
        <p role="alert" className="mt-1 text-xs text-danger" data-testid="run-input-error">
          {run.inputError}
        </p>
      )}
      {askedForInput && (
        <p className="mt-2 text-xs text-fg-muted">
          The program asked for more input than it was given. While a run runs, type its input on the line under its
          output.
        </p>
      )}
      {run.truncated && <p className="mt-2 text-xs text-fg-muted">The output was too long and was cut.</p>}
      {run.status !== "running" && run.status !== "refused" && run.output.length === 0 && run.images.length === 0 && (
        <p className="mt-1 text-xs text-fg-muted">No output.</p>
      )}
    </article>
  );
}
