/**
 * Opening a workspace page straight from the address bar (or a reload): start
 * fetching what the IDE needs the moment the app's script runs, in parallel
 * with the session check, instead of one after the other:
 *
 * - the workspace (`POST .../open`, which returns the saved IDE state) and its files,
 * - then the content of the file that was active last time,
 * - and the editor's code (CodeMirror's chunk).
 *
 * Imported for its effect by the signed-in shell (SessionProvider), which
 * loads first on every signed-in page; the IDE takes each answer once, and
 * later loads (retries) ask the server again. Without a session the requests
 * answer 401 and the shell sends the visitor to sign in, as it would anyway.
 */
import { api } from "@/api/client";
import { listFiles, readFile } from "./files";
import { parseUiState } from "./uiState";

/** `POST .../open` and the file listing, together. */
export function fetchWorkspace(workspaceId: string) {
  return Promise.all([
    api.POST("/api/workspaces/{workspace_id}/open", { params: { path: { workspace_id: workspaceId } } }),
    listFiles(workspaceId),
  ]);
}

type Workspace = ReturnType<typeof fetchWorkspace>;
type File = ReturnType<typeof readFile>;

let early: { id: string; workspace: Workspace; files: Map<string, File> } | null = null;

/** Loads the editor's code; the IDE's `next/dynamic` uses the same import, so it is fetched once. */
export const loadEditorModule = () => import("@/components/CodeEditor");

function start(): void {
  if (typeof window === "undefined" || !window.location.pathname.startsWith("/workspace")) {
    return;
  }
  const id = new URLSearchParams(window.location.search).get("id");
  if (!id) {
    return;
  }
  const workspace = fetchWorkspace(id);
  const files = new Map<string, File>();
  early = { id, workspace, files };
  void loadEditorModule().catch(() => undefined);
  void workspace
    .then(([opened]) => {
      const active = opened.data === undefined ? null : parseUiState(opened.data.ui_state).active;
      if (active !== null && early?.id === id) {
        files.set(active, readFile(id, active));
      }
    })
    .catch(() => undefined);
}

/** The early answer for `workspaceId`, once. */
export function takeEarlyWorkspace(workspaceId: string): Workspace | null {
  if (early === null || early.id !== workspaceId) {
    return null;
  }
  const { workspace } = early;
  early = { ...early, workspace: Promise.reject(new Error("taken")) };
  early.workspace.catch(() => undefined);
  return workspace;
}

/** The early content of `path` in `workspaceId`, once. */
export function takeEarlyFile(workspaceId: string, path: string): File | null {
  if (early === null || early.id !== workspaceId) {
    return null;
  }
  const file = early.files.get(path) ?? null;
  early.files.delete(path);
  return file;
}

start();
