"use client";

import { useRef, useState, type DragEvent } from "react";
import type { Workspace } from "@/api/client";
import { importAsWorkspace, nameFromZip } from "@/lib/archives";

/**
 * "Import zip": a zip dropped here, or picked with the button, becomes a new
 * workspace named after the file. The server checks the zip whole before it
 * creates anything, and its sentence is shown as it is when it refuses.
 * Loaded on demand (next/dynamic) by the dashboard.
 */
export default function ImportZip({ onImported }: { onImported: (workspace: Workspace) => void }) {
  const picker = useRef<HTMLInputElement>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [over, setOver] = useState(false);

  async function importFile(file: File) {
    setError(null);
    setBusy(file.name);
    const result = await importAsWorkspace(nameFromZip(file.name), file);
    setBusy(null);
    if (result.ok) {
      onImported(result.workspace);
    } else {
      setError(result.message);
    }
  }

  function drop(event: DragEvent) {
    event.preventDefault();
    setOver(false);
    const file = event.dataTransfer.files[0];
    if (file !== undefined && busy === null) {
      void importFile(file);
    }
  }

  return (
    <div
      data-testid="import-zip-drop"
      className={`mt-4 rounded-lg border border-dashed px-3 py-3 text-sm text-fg-muted ${over ? "border-accent bg-accent/5" : "border-line"}`}
      onDragOver={(event) => {
        if (event.dataTransfer.types.includes("Files")) {
          event.preventDefault();
          event.dataTransfer.dropEffect = "copy";
          setOver(true);
        }
      }}
      onDragLeave={() => setOver(false)}
      onDrop={drop}
    >
      <div className="flex flex-wrap items-center gap-3">
        <p className="min-w-0 flex-1">Drop a zip here to import it as a new workspace.</p>
        <button type="button" className="btn-secondary py-1.5" disabled={busy !== null} onClick={() => picker.current?.click()}>
          {busy !== null ? "Importing…" : "Import zip"}
        </button>
        <input
          ref={picker}
          type="file"
          accept=".zip,application/zip"
          hidden
          data-testid="import-zip-picker"
          onChange={(event) => {
            const file = event.target.files?.[0];
            event.target.value = "";
            if (file !== undefined) {
              void importFile(file);
            }
          }}
        />
      </div>
      {busy !== null && (
        <p role="status" className="mt-2">
          Importing {busy}…
        </p>
      )}
      {error !== null && (
        <p role="alert" className="mt-2 text-danger">
          {error}
        </p>
      )}
    </div>
  );
}
