"use client";

import { useCallback, useEffect, useEffectEvent, useRef, useState } from "react";
import type { Run, RunStatus } from "@/api/client";
import type { components } from "@/api/schema";
import type { ConsolePiece } from "@/lib/runOutput";
import { getRun, listRuns, sendRunInput, startRun, stopRun } from "@/lib/runs";

const POLL_MS = 300;
const HISTORY = 20;
/** Runs followed live at once; more are polled (each stream holds one of the browser's connections). */
const MAX_STREAMS = 3;
/** Output events are applied together, at most this often (a flood renders ~30 times a second). */
const FLUSH_MS = 33;

type Schemas = components["schemas"];
/** One event of `GET /api/runs/{run_id}/events`. */
type RunEvent =
  | Schemas["RunStartEvent"]
  | Schemas["RunOutputEvent"]
  | Schemas["RunImageEvent"]
  | Schemas["RunInputEvent"]
  | Schemas["RunEndEvent"];

/** A piece of a run's output, in the order it came; `stdin` is input typed while it ran. */
export type OutputPiece = Schemas["RunOutputPiece"];

/** One block of the run console. `refused`: the server did not start the run. */
export type ConsoleRun = {
  id: string;
  path: string | null;
  status: RunStatus | "refused";
  exitCode: number | null;
  /** As the run's record has it (the stream's output is in `output`). */
  stderr: string;
  /**
   * stdout, stderr and typed input as they came, as received: the run
   * record's `output` (text only: `record` places the plots), or its stream's
   * events while it is followed (plots among them, where they came).
   */
  output: ConsolePiece[];
  /** The record's texts, plots and their order (lib/runOutput.ts); null while the stream's output is shown. */
  record: Pick<Run, "stdout" | "stderr" | "typed" | "images" | "segments"> | null;
  truncated: boolean;
  durationMs: number | null;
  /** Which way Python started (forked from the warm interpreter, or fresh) and why fresh. */
  interpreter: "warm" | "fresh" | null;
  interpreterNote: string | null;
  images: string[];
  message: string | null;
  startedAt: number;
  stopping: boolean;
  /** Started from this page (not loaded from the history). */
  live: boolean;
  /** `output` came from the run's event stream (events may still be on their way), not from a record. */
  streamed: boolean;
  /** The program takes input now (`POST /api/runs/{id}/stdin`). */
  inputOpen: boolean;
  /** Why the last input sent was refused, if it was. */
  inputError: string | null;
};

function fromRun(run: Run, previous?: ConsoleRun): ConsoleRun {
  // A followed run's output is the stream's, and more of it may be queued (see
  // `flush`): the record says the same, but replacing it would repeat what is queued.
  const streamed = previous?.streamed ?? false;
  return {
    id: run.id,
    path: run.path,
    status: run.status,
    exitCode: run.exit_code,
    stderr: run.stderr,
    output: streamed && previous !== undefined ? previous.output : run.output,
    record: streamed && previous !== undefined ? null : run,
    truncated: run.truncated,
    durationMs: run.duration_ms,
    interpreter: run.interpreter ?? null,
    interpreterNote: run.interpreter_note ?? null,
    images: streamed && previous !== undefined && previous.images.length > run.images.length ? previous.images : run.images,
    message: run.message,
    startedAt: previous?.startedAt ?? (Date.parse(run.created_at) || Date.now()),
    stopping: previous !== undefined && previous.stopping && run.status === "running",
    live: previous?.live ?? false,
    streamed,
    inputOpen: run.status === "running" && run.input_open,
    inputError: run.status === "running" ? (previous?.inputError ?? null) : null,
  };
}

function append(output: ConsolePiece[], piece: OutputPiece): ConsolePiece[] {
  const last = output.at(-1);
  if (last !== undefined && last.stream !== "image" && last.stream === piece.stream) {
    return [...output.slice(0, -1), { stream: piece.stream, text: last.text + piece.text }];
  }
  return [...output, piece];
}

/** `run` after `events` from its stream, in order. */
function applyEvents(run: ConsoleRun, events: RunEvent[]): ConsoleRun {
  let next = run;
  for (const event of events) {
    switch (event.type) {
      case "start":
        // A replay of everything so far follows (start from a clean slate), or,
        // after a reconnect, what came after the last event seen.
        next =
          event.after === 0
            ? { ...next, output: [], record: null, images: [], streamed: true, inputOpen: event.input_open }
            : { ...next, inputOpen: event.input_open };
        break;
      case "output":
        next = { ...next, output: append(next.output, { stream: event.stream, text: event.text }) };
        break;
      case "image":
        next = next.images.includes(event.url)
          ? next
          : { ...next, images: [...next.images, event.url], output: [...next.output, { stream: "image", url: event.url }] };
        break;
      case "input":
        next = { ...next, inputOpen: event.open };
        break;
      case "end":
        next = fromRun(event.run, next);
        break;
    }
  }
  return next;
}

