/**
 * Workspaces as a list (`/api/workspaces`), through the typed client: list,
 * create, rename, delete. Answers as lib/result.ts says, never throws. (Opening
 * one with its IDE state is lib/earlyWorkspace.ts; saving that state, lib/uiState.ts.)
 */
import { api, type Workspace } from "@/api/client";
import { attempt, failure, type Result } from "./result";

/** Every workspace of the signed-in user. */
export function listWorkspaces(): Promise<Result<{ workspaces: Workspace[] }>> {
  return attempt(async () => {
    const { data, error, response } = await api.GET("/api/workspaces");
    return data !== undefined ? { ok: true, workspaces: data } : failure(error, response);
  });
}

export function createWorkspace(name: string): Promise<Result<{ workspace: Workspace }>> {
  return attempt(async () => {
    const { data, error, response } = await api.POST("/api/workspaces", { body: { name } });
    return data !== undefined ? { ok: true, workspace: data } : failure(error, response);
  });
}

export function renameWorkspace(workspaceId: string, name: string): Promise<Result<{ workspace: Workspace }>> {
  return attempt(async () => {
    const { data, error, response } = await api.PATCH("/api/workspaces/{workspace_id}", {
      params: { path: { workspace_id: workspaceId } },
      body: { name },
    });
    return data !== undefined ? { ok: true, workspace: data } : failure(error, response);
  });
}

/** Deletes the workspace and its files; already gone (404, another tab) counts as done. */
export function deleteWorkspace(workspaceId: string): Promise<Result> {
  return attempt(async () => {
    const { error, response } = await api.DELETE("/api/workspaces/{workspace_id}", {
      params: { path: { workspace_id: workspaceId } },
    });
    return response.ok || response.status === 404 ? { ok: true } : failure(error, response);
  });
}
