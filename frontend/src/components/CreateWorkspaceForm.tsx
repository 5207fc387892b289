"use client";

import { useState, type FormEvent } from "react";
import type { Workspace } from "@/api/client";
import { createWorkspace } from "@/lib/workspaces";
import { ErrorMessage } from "./ErrorMessage";

const MAX_NAME = 100;

/** `POST /api/workspaces {name}`; reports the new workspace to the parent. */
export function CreateWorkspaceForm({ onCreated }: { onCreated: (workspace: Workspace) => void }) {
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const trimmed = name.trim();
    if (trimmed === "") {
      setError("Give the workspace a name.");
      return;
    }
    setBusy(true);
    setError(null);
    const result = await createWorkspace(trimmed);
    if (result.ok) {
      setName("");
      onCreated(result.workspace);
    } else {
      setError(result.message);
    }
    setBusy(false);
  }

  return (
    <form onSubmit={(event) => void submit(event)} noValidate className="space-y-2" aria-label="New workspace">
      <label htmlFor="workspace-name" className="block text-sm font-medium">
        New workspace
      </label>
      <div className="flex gap-2">
        <input
          id="workspace-name"
          name="name"
          className="input"
          placeholder="e.g. week-3-pandas"
          value={name}
          onChange={(event) => setName(event.target.value)}
          maxLength={MAX_NAME}
          autoComplete="off"
          aria-invalid={error !== null ? true : undefined}
          aria-describedby={error !== null ? "workspace-name-error" : undefined}
        />
        <button type="submit" className="btn-primary shrink-0" disabled={busy}>
          {busy ? "Creating…" : "Create"}
        </button>
      </div>
      {error !== null && <ErrorMessage id="workspace-name-error" message={error} />}
    </form>
  );
}
