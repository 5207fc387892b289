/**
 * The workspace file API, through the typed client.
 *
 * File paths contain "/" and openapi-fetch percent-encodes a whole path
 * parameter (so "a/b.py" would become "a%2Fb.py", a single segment the server
 * rejects): `filePathSerializer` encodes each segment and keeps the slashes,
 * which is what the server's `{path:path}` route expects.
 *
 * Every function answers `{ ok: true, ... }` or `{ ok: false, message }` with
 * a sentence for people (the server's `detail`), never throws.
 */
import { api, type FileEntry } from "@/api/client";
import { attempt, failure, type Result } from "./result";
import { hasControlCharacter } from "./text";

export type { Failure, Result } from "./result";
/** Answers a request in place of the network (lib/earlyWorkspace.ts: a request the page already made). */
export type Fetch = (request: Request) => Promise<Response>;

/** "data/my file.py" → "data/my%20file.py". */
export function encodePath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

function filePathSerializer(pathname: string, params: Record<string, unknown>): string {
  return pathname
    .replace("{workspace_id}", encodeURIComponent(String(params.workspace_id)))
    .replace("{path}", encodePath(String(params.path)));
}

/** The URL that downloads a file as an attachment (the session cookie authenticates it). */
export function downloadUrl(workspaceId: string, path: string): string {
  return `/api/workspaces/${encodeURIComponent(workspaceId)}/files/${encodePath(path)}?download=true`;
}

/**
 * The URL that downloads all the workspace's files as a zip, streamed by the
 * server (the session cookie authenticates it); `.local/` (pip's installs)
 * only if `includeHidden`. Here beside `downloadUrl`, not in lib/workspaces.ts:
 * the file tree's "Download all" needs it, and lib/workspaces.ts (the home
 * page's calls) would otherwise come with the workspace page's first load.
 */
export function exportUrl(workspaceId: string, includeHidden: boolean): string {
  const query = includeHidden ? "?include_local=true" : "";
  return `/api/workspaces/${encodeURIComponent(workspaceId)}/export${query}`;
}

/** Every file, folder and link of the workspace, recursively. */
export function listFiles(workspaceId: string, fetch?: Fetch): Promise<Result<{ entries: FileEntry[] }>> {
  return attempt(async () => {
    const { data, error, response } = await api.GET("/api/workspaces/{workspace_id}/files", {
      params: { path: { workspace_id: workspaceId }, query: { include_dirs: true } },
      fetch,
    });
    return data !== undefined ? { ok: true, entries: data } : failure(error, response);
  });
}

export type FileContent = { kind: "text"; text: string } | { kind: "binary"; bytes: ArrayBuffer };

/** A file's raw bytes. */
export function readBytes(workspaceId: string, path: string, fetch?: Fetch): Promise<Result<{ bytes: ArrayBuffer }>> {
  return attempt(async () => {
    const { data, error, response } = await api.GET("/api/workspaces/{workspace_id}/files/{path}", {
      params: { path: { workspace_id: workspaceId, path } },
      pathSerializer: filePathSerializer,
      parseAs: "arrayBuffer",
      fetch,
    });
    if (!response.ok) {
      return failure(error, response);
    }
    // openapi-fetch gives no body at all for an empty file (Content-Length: 0).
    return { ok: true, bytes: data ?? new ArrayBuffer(0) };
  });
}

/** A file's content: text when it is valid UTF-8 without NUL bytes, else the raw bytes. */
export async function readFile(workspaceId: string, path: string, fetch?: Fetch): Promise<Result<{ content: FileContent }>> {
  const result = await readBytes(workspaceId, path, fetch);
  return result.ok ? { ok: true, content: decode(result.bytes) } : result;
}

function decode(bytes: ArrayBuffer): FileContent {
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return text.includes("\u0000") ? { kind: "binary", bytes } : { kind: "text", text };
  } catch {
    return { kind: "binary", bytes };
  }
}

/**
 * Create or replace a file with `content` (a string is sent as UTF-8; a Blob,
 * such as a dropped file, as its raw bytes, so the server judges what it is).
 */
export function writeFile(
  workspaceId: string,
  path: string,
  content: string | Blob,
  source: "api" | "editor" = "api",
): Promise<Result<{ entry: FileEntry; created: boolean }>> {
  return attempt(async () => {
    const { data, error, response } = await api.PUT("/api/workspaces/{workspace_id}/files/{path}", {
      params: { path: { workspace_id: workspaceId, path }, query: { source } },
      pathSerializer: filePathSerializer,
      body: "",
      bodySerializer: () => content,
      headers: { "Content-Type": "text/plain; charset=utf-8" },
    });
    if (data === undefined) {
      return failure(error, response, {
        413: "The file is too large to save.",
        415: "The file is not text, so it cannot be saved here.",
      });
    }
    return { ok: true, entry: data, created: response.status === 201 };
  });
}

/** Whether a listed path is the escaped form of a name no path may hold (`FileEntry.escaped`):
 * only those hold a backslash. */
export function isEscaped(path: string): boolean {
  return path.includes("\\");
}

/** Delete a file, a link, or a folder with everything in it. */
export function deleteEntry(workspaceId: string, path: string): Promise<Result<object>> {
  return attempt(async () => {
    const { error, response } = isEscaped(path)
      ? await api.DELETE("/api/workspaces/{workspace_id}/escaped-files", {
          params: { path: { workspace_id: workspaceId }, query: { path, recursive: true } },
        })
      : await api.DELETE("/api/workspaces/{workspace_id}/files/{path}", {
          params: { path: { workspace_id: workspaceId, path }, query: { recursive: true } },
          pathSerializer: filePathSerializer,
        });
    // 404: already gone, which is what was asked for.
    return response.ok || response.status === 404 ? { ok: true } : failure(error, response);
  });
}

export function createFolder(workspaceId: string, path: string): Promise<Result<{ entry: FileEntry }>> {
  return attempt(async () => {
    const { data, error, response } = await api.POST("/api/workspaces/{workspace_id}/folders", {
      params: { path: { workspace_id: workspaceId } },
      body: { path },
    });
    return data !== undefined ? { ok: true, entry: data } : failure(error, response);
  });
}

/** Rename or move a file or folder; never replaces what is at `to`. */
export function moveEntry(workspaceId: string, from: string, to: string): Promise<Result<{ entry: FileEntry }>> {
  return attempt(async () => {
    const { data, error, response } = await api.POST("/api/workspaces/{workspace_id}/move", {
      params: { path: { workspace_id: workspaceId } },
      body: { from, to, overwrite: false },
    });
    return data !== undefined ? { ok: true, entry: data } : failure(error, response, { 409: `'${to}' already exists.` });
  });
}

/** The problem with a file or folder name typed by the user, or null (the server still decides). */
export function checkPath(path: string): string | null {
  if (path === "") {
    return "Enter a name.";
  }
  if (path.startsWith("/") || path.includes("\\")) {
    return "Use a path relative to the workspace, with / between folders.";
  }
  if (path.split("/").some((part) => part === "" || part === "." || part === "..")) {
    return "A path cannot have empty parts, '.' or '..'.";
  }
  if (hasControlCharacter(path)) {
    return "A name cannot contain control characters.";
  }
  return null;
}
