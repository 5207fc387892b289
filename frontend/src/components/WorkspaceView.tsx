"use client";

import { useCallback, useEffect, useRef, useState } from "react";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { errorMessage, NETWORK_ERROR, type FileEntry, type WorkspaceDetail } from "@/api/client";
import { fetchWorkspace, peekEarlyWorkspace, takeEarlyWorkspace } from "@/lib/earlyWorkspace";
import { ErrorMessage } from "./ErrorMessage";
import { Ide } from "./Ide";
import { LoadingState } from "./LoadingState";

type State =
  | { kind: "loading" }
  | { kind: "ready"; workspace: WorkspaceDetail; files: FileEntry[] }
  | { kind: "failed"; message: string; retry: boolean };

const NOT_FOUND = "This workspace does not exist, or it is not yours.";

/**
 * The workspace page (`/workspace/?id=...`: a static export has no dynamic
 * routes, so the id is a query parameter). Opens the workspace (`POST
 * .../open` records the visit and returns the saved IDE state) and lists its
 * files (both usually started already: lib/earlyWorkspace.ts, and often
 * answered by the time this renders, so the IDE renders at once), then hands
 * them to the IDE.
 */
export function WorkspaceView() {
  const id = useSearchParams().get("id");
  const [state, setState] = useState<State>(() => (id ? answered(id) : null) ?? { kind: "loading" });
  const shown = useRef(state);
  shown.current = state;

  const load = useCallback(async (workspaceId: string) => {
    setState({ kind: "loading" });
    try {
      const [opened, listing] = await (takeEarlyWorkspace(workspaceId) ?? fetchWorkspace(workspaceId));
      if (opened.data === undefined) {
        setState({
          kind: "failed",
          message: errorMessage(opened.error, opened.response, { 404: NOT_FOUND }),
          // Trying again helps with a flaky server, not with a missing workspace.
          retry: opened.response.status >= 500 || opened.response.status === 429,
        });
        return;
      }
      if (!listing.ok) {
        setState({ kind: "failed", message: listing.message, retry: true });
        return;
      }
      setState({ kind: "ready", workspace: opened.data, files: listing.entries });
    } catch {
      setState({ kind: "failed", message: NETWORK_ERROR, retry: true });
    }
  }, []);

  const name = state.kind === "ready" ? state.workspace.name : null;
  useEffect(() => {
    if (name !== null) {
      document.title = `${name} · Sandpit`;
    }
  }, [name]);

  useEffect(() => {
    if (!id) {
      return;
    }
    const current = shown.current;
    if (current.kind === "ready" && current.workspace.id === id) {
      takeEarlyWorkspace(id); // used: a retry asks the server again
      return;
    }
    void load(id);
  }, [id, load]);

  if (!id) {
    return <Problem message="No workspace was given. Open one from your list." />;
  }
  if (state.kind === "loading") {
    return <LoadingState label="Opening workspace…" className="py-24" />;
  }
  if (state.kind === "failed") {
    return <Problem message={state.message} onRetry={state.retry ? () => void load(id) : undefined} />;
  }
  return <Ide key={state.workspace.id} workspace={state.workspace} initialFiles={state.files} />;
}

/** The IDE's data for `id` if the early requests have brought it already. */
function answered(id: string): State | null {
  const early = peekEarlyWorkspace(id);
  if (early === null) {
    return null;
  }
  const [opened, listing] = early;
  return opened.data !== undefined && listing.ok ? { kind: "ready", workspace: opened.data, files: listing.entries } : null;
}

function Problem({ message, onRetry }: { message: string; onRetry?: () => void }) {
  return (
    <main className="mx-auto w-full max-w-md space-y-4 px-4 py-16">
      <ErrorMessage message={message} onRetry={onRetry} />
      <Link href="/" className="btn-secondary">
        Back to your workspaces
      </Link>
    </main>
  );
}
