"use client";

import dynamic from "next/dynamic";
import { useCallback, useMemo, useState } from "react";
import type { Tab } from "@/hooks/useEditorTabs";
import { dataKind, decodeLegacyText, isCsv } from "@/lib/dataFiles";
import { downloadUrl } from "@/lib/files";
import { formatBytes } from "@/lib/format";
import { ErrorMessage } from "./ErrorMessage";
import { LoadingState } from "./LoadingState";

const CsvTable = dynamic(() => import("./CsvTable"), { ssr: false });

/**
 * An image from bytes in memory, through a blob URL that lives exactly as
 * long as the element shows these bytes (made and revoked by the ref).
 */
function BlobImage({ bytes, type, alt }: { bytes: ArrayBuffer; type: string; alt: string }) {
  const attach = useCallback(
    (image: HTMLImageElement | null) => {
      if (image === null) {
        return;
      }
      const url = URL.createObjectURL(new Blob([bytes], { type }));
      image.src = url;
      return () => URL.revokeObjectURL(url);
    },
    [bytes, type],
  );
  return <img ref={attach} alt={alt} className="max-w-full rounded border border-line bg-white" />;
}

/** A CSV in another encoding than UTF-8 (read-only here): as a table, or as its text. */
function LegacyCsv({ path, bytes }: { path: string; bytes: ArrayBuffer }) {
  const text = useMemo(() => decodeLegacyText(bytes), [bytes]);
  const [asText, setAsText] = useState(false);
  if (!asText) {
    return <CsvTable path={path} text={text} onShowText={() => setAsText(true)} textLabel="View as text" />;
  }
  return (
    <div className="absolute inset-0 flex flex-col">
      <div className="flex items-center gap-3 border-b border-line px-3 py-1.5 text-sm text-fg-muted">
        <p className="min-w-0 flex-1">Not UTF-8 text, so it is shown read-only (as Windows-1252).</p>
        <button type="button" className="btn-secondary py-1" onClick={() => setAsText(false)}>
          View as table
        </button>
      </div>
      <pre className="min-h-0 flex-1 overflow-auto p-3 font-mono text-xs">{text}</pre>
    </div>
  );
}

/**
 * What the editor area shows for a tab that is not editable text: a
 * spinner while it loads, the error when it could not be read, the picture
 * for an image (PNG, JPEG or GIF, known by its bytes; never SVG), a table for
 * a CSV in another encoding, or a download button with the size and type.
 * The binary is never opened as text. Loaded on demand (React.lazy in the
 * IDE, which shows a loading tab's spinner itself so this chunk is not
 * fetched for it).
 */
export function FilePreview({ workspaceId, tab, onRetry }: { workspaceId: string; tab: Tab; onRetry: () => void }) {
  if (tab.kind === "loading") {
    return <LoadingState label={`Opening ${tab.path}…`} className="h-full" />;
  }
  if (tab.kind === "error" || tab.bytes === null) {
    return (
      <div className="p-6">
        <ErrorMessage message={tab.error ?? "The file could not be opened."} onRetry={onRetry} />
      </div>
    );
  }
  const kind = dataKind(tab.bytes);
  const download = (
    <a className="btn-secondary" href={downloadUrl(workspaceId, tab.path)} download>
      Download {tab.path}
    </a>
  );
  if (kind.image !== null) {
    return (
      <div className="flex h-full flex-col items-center gap-4 overflow-auto p-6" data-testid="image-view">
        <BlobImage bytes={tab.bytes} type={kind.image} alt={tab.path} />
        {download}
      </div>
    );
  }
  if (isCsv(tab.path) && kind.label === "Binary file") {
    return <LegacyCsv path={tab.path} bytes={tab.bytes} />;
  }
  return (
    <div className="flex h-full flex-col items-center justify-center gap-4 p-6 text-center text-sm text-fg-muted">
      <p>
        {tab.path}: {kind.label}, {formatBytes(tab.bytes.byteLength)}. It is not text, so it is not opened in the editor.
      </p>
      {download}
    </div>
  );
}

export default FilePreview;
