/**
 * The terminal's WebSocket as an xterm.js add-on, in the manner of xterm's
 * own `AttachAddon`: loaded into a terminal, it connects; disposed (or the
 * terminal disposed), it closes the socket and releases every listener and
 * timer it set up.
 *
 * It owns the protocol of CONTRACT.md "Terminals": keystrokes out as binary
 * frames, resizes as JSON; output in as binary frames, acknowledged once
 * xterm has processed it (so the server can hold back a flood); control
 * messages (exit, ended, resync, error); and reconnecting with backoff after
 * a dropped connection until the terminal is known to be gone. Each new
 * connection starts from the server's replay, so the screen is reset first.
 * The decisions are the pure functions of terminalProtocol.ts.
 */
import type { ITerminalAddon, Terminal } from "@xterm/xterm";
import { DisposableStore, listen, toDisposable } from "./disposables";
import {
  ACK_DELAY_MS,
  ackMessage,
  AckWindow,
  ReconnectPolicy,
  resizeMessage,
  stepForClose,
  stepForMessage,
  terminalSocketUrl,
  type SocketStep,
} from "./terminalProtocol";
import { dimNote } from "./terminalTheme";
import type { ConnectionState } from "./terminals";

export type TerminalSocketOptions = {
  workspaceId: string;
  terminalId: string;
  /** Every change of the connection's state, for the tab to show. */
  onState: (state: ConnectionState) => void;
  /** The user pressed Enter: a command may have changed files. */
  onCommand: () => void;
  /** A message from the server about this terminal (an `error` control message). */
  onNotice: (message: string) => void;
  /** Asked after a dropped connection: whether the terminal has ended for good (no reconnecting then). */
  isGone: () => Promise<boolean>;
  /**
   * Puts output on the screen, calling `done` once xterm has processed it
   * (the ack waits for that). By default `terminal.write`; the renderer
   * add-on's `write` watches the output on the way.
   */
  write?: (bytes: Uint8Array, done: () => void) => void;
};

export class TerminalSocketAddon implements ITerminalAddon {
  private readonly store = new DisposableStore();
  private readonly policy = new ReconnectPolicy();
  private terminal: Terminal | null = null;
  private socket: WebSocket | null = null;
  /** The terminal has ended or exited: no reconnecting, no more control messages. */
  private final = false;
  private retryTimer = 0;

  constructor(private readonly options: TerminalSocketOptions) {}

  activate(terminal: Terminal): void {
    this.terminal = terminal;
    const encoder = new TextEncoder();
    this.store.add(
      terminal.onData((data) => {
        this.send(encoder.encode(data));
        if (data.includes("\r")) {
          this.options.onCommand();
        }
      }),
    );
    this.store.add(terminal.onBinary((data) => this.send(Uint8Array.from(data, (char) => char.charCodeAt(0) & 0xff))));
    this.store.add(terminal.onResize(({ cols, rows }) => this.send(resizeMessage(cols, rows))));
    // Back online: try now rather than at the end of the backoff.
    this.store.add(
      listen(window, "online", () => {
        if (this.socket === null && this.live) {
          window.clearTimeout(this.retryTimer);
          this.connect();
        }
      }),
    );
    this.store.add(
      toDisposable(() => {
        window.clearTimeout(this.retryTimer);
        const open = this.socket;
        this.socket = null;
        open?.close(1000);
      }),
    );
    this.connect();
  }

  dispose(): void {
    this.store.dispose();
  }

  /** Neither disposed nor finished: worth (re)connecting and listening. */
  private get live(): boolean {
    return !this.store.isDisposed && !this.final;
  }

  private send(data: string | Uint8Array): void {
    if (this.socket !== null && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(data);
    }
  }

  private connect(): void {
    const terminal = this.terminal;
    if (terminal === null || !this.live) {
      return;
    }
    const { workspaceId, terminalId, onState } = this.options;
    const write = this.options.write ?? ((bytes, done) => terminal.write(bytes, done));
    onState(this.policy.connecting(Date.now()));
    const ws = new WebSocket(terminalSocketUrl(workspaceId, terminalId));
    ws.binaryType = "arraybuffer";
    this.socket = ws;
    // Acknowledgements count this connection's output only.
    const acks = new AckWindow();
    let ackTimer = 0;
    const ack = () => {
      window.clearTimeout(ackTimer);
      ackTimer = 0;
      const bytes = ws.readyState === WebSocket.OPEN ? acks.take() : null;
      if (bytes !== null) {
        ws.send(ackMessage(bytes));
      }
    };

    ws.onopen = () => {
      if (this.policy.opened()) {
        // The server replays its recent output first: start from a clean screen.
        terminal.reset();
      }
      onState({ kind: "open" });
      ws.send(resizeMessage(terminal.cols, terminal.rows));
    };
    ws.onmessage = (event: MessageEvent<ArrayBuffer | string>) => {
      if (typeof event.data === "string") {
        if (!this.final) {
          this.take(stepForMessage(event.data));
        }
        return;
      }
      const bytes = new Uint8Array(event.data);
      write(bytes, () => {
        if (acks.add(bytes.length)) {
          ack();
        } else if (ackTimer === 0) {
          ackTimer = window.setTimeout(ack, ACK_DELAY_MS);
        }
      });
    };
    ws.onclose = (event) => {
      window.clearTimeout(ackTimer);
      if (this.socket !== ws) {
        return;
      }
      this.socket = null;
      if (!this.live) {
        return;
      }
      const step = stepForClose(event.code, event.reason);
      if (step !== null) {
        this.take(step);
      } else {
        void this.retry();
      }
    };
  }

  private take(step: SocketStep): void {
    switch (step.kind) {
      case "finish":
        this.final = true;
        window.clearTimeout(this.retryTimer);
        if (step.note !== null) {
          this.terminal?.write(dimNote(step.note));
        }
        this.options.onState(step.state);
        this.socket?.close(1000);
        return;
      case "reset":
        this.terminal?.reset();
        return;
      case "notice":
        this.options.onNotice(step.message);
        return;
      case "none":
        return;
    }
  }

  private async retry(): Promise<void> {
    const gone = await this.options.isGone();
    if (!this.live) {
      return;
    }
    if (gone) {
      this.take({ kind: "finish", state: { kind: "ended", message: "This terminal has ended." }, note: "[This terminal has ended.]" });
      return;
    }
    const { delay, state } = this.policy.lost(Date.now(), Math.random());
    this.options.onState(state);
    this.retryTimer = window.setTimeout(() => this.connect(), delay);
  }
}
