"use client";

import { EditorState } from "@codemirror/state";
import { EditorView } from "@codemirror/view";
import { useEffect, useRef, useState } from "react";

/**
 * A read-only side-by-side diff (`@codemirror/merge`): `before` on the left,
 * `after` on the right. The merge package is imported on first use, so it
 * downloads only when someone compares, never with the IDE.
 */
export function DiffView({ before, after, beforeLabel, afterLabel }: { before: string; after: string; beforeLabel: string; afterLabel: string }) {
  const host = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let destroyed = false;
    let dispose = () => {};
    void import("@codemirror/merge")
      .then(({ MergeView }) => {
        if (destroyed || host.current === null) {
          return;
        }
        const readOnly = [EditorView.editable.of(false), EditorState.readOnly.of(true), EditorView.lineWrapping];
        const view = new MergeView({
          a: { doc: before, extensions: readOnly },
          b: { doc: after, extensions: readOnly },
          parent: host.current,
          highlightChanges: true,
          gutter: true,
        });
        dispose = () => view.destroy();
      })
      .catch(() => setError("The comparison could not be loaded; check your connection and try again."));
    return () => {
      destroyed = true;
      dispose();
    };
  }, [before, after]);

  return (
    <div className="flex min-h-0 flex-1 flex-col" data-testid="diff-view">
      <div className="grid grid-cols-2 border-b border-line text-xs text-fg-muted">
        <span className="px-2 py-1">{beforeLabel}</span>
        <span className="border-l border-line px-2 py-1">{afterLabel}</span>
      </div>
      {error !== null && <p role="alert" className="p-2 text-sm text-danger">{error}</p>}
      <div ref={host} className="min-h-0 flex-1 overflow-auto font-mono text-sm" />
    </div>
  );
}
