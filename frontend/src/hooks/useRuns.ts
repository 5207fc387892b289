"use client";

import { useCallback, useEffect, useEffectEvent, useRef, useState } from "react";
import { api, errorMessage, NETWORK_ERROR, type Run, type RunStatus } from "@/api/client";

const POLL_MS = 300;
const HISTORY = 20;

/** One block of the run console. `refused`: the server did not start the run. */
export type ConsoleRun = {
  id: string;
  path: string | null;
  status: RunStatus | "refused";
  exitCode: number | null;
  stdout: string;
  stderr: string;
  truncated: boolean;
  durationMs: number | null;
  images: string[];
  message: string | null;
  startedAt: number;
  stopping: boolean;
  /** Started from this page (not loaded from the history). */
  live: boolean;
};

function fromRun(run: Run, previous?: ConsoleRun): ConsoleRun {
  return {
    id: run.id,
    path: run.path,
    status: run.status,
    exitCode: run.exit_code,
    stdout: run.stdout,
    stderr: run.stderr,
    truncated: run.truncated,
    durationMs: run.duration_ms,
    images: run.images,
    message: run.message,
    startedAt: previous?.startedAt ?? (Date.parse(run.created_at) || Date.now()),
    stopping: previous !== undefined && previous.stopping && run.status === "running",
    live: previous?.live ?? false,
  };
}

/**
 * The run console's state: past runs (the server keeps the latest), starting
 * a run without waiting (`POST .../runs` answers 202 at once), polling each
 * running run every 300 ms until it finishes, and stopping one.
 * `onFinished` is told about every run that finished while the page was open.
 */
export function useRuns(workspaceId: string, onFinished: (run: ConsoleRun) => void) {
  const [runs, setRuns] = useState<ConsoleRun[]>([]);
  const polling = useRef(false);
  const finished = useEffectEvent(onFinished);

  useEffect(() => {
    let live = true;
    void api
      .GET("/api/workspaces/{workspace_id}/runs", { params: { path: { workspace_id: workspaceId } } })
      .then(({ data }) => {
        if (live && data !== undefined) {
          const past = data.slice(0, HISTORY).reverse().map((run) => fromRun(run));
          // Runs started since the page opened stay after the history.
          setRuns((current) => [...past.filter((run) => !current.some((c) => c.id === run.id)), ...current]);
        }
      })
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [workspaceId]);

  const update = useCallback((run: Run) => {
    setRuns((current) => current.map((item) => (item.id === run.id ? fromRun(run, item) : item)));
  }, []);

  const running = runs.filter((run) => run.status === "running").map((run) => run.id);
  const runningKey = running.join(",");

  useEffect(() => {
    if (runningKey === "") {
      return;
    }
    const ids = runningKey.split(",");
    const timer = window.setInterval(() => {
      if (polling.current) {
        return;
      }
      polling.current = true;
      void Promise.all(
        ids.map(async (id) => {
          try {
            const { data } = await api.GET("/api/runs/{run_id}", { params: { path: { run_id: id } } });
            if (data !== undefined) {
              update(data);
              if (data.status !== "running") {
                finished({ ...fromRun(data), live: true });
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

  /** Start `path` with `stdin`; the new block appears at once. */
  const start = useCallback(
    async (path: string, stdin: string) => {
      const startedAt = Date.now();
      const block = (id: string, status: ConsoleRun["status"], message: string | null): ConsoleRun => ({
        id,
        path,
        status,
        exitCode: null,
        stdout: "",
        stderr: "",
        truncated: false,
        durationMs: null,
        images: [],
        message,
        startedAt,
        stopping: false,
        live: true,
      });
      try {
        const { data, error, response } = await api.POST("/api/workspaces/{workspace_id}/runs", {
          params: { path: { workspace_id: workspaceId } },
          body: { path, stdin },
        });
        if (data !== undefined) {
          const run = "workspace_id" in data ? { ...fromRun(data), live: true } : block(data.id, data.status, null);
          setRuns((current) => [...current, run]);
          return;
        }
        setRuns((current) => [...current, block(`refused-${startedAt}`, "refused", errorMessage(error, response))]);
      } catch {
        setRuns((current) => [...current, block(`refused-${startedAt}`, "refused", NETWORK_ERROR)]);
      }
    },
    [workspaceId],
  );

  const stop = useCallback(
    async (id: string) => {
      setRuns((current) => current.map((run) => (run.id === id ? { ...run, stopping: true } : run)));
      try {
        const { data } = await api.POST("/api/runs/{run_id}/stop", { params: { path: { run_id: id } } });
        if (data !== undefined) {
          update(data);
        }
      } catch {
        setRuns((current) => current.map((run) => (run.id === id ? { ...run, stopping: false } : run)));
      }
    },
    [update],
  );

  const clear = useCallback(() => {
    setRuns((current) => current.filter((run) => run.status === "running"));
  }, []);

  return { runs, running: running.length > 0, start, stop, clear };
}
