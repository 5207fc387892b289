"use client";

import { useCallback, useEffect, useState } from "react";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { api, errorMessage, NETWORK_ERROR, type FileEntry, type Workspace } from "@/api/client";
import { ErrorMessage } from "./ErrorMessage";
import { FileList } from "./FileList";
import { LoadingState } from "./LoadingState";

type State =
  | { kind: "loading" }
  | { kind: "ready"; workspace: Workspace; files: FileEntry[] }
  | { kind: "failed"; message: string; retry: boolean };

const NOT_FOUND = "This workspace does not exist, or it is not yours.";

/**
 * The workspace page (`/workspace/?id=...`: a static export has no dynamic
 * routes, so the id is a query parameter). For now: name and file list. The
 * IDE will mount its editor and terminal in the marked regions, as client-only
 * components (`next/dynamic` with `ssr: false`) so their code loads only here.
 */
export function WorkspaceView() {
  const id = useSearchParams().get("id");
  const [state, setState] = useState<State>({ kind: "loading" });

  const load = useCallback(async (workspaceId: string) => {
    setState({ kind: "loading" });
    try {
      const path = { workspace_id: workspaceId };
      const [meta, listing] = await Promise.all([
        api.GET("/api/workspaces/{workspace_id}", { params: { path } }),
        api.GET("/api/workspaces/{workspace_id}/files", { params: { path } }),
      ]);
      if (meta.data !== undefined && listing.data !== undefined) {
        setState({ kind: "ready", workspace: meta.data, files: listing.data });
        return;
      }
      const failed = meta.data === undefined ? meta : listing;
      setState({
        kind: "failed",
        message: errorMessage(failed.error, failed.response, { 404: NOT_FOUND }),
        // Trying again helps with a flaky server, not with a missing workspace.
        retry: failed.response.status >= 500 || failed.response.status === 429,
      });
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
    if (id) {
      void load(id);
    }
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

  const { workspace, files } = state;
  return (
    <main className="flex min-h-0 flex-1 flex-col">
      <div className="flex items-center gap-3 border-b border-line px-4 py-2">
        <Link href="/" className="text-sm text-fg-muted hover:text-fg hover:underline">
          Workspaces
        </Link>
        <span aria-hidden="true" className="text-fg-muted">
          /
        </span>
        <h1 className="truncate text-sm font-semibold">{workspace.name}</h1>
      </div>
      <div className="grid min-h-0 flex-1 grid-cols-1 md:grid-cols-[16rem_1fr]">
        <nav aria-label="Files" className="min-h-0 overflow-auto border-b border-line bg-surface md:border-r md:border-b-0">
          <h2 className="px-3 pt-3 pb-1 text-xs font-semibold tracking-wide text-fg-muted uppercase">Files</h2>
          <FileList files={files} />
        </nav>
        <div className="grid min-h-0 grid-rows-[1fr_14rem]">
          {/* Editor region: CodeMirror 6 goes here (client-only). */}
          <section aria-label="Editor" className="grid place-items-center p-6 text-sm text-fg-muted">
            The editor is coming soon.
          </section>
          {/* Terminal region: xterm.js goes here (client-only). */}
          <section
            aria-label="Terminal"
            className="grid place-items-center border-t border-line bg-surface-muted p-6 text-sm text-fg-muted"
          >
            The terminal is coming soon.
          </section>
        </div>
      </div>
    </main>
  );
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
