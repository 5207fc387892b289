/**
 * The workspace page's first requests, started by an inline script in its
 * HTML (see `EARLY_REQUESTS_SCRIPT`) while the app's JavaScript is still
 * downloading, instead of after it has run: the session check, `POST
 * .../open`, the file listing, and the file that was active last time (the
 * one this browser remembers, else the one `open`'s saved state names).
 * lib/earlyWorkspace.ts hands the answers to the app, each once.
 *
 * Only answers are shared, never decisions: the app reads each response as
 * it would have read its own, and asks again when one is missing.
 */

export type EarlyRequests = {
  id: string;
  me: Promise<Response>;
  open: Promise<Response>;
  files: Promise<Response>;
  /** The active file (as remembered here, else as `open`'s saved state names it) and its answer; null if none. */
  active: Promise<{ path: string; response: Response } | null>;
};

declare global {
  interface Window {
    __sandpitEarly?: EarlyRequests;
  }
}

/** Where this browser remembers each workspace's active file (a hint; the server's state decides). */
const ACTIVE_FILE_KEY = "sandpit.active-file.";

/**
 * Runs in the page as it is parsed, before any bundle: self-contained (it is
 * sent as its source text, `activeFileKey` its argument), no imports, never
 * throws. The URLs are the ones the API client builds for the same calls.
 */
function startEarlyRequests(activeFileKey: string): void {
  try {
    const id = new URLSearchParams(window.location.search).get("id");
    if (!window.location.pathname.startsWith("/workspace") || !id || typeof fetch !== "function") {
      return;
    }
    // Signed out (no session hint cookie): every request would be refused; the app sends the visitor to sign in.
    if (!/(?:^|;\s*)sandpit_signed_in=/.test(document.cookie)) {
      return;
    }
    const base = "/api/workspaces/" + encodeURIComponent(id);
    const send = (path: string, method = "GET") => {
      const response = fetch(path, { method, credentials: "same-origin" });
      response.catch(() => undefined);
      return response;
    };
    const file = (path: unknown) => {
      if (typeof path !== "string" || path === "") {
        return null;
      }
      return { path, response: send(base + "/files/" + path.split("/").map(encodeURIComponent).join("/")) };
    };
    const open = send(base + "/open", "POST");
    // Reading `open`'s answer waits for the main thread, busy with the app's
    // code by then: the remembered name asks at once.
    const remembered = file(window.localStorage.getItem(activeFileKey + id));
    const active = (
      remembered !== null
        ? Promise.resolve(remembered)
        : open
            .then((response) => (response.ok ? response.clone().json() : null))
            .then((workspace: { ui_state?: { tabs?: unknown; active?: unknown } } | null) => {
              const state = workspace?.ui_state ?? {};
              const tabs = Array.isArray(state.tabs) ? state.tabs : [];
              return file(tabs.includes(state.active) ? state.active : tabs[0]);
            })
    )
      .then((request) => request && request.response.then((response) => ({ path: request.path, response })))
      .catch(() => null);
    window.__sandpitEarly = {
      id,
      me: send("/api/auth/me"),
      open,
      files: send(base + "/files?include_dirs=true"),
      active,
    };
  } catch {
    // The app makes these requests itself.
  }
}

/** The inline script's source. */
export const EARLY_REQUESTS_SCRIPT = `(${startEarlyRequests.toString()})(${JSON.stringify(ACTIVE_FILE_KEY)});`;

/** Remember `path` as the workspace's active file in this browser, for the next visit's early requests. */
export function rememberActiveFile(workspaceId: string, path: string | null): void {
  try {
    if (path === null) {
      window.localStorage.removeItem(ACTIVE_FILE_KEY + workspaceId);
    } else {
      window.localStorage.setItem(ACTIVE_FILE_KEY + workspaceId, path);
    }
  } catch {
    // Storage off or full: the next visit asks after `open` instead.
  }
}

/** The early requests for `workspaceId`, taken from the page (once). */
export function takeEarlyRequests(workspaceId: string): EarlyRequests | null {
  if (typeof window === "undefined") {
    return null;
  }
  const early = window.__sandpitEarly ?? null;
  delete window.__sandpitEarly;
  return early !== null && early.id === workspaceId ? early : null;
}
