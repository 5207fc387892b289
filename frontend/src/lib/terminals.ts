/**
 * Terminals: the REST calls and the WebSocket protocol of CONTRACT.md.
 *
 * The terminal routes are not in the generated schema yet (the backend part is
 * being built), so these few calls use `fetch` with the contract's shapes.
 * Once `schema.d.ts` has them, switch to the typed `api` client.
 */
import { errorMessage, NETWORK_ERROR } from "@/api/client";

/** A terminal as listed; `exited`: its shell has ended (the server lists those for a while). */
export type TerminalInfo = { id: string; exited: boolean };

export type TerminalsResult =
  | { kind: "ok"; terminals: TerminalInfo[] }
  /** The server has no terminal routes (404/405): terminals are not available. */
  | { kind: "unsupported" }
  | { kind: "failed"; message: string };

function base(workspaceId: string): string {
  return `/api/workspaces/${encodeURIComponent(workspaceId)}/terminals`;
}

async function call(input: string, init: RequestInit = {}): Promise<{ response: Response; body: unknown }> {
  const response = await fetch(input, { credentials: "same-origin", ...init });
  const text = await response.text();
  let body: unknown = undefined;
  try {
    body = text === "" ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { response, body };
}

function terminalsFrom(body: unknown): TerminalInfo[] {
  if (!Array.isArray(body)) {
    return [];
  }
  return body.flatMap((item: unknown) => {
    if (typeof item !== "object" || item === null) {
      return [];
    }
    const { id, exited } = item as { id?: unknown; exited?: unknown };
    return typeof id === "string" || typeof id === "number" ? [{ id: String(id), exited: exited === true }] : [];
  });
}

/** `GET .../terminals`: the workspace's live terminals. */
export async function listTerminals(workspaceId: string): Promise<TerminalsResult> {
  try {
    const { response, body } = await call(base(workspaceId));
    if (response.ok) {
      return { kind: "ok", terminals: terminalsFrom(body) };
    }
    if (response.status === 404 || response.status === 405) {
      return { kind: "unsupported" };
    }
    return { kind: "failed", message: errorMessage(body, response) };
  } catch {
    return { kind: "failed", message: NETWORK_ERROR };
  }
}

/** `POST .../terminals`: a new shell in the workspace's sandbox. */
export async function createTerminal(workspaceId: string): Promise<TerminalsResult> {
  try {
    const { response, body } = await call(base(workspaceId), { method: "POST" });
    if (response.ok) {
      return { kind: "ok", terminals: terminalsFrom([body]) };
    }
    if (response.status === 404 || response.status === 405) {
      return { kind: "unsupported" };
    }
    return { kind: "failed", message: errorMessage(body, response) };
  } catch {
    return { kind: "failed", message: NETWORK_ERROR };
  }
}

/** `DELETE .../terminals/{tid}`: ends the shell. Errors are ignored: the tab closes anyway. */
export async function deleteTerminal(workspaceId: string, terminalId: string): Promise<void> {
  try {
    await call(`${base(workspaceId)}/${encodeURIComponent(terminalId)}`, { method: "DELETE" });
  } catch {
    // Offline: the server ends an unattached terminal after its grace period.
  }
}

/** The terminal's WebSocket URL on this origin (the session cookie authenticates it). */
export function terminalSocketUrl(workspaceId: string, terminalId: string): string {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}${base(workspaceId)}/${encodeURIComponent(terminalId)}/ws`;
}

/** Control messages the server sends as JSON text frames. */
export type ServerMessage =
  | { type: "exit"; code: number | null }
  | { type: "ended"; reason: string | null; message: string | null }
  | { type: "error"; message: string | null }
  /** The server dropped output this client could not keep up with; a fresh replay follows. */
  | { type: "resync" }
  | { type: "other" };

export function parseServerMessage(text: string): ServerMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { type: "other" };
  }
  if (typeof value !== "object" || value === null) {
    return { type: "other" };
  }
  const record = value as Record<string, unknown>;
  const str = (key: string) => (typeof record[key] === "string" ? (record[key] as string) : null);
  switch (record.type) {
    case "exit":
      return { type: "exit", code: typeof record.code === "number" ? record.code : null };
    case "ended":
      return { type: "ended", reason: str("reason"), message: str("message") ?? str("detail") };
    case "error":
      return { type: "error", message: str("message") ?? str("detail") };
    case "resync":
      return { type: "resync" };
    default:
      return { type: "other" };
  }
}

export const resizeMessage = (cols: number, rows: number) => JSON.stringify({ type: "resize", cols, rows });
export const ackMessage = (bytes: number) => JSON.stringify({ type: "ack", bytes });

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
};

/**
 * Close codes after which reconnecting cannot help. The server closes with
 * 4000 + an HTTP status: 4401 not signed in, 4403 refused origin, 4404 no
 * such terminal, 4429 too many windows; 4503 (sandboxes unavailable for now)
 * and 1001 (server restarting) are worth retrying.
 */
export function isFinalClose(code: number): boolean {
  return code === 1008 || (code >= 4400 && code < 4500);
}
