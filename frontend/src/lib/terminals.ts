/**
 * Terminals: the REST calls of CONTRACT.md through the typed client, and the
 * types the terminal panel and view share. The WebSocket protocol is in
 * terminalProtocol.ts (the decisions) and terminalSocketAddon.ts (the
 * connection), which take what they need from here as props, so the
 * terminal's scripts do not carry the REST calls.
 */
import { api, errorMessage, NETWORK_ERROR } from "@/api/client";
import type { components } from "@/api/schema";
import { admitted } from "./admission";
import type { PlaceLinks } from "./traceback";

/** A terminal as listed; `exited`: its shell has ended (the server lists those for a while). */
export type TerminalInfo = components["schemas"]["TerminalOut"];

export type TerminalsResult =
  | { kind: "ok"; terminals: TerminalInfo[] }
  /** The server has no terminal routes (404/405): terminals are not available. */
  | { kind: "unsupported" }
  | { kind: "failed"; message: string };

/** The answer for a call that got no data: unsupported, or the server's sentence. */
function refused(error: unknown, response: Response): TerminalsResult {
  if (response.status === 404 || response.status === 405) {
    return { kind: "unsupported" };
  }
  return { kind: "failed", message: errorMessage(error, response) };
}

/** `GET .../terminals`: the workspace's terminals, exited ones included. */
export async function listTerminals(workspaceId: string): Promise<TerminalsResult> {
  try {
    const { data, error, response } = await api.GET("/api/workspaces/{workspace_id}/terminals", {
      params: { path: { workspace_id: workspaceId } },
    });
    return data !== undefined ? { kind: "ok", terminals: data } : refused(error, response);
  } catch {
    return { kind: "failed", message: NETWORK_ERROR };
  }
}

/**
 * `POST .../terminals`: a new shell in the workspace's sandbox (answered as a
 * list of one). A full server or the cap on sandboxes is handled first
 * (lib/admission.ts).
 */
export async function createTerminal(workspaceId: string): Promise<TerminalsResult> {
  try {
    const { data, error, response } = await admitted(() =>
      api.POST("/api/workspaces/{workspace_id}/terminals", {
        params: { path: { workspace_id: workspaceId } },
      }),
    );
    return data !== undefined ? { kind: "ok", terminals: [data] } : refused(error, response);
  } catch {
    return { kind: "failed", message: NETWORK_ERROR };
  }
}

/** `DELETE .../terminals/{tid}`: ends the shell. Errors are ignored: the tab closes anyway. */
export async function deleteTerminal(workspaceId: string, terminalId: string): Promise<void> {
  try {
    await api.DELETE("/api/workspaces/{workspace_id}/terminals/{terminal_id}", {
      params: { path: { workspace_id: workspaceId, terminal_id: terminalId } },
    });
  } catch {
    // Offline: the server ends an unattached terminal after its grace period.
  }
}

/**
 * Whether the terminal has ended for good (ended with its sandbox, or its
 * grace period passed): not listed, or its shell has exited. False when the
 * listing fails: the caller tries again.
 */
export async function hasEnded(workspaceId: string, terminalId: string): Promise<boolean> {
  const listed = await listTerminals(workspaceId);
  return listed.kind === "ok" && endedIn(listed.terminals, terminalId);
}

/** Whether `terminals` (a listing) says the terminal has ended: not there, or its shell has exited. */
export function endedIn(terminals: readonly Pick<TerminalInfo, "id" | "exited">[], terminalId: string): boolean {
  return !terminals.some((item) => item.id === terminalId && !item.exited);
}

/** What a terminal tab shows about its connection. */
export type ConnectionState =
  | { kind: "connecting" }
  | { kind: "open" }
  /** Lost; trying again at `at` (epoch ms). */
  | { kind: "reconnecting"; attempt: number; at: number }
  | { kind: "exited"; code: number | null }
  | { kind: "ended"; message: string };

export type TerminalViewProps = {
  workspaceId: string;
  terminalId: string;
  /** Shown (the active tab of an open panel): fits itself to its box. */
  visible: boolean;
  /** Take the keyboard focus when first shown. */
  autoFocus: boolean;
  onState: (state: ConnectionState) => void;
  /** The user pressed Enter: a command may have changed files. */
  onCommand: () => void;
  /** A message from the server about this terminal (an `error` control message). */
  onNotice: (message: string) => void;
  /** Asked after a dropped connection: whether the terminal has ended for good (no reconnecting then). */
  isGone: () => Promise<boolean>;
  /** Places in the output that open a workspace file at a line when clicked. */
  links: PlaceLinks;
  /** A warning to print in the terminal (once per `key`): the sandbox's lifetime is nearly over. */
  warning: { key: string; text: string } | null;
};
