/**
 * The language servers' WebSocket (`/api/workspaces/{id}/lsp`) as an
 * `@codemirror/lsp-client` Transport that reconnects.
 *
 * One LSP message per text frame. The server's close code decides what
 * happens next (backend/src/sandpit/api/lsp.py lists them): after a crash
 * (1012), a restart (1001) or a dropped connection it reconnects with a
 * growing delay; after an idle close (4408) it waits until `wake()` (the
 * next edit); refusals (not signed in, not yours, limits, replaced by
 * another window) end it for good. `onState` hears every change, so the
 * editor can drop language features while there is no server and add them
 * back (the client re-initializes and re-sends open documents) when there is.
 */

export type LspState = "connecting" | "open" | "idle" | "down" | "closed";

const FINAL_CODES = new Set([1008, 1009, 4401, 4403, 4404, 4409, 4503]);
const IDLE_CODE = 4408;
const MAX_DELAY_MS = 30_000;

export function lspSocketUrl(workspaceId: string): string {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}/api/workspaces/${encodeURIComponent(workspaceId)}/lsp`;
}

export class LspTransport {
  private socket: WebSocket | null = null;
  private handlers: ((value: string) => void)[] = [];
  private delay = 1000;
  private timer: ReturnType<typeof setTimeout> | null = null;
  state: LspState = "connecting";

  constructor(
    private readonly url: string,
    private readonly onState: (state: LspState) => void,
  ) {}

  /** Open the socket (again). */
  start(): void {
    if (this.state === "closed" || this.socket !== null) {
      return;
    }
    this.setState("connecting");
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.onopen = () => {
      this.delay = 1000;
      this.setState("open");
    };
    socket.onmessage = (event: MessageEvent) => {
      if (typeof event.data === "string") {
        for (const handler of this.handlers) {
          handler(event.data);
        }
      }
    };
    socket.onclose = (event: CloseEvent) => {
      this.socket = null;
      if (this.state === "closed") {
        return;
      }
      if (FINAL_CODES.has(event.code)) {
        this.setState("closed");
      } else if (event.code === IDLE_CODE) {
        this.setState("idle");
      } else {
        this.setState("down");
        this.timer = setTimeout(() => {
          this.timer = null;
          this.start();
        }, this.delay);
        this.delay = Math.min(this.delay * 2, MAX_DELAY_MS);
      }
    };
  }

  /** After an idle close: reconnect now (the user is editing again). */
  wake(): void {
    if (this.state === "idle") {
      this.start();
    }
  }

  send(message: string): void {
    if (this.socket === null || this.socket.readyState !== WebSocket.OPEN) {
      throw new Error("The language server is not connected.");
    }
    this.socket.send(message);
  }

  subscribe(handler: (value: string) => void): void {
    this.handlers.push(handler);
  }

  unsubscribe(handler: (value: string) => void): void {
    this.handlers = this.handlers.filter((h) => h !== handler);
  }

  /** Close for good (the editor is going away). */
  dispose(): void {
    this.setState("closed");
    if (this.timer !== null) {
      clearTimeout(this.timer);
    }
    this.socket?.close(1000);
    this.socket = null;
  }

  private setState(state: LspState): void {
    if (this.state === "closed" && state !== "closed") {
      return;
    }
    this.state = state;
    this.onState(state);
  }
}
