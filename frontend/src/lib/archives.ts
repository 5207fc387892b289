/**
 * A workspace imported from a zip: as a new workspace, or into one (the
 * export is a plain download: `exportUrl` in lib/files.ts). Answers as
 * lib/result.ts says, never throws. Loaded on demand (dynamic import) by the
 * import UI, so the workspace page does not carry it.
 */
import { api, type Workspace } from "@/api/client";
import { attempt, failure, type Result } from "./result";

const MESSAGES = {
  413: "The zip is too large for a workspace, or expands too much to be safe.",
  415: "That file is not a zip.",
};

/** Make a new workspace named `name` from the zip `file`. */
export function importAsWorkspace(name: string, file: Blob): Promise<Result<{ workspace: Workspace }>> {
  return attempt(async () => {
    const { data, error, response } = await api.POST("/api/workspaces/import", {
      params: { query: { name } },
      body: "" as never,
      bodySerializer: () => file,
      headers: { "Content-Type": "application/zip" },
    });
    return data !== undefined ? { ok: true, workspace: data } : failure(error, response, MESSAGES);
  });
}

/** Add the zip's files to a workspace (replacing files of the same names). */
export function importIntoWorkspace(workspaceId: string, file: Blob): Promise<Result<{ files: number }>> {
  return attempt(async () => {
    const { data, error, response } = await api.POST("/api/workspaces/{workspace_id}/import", {
      params: { path: { workspace_id: workspaceId } },
      body: "" as never,
      bodySerializer: () => file,
      headers: { "Content-Type": "application/zip" },
    });
    return data !== undefined ? { ok: true, files: data.files } : failure(error, response, MESSAGES);
  });
}

/** "homework 1.zip" -> "homework 1": the name a workspace imported from `fileName` gets. */
export function nameFromZip(fileName: string): string {
  const base = fileName.replace(/\.zip$/i, "").trim();
  return base === "" ? "Imported workspace" : base.slice(0, 100);
}
