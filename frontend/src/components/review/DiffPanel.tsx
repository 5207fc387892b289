"use client";

import { useEffect, useState } from "react";
import { submissionFileText } from "@/lib/submissions";
import { DiffView } from "../history/DiffView";
import { LoadingState } from "../LoadingState";
import { ErrorMessage } from "../ErrorMessage";

/** What a submitted file is compared with: the assignment's starter file or the previous version's. */
export type DiffBase = { kind: "starter"; files: Record<string, string> } | { kind: "previous"; submissionId: string; version: number };

type State = { kind: "loading" } | { kind: "ready"; before: string } | { kind: "failed"; message: string };

/**
 * A side-by-side diff of one submitted file against its base (`@codemirror/merge`
 * through DiffView, loaded on first use). A file the base does not hold
 * compares with an empty one.
 */
export function DiffPanel({ path, text, base }: { path: string; text: string; base: DiffBase }) {
  const key = base.kind === "starter" ? `starter:${path}` : `${base.submissionId}:${path}`;
  const [shown, setShown] = useState<{ key: string; state: State }>({ key: "", state: { kind: "loading" } });
  const state: State =
    base.kind === "starter" ? { kind: "ready", before: base.files[path] ?? "" } : shown.key === key ? shown.state : { kind: "loading" };

  useEffect(() => {
    if (base.kind === "starter") {
      return;
    }
    let cancelled = false;
    void submissionFileText(base.submissionId, path).then((result) => {
      if (cancelled) {
        return;
      }
      // Not in the previous version: the file is new in this one.
      const next: State = result.ok
        ? { kind: "ready", before: result.text }
        : result.status === 404
          ? { kind: "ready", before: "" }
          : { kind: "failed", message: result.message };
      setShown({ key, state: next });
    });
    return () => {
      cancelled = true;
    };
  }, [base, key, path]);

  if (state.kind === "loading") {
    return <LoadingState label="Loading the comparison…" className="py-10" />;
  }
  if (state.kind === "failed") {
    return <ErrorMessage message={state.message} />;
  }
  const beforeLabel = base.kind === "starter" ? `${path} (starter)` : `${path} (version ${base.version})`;
  return <DiffView before={state.before} after={text} beforeLabel={beforeLabel} afterLabel={`${path} (this version)`} />;
}