/**
 * The run console's state: past runs (the server keeps the latest), starting
 * a run without waiting (`POST .../runs` answers 202 at once), following each
 * running run's output as it comes (`GET /api/runs/{id}/events`, server-sent
 * events; resumed after a drop, polled every 300 ms if it breaks again),
 * typing into a running program, and stopping one. `onFinished` is told about
 * every run that finished while the page was open. Past runs started at or
 * before `clearedBefore` (the last "Clear", ms since the epoch) are not shown.
 */
export function useRuns(workspaceId: string, onFinished: (run: ConsoleRun) => void, clearedBefore: number | null = null) {
  const [runs, setRuns] = useState<ConsoleRun[]>([]);
  const polling = useRef(false);
  const finished = useEffectEvent(onFinished);
  /** Open streams, by run id. */
  const streams = useRef(new Map<string, EventSource>());
  /** Runs whose stream broke: polled from then on. */
  const broken = useRef(new Set<string>());
  const pending = useRef(new Map<string, RunEvent[]>());
  const flushTimer = useRef(0);
  const hiddenBefore = useRef(clearedBefore);

  useEffect(() => {
    let live = true;
    void listRuns(workspaceId, HISTORY).then(async (answer) => {
      // The list is summaries; each run's output comes with its own record.
      const records = answer.ok ? await Promise.all(answer.runs.map((run) => getRun(run.id))) : [];
      if (live && records.length > 0) {
        const cleared = hiddenBefore.current ?? -Infinity;
        const past = records
          .flatMap((record) => (record.ok ? [fromRun(record.run)] : []))
          .filter((run) => run.status === "running" || run.startedAt > cleared)
          .reverse();
        // Runs started since the page opened stay after the history.
        setRuns((current) => [...past.filter((run) => !current.some((c) => c.id === run.id)), ...current]);
      }
    });
    return () => {
      live = false;
    };
  }, [workspaceId]);

  const update = useCallback((run: Run) => {
    setRuns((current) => current.map((item) => (item.id === run.id ? fromRun(run, item) : item)));
  }, []);

  const patch = useCallback((id: string, change: (run: ConsoleRun) => Partial<ConsoleRun>) => {
    setRuns((current) => current.map((run) => (run.id === id ? { ...run, ...change(run) } : run)));
  }, []);

  const flush = useCallback(() => {
    flushTimer.current = 0;
    const batch = pending.current;
    pending.current = new Map();
    setRuns((current) =>
      current.map((run) => {
        const events = batch.get(run.id);
        return events === undefined ? run : applyEvents(run, events);
      }),
    );
  }, []);

  const receive = useCallback(
    (id: string, event: RunEvent) => {
      const queue = pending.current.get(id);
      if (queue === undefined) {
        pending.current.set(id, [event]);
      } else {
        queue.push(event);
      }
      if (flushTimer.current === 0) {
        flushTimer.current = window.setTimeout(flush, FLUSH_MS);
      }
    },
    [flush],
  );

  const running = runs.filter((run) => run.status === "running").map((run) => run.id);
  const runningKey = running.join(",");

  // Follow running runs as they print (a few at a time; the rest are polled).
  useEffect(() => {
    if (runningKey === "") {
      return;
    }
    for (const id of runningKey.split(",")) {
      if (streams.current.has(id) || broken.current.has(id) || streams.current.size >= MAX_STREAMS) {
        continue;
      }
      // Same origin: the session cookie goes with it.
      const source = new EventSource(`/api/runs/${encodeURIComponent(id)}/events`);
      streams.current.set(id, source);
      // Errors since the last event; none before the first means it never worked.
      let failures = 0;
      let worked = false;
      source.onmessage = (message: MessageEvent<string>) => {
        failures = 0;
        worked = true;
        let event: RunEvent;
        try {
          event = JSON.parse(message.data) as RunEvent;
        } catch {
          return;
        }
        if (event.type === "end") {
          // Closed before the server closes the stream, or EventSource would reconnect.
          source.close();
          streams.current.delete(id);
          finished({ ...fromRun(event.run), live: true });
        }
        receive(id, event);
      };
      source.onerror = () => {
        failures += 1;
        if (source.readyState !== EventSource.CLOSED && worked && failures === 1) {
          // Dropped: the browser comes back with Last-Event-ID and gets only what it missed.
          return;
        }
        // Refused, or broken again at once: poll this run from now on; the record replaces the stream's output.
        source.close();
        streams.current.delete(id);
        broken.current.add(id);
        patch(id, () => ({ streamed: false }));
      };
    }
  }, [runningKey, receive, patch]);

  useEffect(() => {
    const open = streams.current;
    return () => {
      for (const source of open.values()) {
        source.close();
      }
      open.clear();
      window.clearTimeout(flushTimer.current);
    };
  }, []);

  // Poll the running runs that have no stream.
  useEffect(() => {
    if (runningKey === "") {
      return;
    }
    const ids = runningKey.split(",");
    const timer = window.setInterval(() => {
      const unfollowed = ids.filter((id) => !streams.current.has(id));
      if (polling.current || unfollowed.length === 0) {
        return;
      }
      polling.current = true;
      void Promise.all(
        unfollowed.map(async (id) => {
          try {
            const answer = await getRun(id);
            if (answer.ok && !streams.current.has(id)) {
              update(answer.run);
              if (answer.run.status !== "running") {
                finished({ ...fromRun(answer.run), live: true });
              }
            }
          } catch {
            // Offline for a moment: the next tick asks again.
          }
        }),
      ).finally(() => {
        polling.current = false;
      });
    }, POLL_MS);
    return () => window.clearInterval(timer);
  }, [runningKey, update]);

  /**
   * Start `path`, with `stdin` as the input it reads first, for at most
   * `timeoutS` seconds (null: the server's default); the new block appears at once.
   */
  const start = useCallback(
    async (path: string, stdin: string, timeoutS: number | null = null) => {
      const startedAt = Date.now();
      const block = (id: string, status: ConsoleRun["status"], message: string | null): ConsoleRun => ({
        id,
        path,
        status,
        exitCode: null,
        stderr: "",
        output: [],
        record: null,
        truncated: false,
        durationMs: null,
        interpreter: null,
        interpreterNote: null,
        images: [],
        message,
        startedAt,
        stopping: false,
        live: true,
        streamed: false,
        inputOpen: status === "running",
        inputError: null,
      });
      // Interactive: the input stays open after `stdin`, for the block's input line.
      const answer = await startRun(workspaceId, {
        path,
        stdin,
        interactive: true,
        ...(timeoutS === null ? {} : { timeout_s: timeoutS }),
      });
      if (answer.ok) {
        const data = answer.run;
        const run = "workspace_id" in data ? { ...fromRun(data), live: true } : block(data.id, data.status, null);
        setRuns((current) => [...current, run]);
        return;
      }
      setRuns((current) => [...current, block(`refused-${startedAt}`, "refused", answer.message)]);
    },
    [workspaceId],
  );

  /** Send `text` to the running program's input; `eof` closes the input after it. */
  const sendInput = useCallback(
    async (id: string, text: string, eof = false): Promise<boolean> => {
      const answer = await sendRunInput(id, text, eof);
      if (answer.ok) {
        patch(id, (run) => ({ inputError: null, inputOpen: run.inputOpen && !eof }));
        return true;
      }
      // 409: the run takes no more input (it ended, or its input closed).
      patch(id, (run) => ({
        inputError: answer.message,
        inputOpen: answer.status === 409 ? false : run.inputOpen,
      }));
      return false;
    },
    [patch],
  );

  const stop = useCallback(
    async (id: string) => {
      patch(id, () => ({ stopping: true }));
      const answer = await stopRun(id);
      if (answer.ok) {
        update(answer.run);
      } else if (answer.status === 0) {
        patch(id, () => ({ stopping: false }));
      }
    },
    [update, patch],
  );

  /** Hide the finished runs; answers the time to remember ("Clear" survives a reload), or null if none was hidden. */
  const clear = useCallback((): number | null => {
    const done = runs.filter((run) => run.status !== "running").map((run) => run.startedAt);
    setRuns((current) => current.filter((run) => run.status === "running"));
    return done.length === 0 ? null : Math.max(...done);
  }, [runs]);

  return { runs, running: running.length > 0, start, stop, sendInput, clear };
}
