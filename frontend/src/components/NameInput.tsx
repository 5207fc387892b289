"use client";

import { useEffect, useRef, useState } from "react";
import { checkPath } from "@/lib/files";

/**
 * An inline name field for the file tree: Enter submits, Escape or leaving
 * the field cancels. Shows the problem with the name under the field;
 * `onSubmit` answers an error sentence from the server, or null when done.
 */
export function NameInput({
  label,
  initial,
  onSubmit,
  onCancel,
}: {
  label: string;
  initial: string;
  onSubmit: (name: string) => Promise<string | null>;
  onCancel: () => void;
}) {
  const [value, setValue] = useState(initial);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    const field = input.current;
    if (field !== null) {
      field.focus();
      // Select the name without its extension, as file managers do.
      const dot = initial.lastIndexOf(".");
      field.setSelectionRange(0, dot > 0 ? dot : initial.length);
    }
  }, [initial]);

  async function submit() {
    const name = value.trim();
    if (name === initial && initial !== "") {
      onCancel();
      return;
    }
    const problem = checkPath(name);
    if (problem !== null) {
      setError(problem);
      return;
    }
    setBusy(true);
    const failed = await onSubmit(name);
    setBusy(false);
    if (failed !== null) {
      setError(failed);
      input.current?.focus();
    }
  }

  return (
    <div className="min-w-0 flex-1 py-0.5">
      <input
        ref={input}
        aria-label={label}
        className="input px-1.5 py-0.5 font-mono text-[13px]"
        value={value}
        disabled={busy}
        onChange={(event) => {
          setValue(event.target.value);
          setError(null);
        }}
        onKeyDown={(event) => {
          event.stopPropagation();
          if (event.key === "Enter") {
            event.preventDefault();
            void submit();
          } else if (event.key === "Escape") {
            event.preventDefault();
            onCancel();
          }
        }}
        onBlur={() => {
          if (!busy && error === null) {
            onCancel();
          }
        }}
        aria-invalid={error !== null ? true : undefined}
        spellCheck={false}
        autoComplete="off"
      />
      {error !== null && (
        <p role="alert" className="mt-1 text-xs text-danger">
          {error}
        </p>
      )}
    </div>
  );
}
