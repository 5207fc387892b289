/**
 * A workspace's sandbox and storage (`.../sandbox`, `.../usage`), through
 * the typed client. Answers as lib/result.ts says, never throws.
 */
import { api, type Sandbox, type Usage } from "@/api/client";
import { attempt, failure, type Result } from "./result";

/** The sandbox's state: running or not, use against limits, why the last one ended. */
export function getSandbox(workspaceId: string): Promise<Result<{ sandbox: Sandbox }>> {
  return attempt(async () => {
    const { data, error, response } = await api.GET("/api/workspaces/{workspace_id}/sandbox", {
      params: { path: { workspace_id: workspaceId } },
    });
    return data !== undefined ? { ok: true, sandbox: data } : failure(error, response);
  });
}

/** Storage used by the workspace against its quota. */
export function getUsage(workspaceId: string): Promise<Result<{ usage: Usage }>> {
  return attempt(async () => {
    const { data, error, response } = await api.GET("/api/workspaces/{workspace_id}/usage", {
      params: { path: { workspace_id: workspaceId } },
    });
    return data !== undefined ? { ok: true, usage: data } : failure(error, response);
  });
}

/** Ends the sandbox (`DELETE .../sandbox`); the next run or terminal starts a fresh one. */
export function endSandbox(workspaceId: string): Promise<Result> {
  return attempt(async () => {
    const { error, response } = await api.DELETE("/api/workspaces/{workspace_id}/sandbox", {
      params: { path: { workspace_id: workspaceId } },
    });
    return response.ok ? { ok: true } : failure(error, response);
  });
}
