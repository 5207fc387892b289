"use client";

import { useEffect, useEffectEvent, useState } from "react";
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
  // What is shown, and for which workspace: anything shown for another id reads as loading.
  const [shown, setShown] = useState<{ id: string | null; state: State }>(() => ({
    id,
    state: (id ? answered(id) : null) ?? { kind: "loading" },
  }));
  const state: State = shown.id === id ? shown.state : { kind: "loading" };

  const name = state.kind === "ready" ? state.workspace.name : null;
  useEffect(() => {
    if (name !== null) {
      document.title = `${name} · Sandpit`;
    }
  }, [name]);

  const showing = useEffectEvent((workspaceId: string) => shown.id === workspaceId && shown.state.kind === "ready");
  useEffect(() => {
    if (!id) {
      return;
    }
    if (showing(id)) {
      takeEarlyWorkspace(id); // used: a retry asks the server again
      return;
    }
    void opening(id).then((next) => setShown({ id, state: next }));
  }, [id]);

  function retry(workspaceId: string) {
    setShown({ id: workspaceId, state: { kind: "loading" } });
    void opening(workspaceId).then((next) => setShown({ id: workspaceId, state: next }));
  }

  if (!id) {
    return <Problem message="No workspace was given. Open one from your list." />;
  }
  if (state.kind === "loading") {
    return <LoadingState label="Opening workspace…" className="py-24" />;
  }
  if (state.kind === "failed") {
    return <Problem message={state.message} onRetry={state.retry ? () => retry(id) : undefined} />;
  }
  return <Ide key={state.workspace.id} workspace={state.workspace} initialFiles={state.files} />;
}

/** Opens the workspace and lists its files (or takes the early answers): what to show. */
async function opening(workspaceId: string): Promise<State> {
  try {
    const [opened, listing] = await (takeEarlyWorkspace(workspaceId) ?? fetchWorkspace(workspaceId));
    if (opened.data === undefined) {
      return {
        kind: "failed",
        message: errorMessage(opened.error, opened.response, { 404: NOT_FOUND }),
        // Trying again helps with a flaky server, not with a missing workspace.
        retry: opened.response.status >= 500 || opened.response.status === 429,
      };
    }
    if (!listing.ok) {
      return { kind: "failed", message: listing.message, retry: true };
    }
    return { kind: "ready", workspace: opened.data, files: listing.entries };
  } catch {
    return { kind: "failed", message: NETWORK_ERROR, retry: true };
  }
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
