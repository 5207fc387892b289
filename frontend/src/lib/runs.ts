/**
 * Runs (`.../runs`, `/api/runs/{id}`, its input and stop), through the typed
 * client. Answers as lib/result.ts says, never throws. The run console's
 * state lives in hooks/useRuns.ts; this is only how it talks to the server.
 */
import { api, type Run, type RunLimits, type RunSummary } from "@/api/client";
import type { components } from "@/api/schema";
import { admitted } from "./admission";
import { attempt, failure, type Result } from "./result";

/** A file to run, the input it reads first, and a time limit (the server's default if left out). */
type RunFile = { path: string; stdin: string; interactive: boolean; timeout_s?: number };
type RunStarted = components["schemas"]["RunStarted"];

/** The workspace's latest `limit` runs, newest first, as summaries (no output: `getRun` has it). */
export function listRuns(workspaceId: string, limit: number): Promise<Result<{ runs: RunSummary[] }>> {
  return attempt(async () => {
    const { data, error, response } = await api.GET("/api/workspaces/{workspace_id}/runs", {
      params: { path: { workspace_id: workspaceId }, query: { limit } },
    });
    return data !== undefined ? { ok: true, runs: data } : failure(error, response);
  });
}

/**
 * Start a run in the workspace: the finished run, or (202) the one now running.
 * A full server or the cap on sandboxes is handled first (lib/admission.ts).
 */
export function startRun(workspaceId: string, body: RunFile): Promise<Result<{ run: Run | RunStarted }>> {
  return attempt(async () => {
    const { data, error, response } = await admitted(() =>
      api.POST("/api/workspaces/{workspace_id}/runs", {
        params: { path: { workspace_id: workspaceId } },
        body,
      }),
    );
    return data !== undefined ? { ok: true, run: data } : failure(error, response);
  });
}

/** The run as it is now, finished or not. */
export function getRun(runId: string): Promise<Result<{ run: Run }>> {
  return attempt(async () => {
    const { data, error, response } = await api.GET("/api/runs/{run_id}", { params: { path: { run_id: runId } } });
    return data !== undefined ? { ok: true, run: data } : failure(error, response);
  });
}

/** Send `text` to the run's input; `eof` closes the input after it (409: it takes no more). */
export function sendRunInput(runId: string, text: string, eof: boolean): Promise<Result> {
  return attempt(async () => {
    const { error, response } = await api.POST("/api/runs/{run_id}/stdin", {
      params: { path: { run_id: runId } },
      body: { text, eof },
    });
    return response.ok ? { ok: true } : failure(error, response);
  });
}

/** Stop the run and everything it started; a finished run comes back as it is. */
export function stopRun(runId: string): Promise<Result<{ run: Run }>> {
  return attempt(async () => {
    const { data, error, response } = await api.POST("/api/runs/{run_id}/stop", { params: { path: { run_id: runId } } });
    return data !== undefined ? { ok: true, run: data } : failure(error, response);
  });
}

let runLimits: Promise<RunLimits | null> | undefined;

/** The server's run time limits, asked once per page. */
export function getRunLimits(): Promise<RunLimits | null> {
  runLimits ??= api.GET("/api/limits").then(
    ({ data }) => data?.runs ?? null,
    () => null,
  );
  return runLimits;
}
