/**
 * Opening a workspace page straight from the address bar (or a reload): what
 * the IDE needs is requested before React has rendered anything, instead of
 * one request after the other:
 *
 * the session (`GET /api/auth/me`), the workspace (`POST .../open`, which
 * returns the saved IDE state) and its files, then the content of the file
 * that was active last time. The page's inline script has usually asked
 * already (lib/earlyRequests.ts); this module asks for whatever it has not.
 * (The editor's code comes with the page's own: components/Ide.tsx.)
 *
 * Imported for its effect by the signed-in shell (SessionProvider), which
 * loads first on every signed-in page; the app takes each answer once, and
 * later loads (retries) ask the server again. Without a session the requests
 * answer 401 and the shell sends the visitor to sign in, as it would anyway.
 */
import { api } from "@/api/client";
import { takeEarlyRequests, type EarlyRequests } from "./earlyRequests";
import { listFiles, readFile } from "./files";
import { maySignedIn } from "./session";
import { parseUiState } from "./uiState";

/** A `fetch` that answers with `response` (a request the page already made). */
const answer = (response: Promise<Response>) => () => response;

/** `POST .../open` and the file listing, together (`responses`: the page's own). */
export function fetchWorkspace(workspaceId: string, responses?: { open: Promise<Response>; files: Promise<Response> }) {
  return Promise.all([
    api.POST("/api/workspaces/{workspace_id}/open", {
      params: { path: { workspace_id: workspaceId } },
      fetch: responses && answer(responses.open),
    }),
    listFiles(workspaceId, responses && answer(responses.files)),
  ]);
}

type Workspace = ReturnType<typeof fetchWorkspace>;
type File = ReturnType<typeof readFile>;
type Session = ReturnType<typeof fetchSession>;
/** A promise and, once it has resolved, its value (which the IDE can use in its first render). */
type Early<T> = { promise: Promise<T>; value?: T };

const fetchSession = (response?: Promise<Response>) =>
  api.GET("/api/auth/me", { fetch: response && answer(response) });

let early: {
  id: string;
  /** null once taken. */
  workspace: Early<Awaited<Workspace>> | null;
  files: Map<string, Early<Awaited<File>>>;
} | null = null;
let earlySession: Session | null = null;

function start(): void {
  if (typeof window === "undefined" || !window.location.pathname.startsWith("/workspace")) {
    return;
  }
  const id = new URLSearchParams(window.location.search).get("id");
  if (!id || !maySignedIn()) {
    return;
  }
  const page = takeEarlyRequests(id);
  earlySession = fetchSession(page?.me);
  earlySession.catch(() => undefined);
  const workspace = settling(fetchWorkspace(id, page ?? undefined));
  const files = new Map<string, Early<Awaited<File>>>();
  early = { id, workspace, files };
  void workspace.promise
    .then(([opened]) => {
      const active = opened.data === undefined ? null : parseUiState(opened.data.ui_state).active;
      if (active !== null && early?.id === id) {
        files.set(active, settling(readActiveFile(id, active, page?.active)));
      }
    })
    .catch(() => undefined);
}

/** `promise`, with its value kept once it resolves. */
function settling<T>(promise: Promise<T>): Early<T> {
  const entry: Early<T> = { promise };
  promise.then((value) => (entry.value = value)).catch(() => undefined);
  return entry;
}

/** `path`'s content, from the page's own request when it asked for the same file. */
async function readActiveFile(workspaceId: string, path: string, started?: EarlyRequests["active"]): File {
  const request = await started;
  return readFile(workspaceId, path, request?.path === path ? answer(Promise.resolve(request.response)) : undefined);
}

/** The early answer to `GET /api/auth/me`, once. */
export function takeEarlySession(): Session | null {
  const session = earlySession;
  earlySession = null;
  return session;
}

/**
 * Drop every early answer not taken yet: they were asked without a session
 * (401s), and must not stand for the answers after the visitor signs in
 * (the page comes back without a reload, so this module is not run again).
 */
export function forgetEarlyAnswers(): void {
  early = null;
  earlySession = null;
}

/** The early answer for `workspaceId`, once. */
export function takeEarlyWorkspace(workspaceId: string): Workspace | null {
  if (early === null || early.id !== workspaceId || early.workspace === null) {
    return null;
  }
  const { workspace } = early;
  early.workspace = null;
  return workspace.promise;
}

/** The early answer for `workspaceId` if it has come already (it stays to be taken). */
export function peekEarlyWorkspace(workspaceId: string): Awaited<Workspace> | null {
  return early?.id === workspaceId ? (early.workspace?.value ?? null) : null;
}

/** The early content of `path` in `workspaceId`, once. */
export function takeEarlyFile(workspaceId: string, path: string): File | null {
  if (early === null || early.id !== workspaceId) {
    return null;
  }
  const file = early.files.get(path) ?? null;
  early.files.delete(path);
  return file?.promise ?? null;
}

/** The early content of `path` if it has come already (it stays to be taken). */
export function peekEarlyFile(workspaceId: string, path: string): Awaited<File> | null {
  return early?.id === workspaceId ? (early.files.get(path)?.value ?? null) : null;
}

start();
