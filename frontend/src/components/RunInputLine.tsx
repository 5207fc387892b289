"use client";

import { useEffect, useRef, useState, type KeyboardEvent } from "react";

type Props = {
  runId: string;
  /** Sends `text` (then end of file with `eof`); resolves to whether the server took it. */
  onSend: (text: string, eof: boolean) => Promise<boolean>;
  /** Marks the line as where F6 lands in the console. */
  focusTarget: boolean;
  /**
   * The program (started from this page) asks for input: the line takes the
   * focus once, unless the focus is in another text field or the terminal,
   * so an answer typed after Ctrl+Enter goes to the program, not into the file.
   */
  takeFocus?: boolean;
};

/**
 * The input line of a running program, right after its output, as in a
 * notebook or a console: Enter sends the line and a newline, Ctrl+D sends
 * what is typed and then end of file (`EOFError` for `input()`), ↑ and ↓
 * recall the lines sent before. The line sent shows in the output (the
 * server echoes it there).
 */
export function RunInputLine({ runId, onSend, focusTarget, takeFocus = false }: Props) {
  const [value, setValue] = useState("");
  const field = useRef<HTMLInputElement>(null);
  const tookFocus = useRef(false);

  useEffect(() => {
    if (!takeFocus || tookFocus.current) {
      return;
    }
    tookFocus.current = true;
    const current = document.activeElement;
    // From the editor (or nowhere): yes; from a terminal, a dialog or another field: leave it.
    const fromEditor = current === null || current === document.body || current.closest(".cm-editor") !== null;
    if (fromEditor) {
      field.current?.focus({ preventScroll: true });
    }
  }, [takeFocus]);
  const [sending, setSending] = useState(false);
  const history = useRef<string[]>([]);
  const recall = useRef(-1);

  const send = async (text: string, eof: boolean) => {
    setSending(true);
    const sent = await onSend(text, eof);
    setSending(false);
    if (sent) {
      setValue("");
    }
    return sent;
  };

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.nativeEvent.isComposing) {
      return;
    }
    if (event.key === "Enter" && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      if (sending) {
        return;
      }
      const line = value;
      if (line !== "" && history.current.at(-1) !== line) {
        history.current.push(line);
      }
      recall.current = -1;
      void send(`${line}\n`, false);
    } else if (event.ctrlKey && !event.shiftKey && !event.altKey && event.key.toLowerCase() === "d") {
      // Also keeps the browser's "bookmark this page" away.
      event.preventDefault();
      if (!sending) {
        void send(value, true);
      }
    } else if (event.key === "ArrowUp" || event.key === "ArrowDown") {
      const lines = history.current;
      if (lines.length === 0) {
        return;
      }
      event.preventDefault();
      const from = recall.current === -1 ? lines.length : recall.current;
      const next = event.key === "ArrowUp" ? Math.max(0, from - 1) : from + 1;
      recall.current = next >= lines.length ? -1 : next;
      setValue(recall.current === -1 ? "" : (lines[recall.current] ?? ""));
    }
  };

  return (
    <input
      ref={field}
      type="text"
      value={value}
      onChange={(event) => setValue(event.target.value)}
      onKeyDown={onKeyDown}
      aria-label="Input for the running program"
      aria-describedby={`run-input-hint-${runId}`}
      data-testid="run-input"
      data-console-focus={focusTarget ? "" : undefined}
      autoComplete="off"
      autoCapitalize="off"
      autoCorrect="off"
      spellCheck={false}
      // An inline field right after the prompt; it wraps to a line of its own when the prompt is long.
      className="inline-block w-[28ch] max-w-full border-0 border-b border-dashed border-accent/60 bg-transparent p-0 align-baseline font-mono text-[12.5px] text-fg outline-none placeholder:text-fg-muted/70 focus:border-solid focus:border-accent"
      placeholder="input…"
    />
  );
}
