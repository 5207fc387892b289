/**
 * The terminal WebSocket's protocol (CONTRACT.md "Terminals") as pure logic:
 * the control messages, when to acknowledge output, what a control message or
 * a close means, and the reconnect policy. No socket, timer or terminal here:
 * `TerminalSocketAddon` (lib/terminalSocketAddon.ts) does the I/O and asks
 * these for every decision, so the decisions are unit-tested by themselves.
 */
import type { ConnectionState } from "./terminals";

/** Unacknowledged output after which an ack goes out at once (the server pauses near 100 KB). */
export const ACK_EAGER_BYTES = 32 * 1024;
/** Otherwise acks are coalesced: one at most this long after the output was rendered. */
export const ACK_DELAY_MS = 20;
export const RETRY_MIN_MS = 500;
export const RETRY_MAX_MS = 10_000;

/** The terminal's WebSocket URL on this origin (the session cookie authenticates it). */
export function terminalSocketUrl(workspaceId: string, terminalId: string): string {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  const path = `/api/workspaces/${encodeURIComponent(workspaceId)}/terminals/${encodeURIComponent(terminalId)}/ws`;
  return `${scheme}//${window.location.host}${path}`;
}

export const resizeMessage = (cols: number, rows: number) => JSON.stringify({ type: "resize", cols, rows });
export const ackMessage = (bytes: number) => JSON.stringify({ type: "ack", bytes });

/**
 * Close codes after which reconnecting cannot help. The server closes with
 * 4000 + an HTTP status: 4401 not signed in, 4403 refused origin, 4404 no
 * such terminal, 4429 too many windows; 4503 (sandboxes unavailable for now)
 * and 1001 (server restarting) are worth retrying.
 */
export function isFinalClose(code: number): boolean {
  return code === 1008 || (code >= 4400 && code < 4500);
}

/**
 * Flow control for one connection: counts the output xterm has rendered and
 * what of it was acknowledged. The ack carries the running total of this
 * connection's rendered bytes (CONTRACT.md), so a new connection needs a new
 * window.
 */
export class AckWindow {
  private rendered = 0;
  private acked = 0;

  /** `bytes` more were rendered. Answers true when an ack should go at once, false when it may wait. */
  add(bytes: number): boolean {
    this.rendered += bytes;
    return this.rendered - this.acked >= ACK_EAGER_BYTES;
  }

  /** The total to acknowledge now, marked as acknowledged; null when nothing new was rendered. */
  take(): number | null {
    if (this.rendered <= this.acked) {
      return null;
    }
    this.acked = this.rendered;
    return this.rendered;
  }
}

/** What a connection does next: the terminal is done (with a line for the screen, or none), or clears its screen, or tells the page. */
export type SocketStep =
  | { kind: "finish"; state: ConnectionState; note: string | null }
  /** Output was dropped; the server replays from the ring next: start from a clean screen. */
  | { kind: "reset" }
  | { kind: "notice"; message: string }
  | { kind: "none" };

/**
 * The step for a control message (a JSON text frame): `exit` (the shell
 * ended, with its code), `ended` (the terminal ended: the server has written
 * why into the output already), `resync`, `error` (a sentence for the page).
 * Anything else, or not JSON, is no step: the server may say more one day.
 */
export function stepForMessage(text: string): SocketStep {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: "none" };
  }
  if (typeof value !== "object" || value === null) {
    return { kind: "none" };
  }
  const record = value as Record<string, unknown>;
  const str = (key: string) => (typeof record[key] === "string" ? (record[key] as string) : null);
  const message = str("message") ?? str("detail");
  switch (record.type) {
    case "ended":
      return { kind: "finish", state: { kind: "ended", message: message ?? "The terminal has ended." }, note: null };
    case "exit": {
      const code = typeof record.code === "number" ? record.code : null;
      return { kind: "finish", state: { kind: "exited", code }, note: `[The shell exited${code === null ? "" : ` with code ${code}`}.]` };
    }
    case "resync":
      return { kind: "reset" };
    case "error":
      return message === null ? { kind: "none" } : { kind: "notice", message };
    default:
      return { kind: "none" };
  }
}

/** The step for an unexpected close: finish when retrying cannot help, else null (retry). */
export function stepForClose(code: number, reason: string): SocketStep | null {
  if (!isFinalClose(code)) {
    return null;
  }
  const text = reason || "The server closed this terminal.";
  return { kind: "finish", state: { kind: "ended", message: text }, note: `[${text}]` };
}

/** The wait before reconnect attempt `attempt` (1, 2, ...): doubling from 0.5 s to 10 s, ±20% jitter (`random` in [0, 1)). */
export function retryDelay(attempt: number, random: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** (attempt - 1)) * (0.8 + random * 0.4);
}

/**
 * The connection's history across reconnects: which state the tab shows,
 * whether the screen must be reset (a reconnect replays recent output, which
 * the screen already shows), and the attempt count for the backoff.
 */
export class ReconnectPolicy {
  private attempt = 0;
  private connectedBefore = false;

  /** The state while a socket is being opened, at `now` (epoch ms). */
  connecting(now: number): ConnectionState {
    return this.attempt === 0 && !this.connectedBefore ? { kind: "connecting" } : { kind: "reconnecting", attempt: this.attempt, at: now };
  }

  /** The socket opened. Answers whether to reset the screen before the replay. */
  opened(): boolean {
    const reset = this.connectedBefore;
    this.connectedBefore = true;
    this.attempt = 0;
    return reset;
  }

  /** The socket was lost: the wait before the next attempt and the state to show meanwhile. */
  lost(now: number, random: number): { delay: number; state: ConnectionState } {
    this.attempt += 1;
    const delay = retryDelay(this.attempt, random);
    return { delay, state: { kind: "reconnecting", attempt: this.attempt, at: now + delay } };
  }
}
